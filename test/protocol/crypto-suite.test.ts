import { describe, expect, it } from 'vitest';
import { ascii, fromHex } from '../../protocol/bytes.js';
import {
  aeadOpen,
  aeadSeal,
  aesCmac,
  type CryptoOperation,
  ecdsaSign,
  ecdsaVerify,
  eciesOpen,
  eciesSeal,
  generateP256KeyPair,
  randomBytes,
  sha256Digest,
  withCryptoMeter,
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

describe('crypto meter', () => {
  const counter = () => {
    const seen: string[] = [];
    return {
      seen,
      count: (op: CryptoOperation, bytes: number, aad = 0) =>
        seen.push(`${op}:${bytes}${aad ? `+${aad}` : ''}`),
    };
  };

  it('counts each primitive with its sizes while active, and nothing outside', () => {
    const m = counter();
    const key = randomBytes(16);
    const pair = generateP256KeyPair();
    const result = withCryptoMeter(m, () => {
      aesCmac(key, new Uint8Array(40));
      sha256Digest(new Uint8Array(100));
      const signature = ecdsaSign(pair.privateKey, new Uint8Array(70));
      ecdsaVerify(pair.publicKey, new Uint8Array(70), signature);
      return aeadSeal(key, new Uint8Array(20), new Uint8Array(30));
    });
    expect(result.length).toBe(12 + 20 + 16);
    expect(m.seen).toEqual([
      'aes-cmac:40',
      'sha256:100',
      'ecdsa-sign:70',
      'ecdsa-verify:70',
      'aes-gcm:20+30',
      'random:12', // the GCM nonce
    ]);
    aesCmac(key, new Uint8Array(16)); // no meter active: not counted anywhere
    expect(m.seen).toHaveLength(6);
  });

  it('breaks ECIES into its parts on both sides', () => {
    const recipient = generateP256KeyPair();
    const m = counter();
    const sealed = withCryptoMeter(m, () =>
      eciesSeal(recipient.publicKey, new Uint8Array(40), ascii('ctx'), ascii('aad')),
    );
    expect(m.seen.map((s) => s.split(':')[0])).toEqual([
      'p256-keygen',
      'ecdh',
      'hkdf-sha256',
      'aes-gcm',
      'random',
    ]);
    const o = counter();
    withCryptoMeter(o, () => eciesOpen(recipient.privateKey, sealed, ascii('ctx'), ascii('aad')));
    expect(o.seen.map((s) => s.split(':')[0])).toEqual([
      'p256-point-check',
      'p256-public-key',
      'ecdh',
      'hkdf-sha256',
      'aes-gcm',
    ]);
  });

  it('counts into the innermost meter only, and restores the outer one', () => {
    const outer = counter();
    const inner = counter();
    withCryptoMeter(outer, () => {
      randomBytes(1);
      withCryptoMeter(inner, () => randomBytes(2));
      randomBytes(3);
    });
    expect(outer.seen).toEqual(['random:1', 'random:3']);
    expect(inner.seen).toEqual(['random:2']);
  });
});
