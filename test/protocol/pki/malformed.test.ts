// Hostile input: every outcome of parseCertificate/parseCrl is a result or a TerminalError.
import { describe, expect, it } from 'vitest';
import { concat, fromHex } from '../../../protocol/bytes.js';
import { generateP256KeyPair } from '../../../protocol/crypto-suite.js';
import { TerminalError } from '../../../protocol/errors.js';
import {
  createCaCertificate,
  createCrl,
  issueCardCertificate,
  parseCertificate,
  parseCrl,
  verifyCertificateSignature,
  verifyCrlSignature,
} from '../../../protocol/pki/index.js';

const ca = generateP256KeyPair();
const caDer = createCaCertificate({
  commonName: 'Fuzz CA',
  privateKey: ca.privateKey,
  serial: 1n,
  notBefore: new Date('2025-01-01T00:00:00Z'),
  notAfter: new Date('2035-01-01T00:00:00Z'),
});
const cardDer = issueCardCertificate({
  caPrivateKey: ca.privateKey,
  caCertificateDer: caDer,
  holderId: fromHex('0102030405060708090A0B0C0D0E0F10'),
  cardPublicKey: generateP256KeyPair().publicKey,
  serial: 0x80n,
  notBefore: new Date('2025-01-01T00:00:00Z'),
  notAfter: new Date('2030-01-01T00:00:00Z'),
  commonName: 'Fuzz Card',
});
const crlDer = createCrl({
  caPrivateKey: ca.privateKey,
  caCertificateDer: caDer,
  thisUpdate: new Date('2026-01-01T00:00:00Z'),
  nextUpdate: new Date('2026-01-08T00:00:00Z'),
  crlNumber: 3n,
  revoked: [
    { serial: 0x80n, revokedAt: new Date('2025-12-01T00:00:00Z'), reason: 1 },
    { serial: 2n ** 100n, revokedAt: new Date('2051-01-01T00:00:00Z') },
    { serial: 5n, revokedAt: new Date('2025-12-02T00:00:00Z'), reason: 4 },
  ],
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TerminalError) return e.code;
    throw e; // anything else fails the test
  }
  return undefined;
}

/** Replaces the first (or last) occurrence of `from` (hex) by `to`; the pattern must exist. */
function patch(der: Uint8Array, from: string, to: string, { last = false } = {}): Uint8Array {
  const haystack = Buffer.from(der);
  const needle = Buffer.from(fromHex(from));
  const at = last ? haystack.lastIndexOf(needle) : haystack.indexOf(needle);
  if (at < 0) throw new Error(`pattern ${from} not found`);
  return concat(der.subarray(0, at), fromHex(to), der.subarray(at + needle.length));
}

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ECDSA_SHA256_OID = '06082a8648ce3d040302';
const ECDSA_SHA384_OID = '06082a8648ce3d040303';

describe('malformed certificates', () => {
  it('truncated DER is E_PKI_MALFORMED', () => {
    for (const length of [0, 1, 2, 10, cardDer.length - 1]) {
      expect(codeOf(() => parseCertificate(cardDer.subarray(0, length)))).toBe('E_PKI_MALFORMED');
    }
  });

  it('trailing bytes after the certificate are E_PKI_MALFORMED', () => {
    expect(codeOf(() => parseCertificate(concat(cardDer, Uint8Array.of(0))))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => parseCertificate(concat(cardDer, cardDer)))).toBe('E_PKI_MALFORMED');
  });

  it('random bytes are E_PKI_MALFORMED', () => {
    const random = prng(1);
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 600) }, () => Math.floor(random() * 256));
      if (i % 2 === 0 && bytes.length > 4) bytes.set([0x30, 0x82, bytes.length >> 8, bytes.length & 0xff]);
      expect(codeOf(() => parseCertificate(bytes))).toBe('E_PKI_MALFORMED');
      expect(codeOf(() => parseCrl(bytes))).toBe('E_PKI_MALFORMED');
    }
  });

  it('non-DER lengths are E_PKI_MALFORMED', () => {
    const body = cardDer.subarray(4); // cardDer starts 30 82 xx xx
    expect(cardDer[1]).toBe(0x82);
    const indefinite = concat(Uint8Array.of(0x30, 0x80), body, Uint8Array.of(0, 0));
    const tooLong = concat(Uint8Array.of(0x30, 0x84, 0, 0, cardDer[2]!, cardDer[3]!), body);
    expect(codeOf(() => parseCertificate(indefinite))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => parseCertificate(tooLong))).toBe('E_PKI_MALFORMED');
  });

  it('a wrong version, a negative serial or a duplicate extension is E_PKI_MALFORMED', () => {
    expect(codeOf(() => parseCertificate(patch(cardDer, 'a003020102', 'a003020101')))).toBe(
      'E_PKI_MALFORMED',
    );
    expect(codeOf(() => parseCertificate(patch(cardDer, '02020080', '0202ff80')))).toBe('E_PKI_MALFORMED');
    // SKI's OID (2.5.29.14) rewritten to AKI's (2.5.29.35): two AKI extensions.
    expect(codeOf(() => parseCertificate(patch(cardDer, '0603551d0e', '0603551d23')))).toBe(
      'E_PKI_MALFORMED',
    );
    expect(codeOf(() => parseCertificate(crlDer))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => parseCertificate('30' as unknown as Uint8Array))).toBe('E_PKI_MALFORMED');
  });

  it('other algorithms, mismatched algorithm fields and unknown critical extensions are E_PKI_UNSUPPORTED', () => {
    const innerSha384 = patch(cardDer, ECDSA_SHA256_OID, ECDSA_SHA384_OID);
    const outerSha384 = patch(cardDer, ECDSA_SHA256_OID, ECDSA_SHA384_OID, { last: true });
    const bothSha384 = patch(innerSha384, ECDSA_SHA256_OID, ECDSA_SHA384_OID);
    expect(codeOf(() => parseCertificate(innerSha384))).toBe('E_PKI_UNSUPPORTED');
    expect(codeOf(() => parseCertificate(outerSha384))).toBe('E_PKI_UNSUPPORTED');
    expect(codeOf(() => parseCertificate(bothSha384))).toBe('E_PKI_UNSUPPORTED');
    // keyUsage (critical) rewritten to an OID we do not know (2.5.29.42).
    expect(codeOf(() => parseCertificate(patch(cardDer, '0603551d0f', '0603551d2a')))).toBe(
      'E_PKI_UNSUPPORTED',
    );
    // Same but non-critical (SKI -> 2.5.29.42) is ignored.
    expect(parseCertificate(patch(cardDer, '0603551d0e', '0603551d2a')).subjectKeyId).toBeUndefined();
  });
});

