import { describe, expect, it } from 'vitest';
import { ascii, fromHex } from '../../protocol/bytes.js';
import {
  aeadOpen,
  aeadSeal,
  ecdsaSign,
  ecdsaVerify,
  eciesOpen,
  eciesSeal,
  generateP256KeyPair,
  randomBytes,
} from '../../protocol/crypto-suite.js';

describe('AES-128-GCM key transport', () => {
  const key = randomBytes(16);
  const aad = ascii('context');

  it('opens what it sealed, with fresh nonces', () => {
    const a = aeadSeal(key, ascii('transfer key'), aad);
    const b = aeadSeal(key, ascii('transfer key'), aad);
    expect(a).not.toEqual(b);
    expect(aeadOpen(key, a, aad)).toEqual(ascii('transfer key'));
  });

  it('rejects every single-bit modification, a wrong AAD, a wrong key and truncation', () => {
    const sealed = aeadSeal(key, ascii('transfer key'), aad);
    for (let i = 0; i < sealed.length * 8; i++) {
      const bad = sealed.slice();
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(aeadOpen(key, bad, aad)).toBeUndefined();
    }
    expect(aeadOpen(key, sealed, ascii('other'))).toBeUndefined();
    expect(aeadOpen(randomBytes(16), sealed, aad)).toBeUndefined();
    expect(aeadOpen(key, sealed.subarray(0, 20), aad)).toBeUndefined();
  });
});

describe('ECIES P-256 and ECDSA', () => {
  const recipient = generateP256KeyPair();
  const ctx = ascii('ctx');

  it('round-trips and rejects tampering or the wrong recipient', () => {
    const sealed = eciesSeal(recipient.publicKey, ascii('keys'), ctx, ctx);
    expect(eciesOpen(recipient.privateKey, sealed, ctx, ctx)).toEqual(ascii('keys'));
    expect(eciesOpen(generateP256KeyPair().privateKey, sealed, ctx, ctx)).toBeUndefined();
    expect(eciesOpen(recipient.privateKey, sealed, ascii('other'), ctx)).toBeUndefined();
    const bad = sealed.slice();
    bad[70]! ^= 1;
    expect(eciesOpen(recipient.privateKey, bad, ctx, ctx)).toBeUndefined();
    const badPoint = sealed.slice();
    badPoint[5]! ^= 1; // ephemeral key no longer on the curve
    expect(eciesOpen(recipient.privateKey, badPoint, ctx, ctx)).toBeUndefined();
  });

  it('signs and verifies; garbage verifies false instead of throwing', () => {
    const sig = ecdsaSign(recipient.privateKey, ascii('m'));
    expect(ecdsaVerify(recipient.publicKey, ascii('m'), sig)).toBe(true);
    expect(ecdsaVerify(recipient.publicKey, ascii('n'), sig)).toBe(false);
    expect(ecdsaVerify(recipient.publicKey, ascii('m'), fromHex('3000'))).toBe(false);
    expect(ecdsaVerify(fromHex('04'), ascii('m'), sig)).toBe(false);
  });
});
