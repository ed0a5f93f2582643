import { describe, expect, it } from 'vitest';
import { generateP256KeyPair } from '../../../protocol/crypto-suite.js';
import { TerminalError } from '../../../protocol/errors.js';
import {
  type CrlEntry,
  createCaCertificate,
  createCrl,
  parseCertificate,
  parseCrl,
  verifyCrlSignature,
} from '../../../protocol/pki/index.js';

const THIS_UPDATE = new Date('2026-03-01T00:00:00Z');
const NEXT_UPDATE = new Date('2026-03-08T00:00:00Z');

function makeCa() {
  const keys = generateP256KeyPair();
  const der = createCaCertificate({
    commonName: 'CRL Test CA',
    privateKey: keys.privateKey,
    serial: 1n,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
  });
  return { ...keys, der };
}

function makeCrl(ca: ReturnType<typeof makeCa>, revoked: CrlEntry[], crlNumber = 1n): Uint8Array {
  return createCrl({
    caPrivateKey: ca.privateKey,
    caCertificateDer: ca.der,
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
    crlNumber,
    revoked,
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TerminalError) return e.code;
    throw e;
  }
  return undefined;
}

describe('CRL round trip', () => {
  const ca = makeCa();
  const caKeyId = parseCertificate(ca.der).subjectKeyId;

  it('with no entries omits revokedCertificates', () => {
    const der = makeCrl(ca, [], 0n);
    const crl = parseCrl(der);
    expect(crl.issuerName).toBe('CN=CRL Test CA');
    expect(crl.thisUpdate).toEqual(THIS_UPDATE);
    expect(crl.nextUpdate).toEqual(NEXT_UPDATE);
    expect(crl.crlNumber).toBe(0n);
    expect(crl.authorityKeyId).toEqual(caKeyId);
    expect(crl.revoked).toEqual([]);
    expect(verifyCrlSignature(crl, ca.publicKey)).toBe(true);
    // tbsCertList = version, signature, issuer, thisUpdate, nextUpdate, [0] extensions: no empty SEQUENCE.
    expect(Buffer.from(crl.tbsDer).includes(Buffer.from([0x30, 0x00]))).toBe(false);
  });

  it('with one entry', () => {
    const revoked = [{ serial: 0x80n, revokedAt: new Date('2026-02-01T10:20:30Z'), reason: 1 }];
    const crl = parseCrl(makeCrl(ca, revoked, 2n ** 100n));
    expect(crl.revoked).toEqual(revoked);
    expect(crl.crlNumber).toBe(2n ** 100n);
    expect(verifyCrlSignature(crl, ca.publicKey)).toBe(true);
  });

  it('with many entries: serial sizes, both time types, with and without reasons', () => {
    const serials = [1n, 127n, 128n, 255n, 256n, 0xffffffffffffn, 2n ** 48n, 2n ** 64n + 3n, 2n ** 150n];
    const revoked: CrlEntry[] = [];
    for (let i = 0; i < 500; i++) {
      const entry: CrlEntry = {
        serial: serials[i % serials.length]! + BigInt(i) * 1_000_003n,
        revokedAt: new Date(Date.UTC(2000 + (i % 80), i % 12, 1 + (i % 28), i % 24, i % 60, (i * 7) % 60)),
      };
      if (i % 4 !== 0) entry.reason = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10][i % 10]!;
      revoked.push(entry);
    }
    revoked[499]!.serial = 2n ** 159n - 1n; // largest 20-octet positive serial
    const crl = parseCrl(makeCrl(ca, revoked));
    expect(crl.revoked).toEqual(revoked);
    expect(verifyCrlSignature(crl, ca.publicKey)).toBe(true);
  });
});

describe('CRL signatures', () => {
  it('verify with the right CA, not with another CA key, not after one flipped bit in the tbs', () => {
    const ca = makeCa();
    const other = makeCa();
    const der = makeCrl(ca, [{ serial: 0x1234n, revokedAt: new Date('2026-02-01T00:00:00Z') }]);
    const crl = parseCrl(der);
    expect(verifyCrlSignature(crl, ca.publicKey)).toBe(true);
    expect(verifyCrlSignature(crl, other.publicKey)).toBe(false);

    // Flip the lowest bit of the revoked serial (0x1234 -> 0x1235): still parses, no longer verifies.
    const tampered = der.slice();
    const at = Buffer.from(tampered).indexOf(Buffer.from([0x02, 0x02, 0x12, 0x34])) + 3;
    tampered[at]! ^= 0x01;
    const tamperedCrl = parseCrl(tampered);
    expect(tamperedCrl.revoked[0]!.serial).toBe(0x1235n);
    expect(verifyCrlSignature(tamperedCrl, ca.publicKey)).toBe(false);
  });
});

describe('createCrl input checks', () => {
  const ca = makeCa();
  const base = {
    caPrivateKey: ca.privateKey,
    caCertificateDer: ca.der,
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
    crlNumber: 1n,
    revoked: [] as CrlEntry[],
  };
  const at = new Date('2026-01-01T00:00:00Z');

  it.each([
    ['serial 0', { revoked: [{ serial: 0n, revokedAt: at }] }],
    ['21-octet serial', { revoked: [{ serial: 2n ** 159n, revokedAt: at }] }],
    ['reason 7', { revoked: [{ serial: 1n, revokedAt: at, reason: 7 }] }],
    ['invalid revokedAt', { revoked: [{ serial: 1n, revokedAt: new Date(Number.NaN) }] }],
    ['nextUpdate before thisUpdate', { nextUpdate: new Date('2026-02-01T00:00:00Z') }],
    ['negative crlNumber', { crlNumber: -1n }],
    ['another key than the CA certificate', { caPrivateKey: generateP256KeyPair().privateKey }],
  ])('refuses %s with E_INPUT_INVALID', (_, change) => {
    expect(codeOf(() => createCrl({ ...base, ...change }))).toBe('E_INPUT_INVALID');
  });
});

describe('large CRL', () => {
  it('creates and parses 100,000 entries', () => {
    const ca = makeCa();
    const count = 100_000;
    const revoked: CrlEntry[] = new Array(count);
    const start = Date.UTC(2025, 0, 1);
    for (let i = 0; i < count; i++) {
      revoked[i] = {
        serial: 0x10_0000_0000n + BigInt(i) * 7919n,
        revokedAt: new Date(start + i * 60_000),
        reason: i % 3 === 0 ? 1 : undefined,
      };
    }
    const crl = parseCrl(makeCrl(ca, revoked, 99n));
    expect(crl.revoked.length).toBe(count);
    for (const i of [0, 1, 2, 31_337, 99_999]) expect(crl.revoked[i]).toEqual(revoked[i]);
    expect(crl.revoked[99_999]!.serial).toBe(0x10_0000_0000n + 99_999n * 7919n);
    expect(verifyCrlSignature(crl, ca.publicKey)).toBe(true);
  });
});
