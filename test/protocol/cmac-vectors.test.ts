// NIST SP 800-38B Appendix D.1 (AES-128) example vectors for the value-transfer MAC.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { aesCmac } from '../../protocol/crypto-suite.js';

const KEY = fromHex('2b7e1516 28aed2a6 abf71588 09cf4f3c');
const MESSAGE = fromHex(
  '6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51 30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710',
);

describe('AES-128-CMAC (SP 800-38B D.1)', () => {
  it.each([
    [0, 'bb1d6929 e9593728 7fa37d12 9b756746'],
    [16, '070a16b4 6b4d4144 f79bdd9d d04a287c'],
    [40, 'dfa66747 de9ae630 30ca3261 1497c827'],
    [64, '51f0bebf 7e3b9d92 fc497417 79363cfe'],
  ])('example with Mlen = %i bytes', (length, tag) => {
    expect(toHex(aesCmac(KEY, MESSAGE.subarray(0, length)))).toBe(toHex(fromHex(tag)));
  });

  it('refuses keys that are not 128 bits', () => {
    expect(() => aesCmac(new Uint8Array(15), MESSAGE)).toThrow(RangeError);
  });
});