describe('malformed CRLs', () => {
  it('truncated, trailing and misplaced input is E_PKI_MALFORMED', () => {
    for (const length of [0, 3, crlDer.length - 1]) {
      expect(codeOf(() => parseCrl(crlDer.subarray(0, length)))).toBe('E_PKI_MALFORMED');
    }
    expect(codeOf(() => parseCrl(concat(crlDer, Uint8Array.of(0xff))))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => parseCrl(cardDer))).toBe('E_PKI_MALFORMED');
  });

  it('a bad reason code, a negative serial or a v3 version is E_PKI_MALFORMED', () => {
    expect(codeOf(() => parseCrl(patch(crlDer, '0a0104', '0a0107')))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => parseCrl(patch(crlDer, '02020080', '0202ff80')))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => parseCrl(patch(crlDer, '020101', '020102')))).toBe('E_PKI_MALFORMED');
  });

  it('unknown critical CRL or entry extensions and mismatched algorithms are E_PKI_UNSUPPORTED', () => {
    // Same-length rewrites of reasonCode (entry) and cRLNumber (CRL) into a critical 2.5.29.42 with an
    // empty value: 06 03 55 1d 2a | 01 01 ff | 04 00.
    const criticalUnknown = '300a0603551d2a0101ff0400';
    expect(codeOf(() => parseCrl(patch(crlDer, '300a0603551d1504030a0101', criticalUnknown)))).toBe(
      'E_PKI_UNSUPPORTED',
    );
    expect(codeOf(() => parseCrl(patch(crlDer, '300a0603551d140403020103', criticalUnknown)))).toBe(
      'E_PKI_UNSUPPORTED',
    );
    // Non-critical unknown entry extensions are ignored.
    expect(parseCrl(patch(crlDer, '0603551d15', '0603551d2a')).revoked[0]!.reason).toBeUndefined();
    const mismatched = patch(crlDer, ECDSA_SHA256_OID, ECDSA_SHA384_OID);
    expect(codeOf(() => parseCrl(mismatched))).toBe('E_PKI_UNSUPPORTED');
  });
});

describe('mutation fuzzing', () => {
  const PKI_CODES = ['E_PKI_MALFORMED', 'E_PKI_UNSUPPORTED'];

  function mutate(input: Uint8Array, random: () => number): Uint8Array {
    const at = Math.floor(random() * input.length);
    const byte = Math.floor(random() * 256);
    switch (Math.floor(random() * 6)) {
      case 0: {
        const out = input.slice();
        out[at]! ^= 1 << Math.floor(random() * 8);
        return out;
      }
      case 1: {
        const out = input.slice();
        out[at] = byte;
        return out;
      }
      case 2:
        return input.subarray(0, at);
      case 3:
        return concat(input.subarray(0, at), Uint8Array.of(byte), input.subarray(at));
      case 4:
        return concat(input.subarray(0, at), input.subarray(at + 1));
      default: {
        // A few mutations at once, as a corrupted transfer might produce.
        let out = input;
        for (let k = 0; k < 3; k++) out = mutate(out, random);
        return out;
      }
    }
  }

  it.each([
    ['certificate', cardDer, parseCertificate, verifyCertificateSignature],
    ['CRL', crlDer, parseCrl, verifyCrlSignature],
  ] as const)('every mutated %s parses or throws a PKI TerminalError', (_, der, parse, verify) => {
    const random = prng(0x5eed);
    let parsed = 0;
    for (let i = 0; i < 400; i++) {
      const input = mutate(der, random);
      try {
        const result = parse(input);
        parsed++;
        expect(typeof verify(result as never, ca.publicKey)).toBe('boolean');
      } catch (e) {
        expect(e).toBeInstanceOf(TerminalError);
        expect(PKI_CODES).toContain((e as TerminalError).code);
      }
    }
    // Flips inside signatures or string values still parse; most mutations do not.
    expect(parsed).toBeGreaterThan(0);
    expect(parsed).toBeLessThan(400);
  });
});
