import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { generateP256KeyPair, sha256Digest } from '../../../protocol/crypto-suite.js';
import { isTerminalError, TerminalError } from '../../../protocol/errors.js';
import {
  checkCardCertificate,
  createCaCertificate,
  issueCardCertificate,
  parseCertificate,
  verifyCertificateSignature,
} from '../../../protocol/pki/index.js';

const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2035-01-01T00:00:00Z');
const HOLDER_ID = fromHex('00112233445566778899AABBCCDDEEFF');

function makeCa(commonName = 'Settlement Test CA') {
  const keys = generateP256KeyPair();
  const der = createCaCertificate({
    commonName,
    privateKey: keys.privateKey,
    serial: 1n,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  return { ...keys, der };
}

function makeCard(ca: ReturnType<typeof makeCa>, overrides: { serial?: bigint; commonName?: string } = {}) {
  const keys = generateP256KeyPair();
  const der = issueCardCertificate({
    caPrivateKey: ca.privateKey,
    caCertificateDer: ca.der,
    holderId: HOLDER_ID,
    cardPublicKey: keys.publicKey,
    serial: overrides.serial ?? 0x80n,
    notBefore: new Date('2025-06-01T12:00:00Z'),
    notAfter: new Date('2030-06-01T12:00:00Z'),
    commonName: overrides.commonName,
  });
  return { ...keys, der };
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

describe('CA certificate', () => {
  it('round-trips through parseCertificate', () => {
    const ca = makeCa();
    const cert = parseCertificate(ca.der);
    expect(cert.serial).toBe(1n);
    expect(cert.issuerName).toBe('CN=Settlement Test CA');
    expect(cert.subjectName).toBe('CN=Settlement Test CA');
    expect(cert.notBefore).toEqual(NOT_BEFORE);
    expect(cert.notAfter).toEqual(NOT_AFTER);
    expect(cert.publicKey).toEqual(ca.publicKey);
    expect(cert.isCa).toBe(true);
    expect(cert.holderId).toBeUndefined();
    expect(cert.authorityKeyId).toBeUndefined();
    // RFC 7093 method 1: leftmost 160 bits of SHA-256 over the key.
    expect(cert.subjectKeyId).toEqual(sha256Digest(ca.publicKey).slice(0, 20));
    expect(cert.der).toEqual(ca.der);
    expect(verifyCertificateSignature(cert, ca.publicKey)).toBe(true);
  });

  it('encodes years from 2050 as GeneralizedTime and drops milliseconds', () => {
    const keys = generateP256KeyPair();
    const der = createCaCertificate({
      commonName: 'Long CA',
      privateKey: keys.privateKey,
      serial: 2n,
      notBefore: new Date('2049-12-31T23:59:59.750Z'),
      notAfter: new Date('2070-05-06T07:08:09.500Z'),
    });
    const cert = parseCertificate(der);
    expect(cert.notBefore).toEqual(new Date('2049-12-31T23:59:59Z'));
    expect(cert.notAfter).toEqual(new Date('2070-05-06T07:08:09Z'));
    expect(toHex(der)).toContain(toHex(new TextEncoder().encode('20700506070809Z')));
  });

  it('refuses invalid inputs with E_INPUT_INVALID', () => {
    const { privateKey } = generateP256KeyPair();
    const base = { commonName: 'CA', privateKey, serial: 1n, notBefore: NOT_BEFORE, notAfter: NOT_AFTER };
    expect(codeOf(() => createCaCertificate({ ...base, serial: 0n }))).toBe('E_INPUT_INVALID');
    expect(codeOf(() => createCaCertificate({ ...base, serial: -5n }))).toBe('E_INPUT_INVALID');
    expect(codeOf(() => createCaCertificate({ ...base, serial: 2n ** 159n }))).toBe('E_INPUT_INVALID'); // 21 octets
    expect(codeOf(() => createCaCertificate({ ...base, serial: 2n ** 159n - 1n }))).toBeUndefined(); // 20 octets
    expect(codeOf(() => createCaCertificate({ ...base, commonName: '' }))).toBe('E_INPUT_INVALID');
    expect(codeOf(() => createCaCertificate({ ...base, privateKey: new Uint8Array(32) }))).toBe(
      'E_INPUT_INVALID',
    );
    expect(codeOf(() => createCaCertificate({ ...base, notAfter: new Date('x') }))).toBe('E_INPUT_INVALID');
    expect(codeOf(() => createCaCertificate({ ...base, notBefore: NOT_AFTER, notAfter: NOT_BEFORE }))).toBe(
      'E_INPUT_INVALID',
    );
  });
});

describe('card certificate', () => {
  it('round-trips through parseCertificate', () => {
    const ca = makeCa();
    const card = makeCard(ca, { commonName: 'Card 42' });
    const cert = parseCertificate(card.der);
    const caCert = parseCertificate(ca.der);
    expect(cert.serial).toBe(0x80n); // high bit set: encoded with a leading 0x00
    expect(cert.issuerName).toBe('CN=Settlement Test CA');
    expect(cert.subjectName).toBe('serialNumber=00112233445566778899AABBCCDDEEFF,CN=Card 42');
    expect(cert.notBefore).toEqual(new Date('2025-06-01T12:00:00Z'));
    expect(cert.notAfter).toEqual(new Date('2030-06-01T12:00:00Z'));
    expect(cert.publicKey).toEqual(card.publicKey);
    expect(cert.holderId).toEqual(HOLDER_ID);
    expect(cert.isCa).toBe(false);
    expect(cert.subjectKeyId).toEqual(sha256Digest(card.publicKey).slice(0, 20));
    expect(cert.authorityKeyId).toEqual(caCert.subjectKeyId);
    expect(cert.tbsDer.length).toBeLessThan(cert.der.length);
  });

  it('omits the CN when no commonName is given and escapes RFC 4514 specials', () => {
    const ca = makeCa('Test, "Quoted" CA');
    expect(parseCertificate(makeCard(ca).der).subjectName).toBe(
      'serialNumber=00112233445566778899AABBCCDDEEFF',
    );
    expect(parseCertificate(ca.der).subjectName).toBe('CN=Test\\, \\"Quoted\\" CA');
  });

  it('parses a certificate held in a subarray of a larger buffer', () => {
    const ca = makeCa();
    const card = makeCard(ca);
    const padded = new Uint8Array(card.der.length + 20);
    padded.set(card.der, 7);
    const cert = parseCertificate(padded.subarray(7, 7 + card.der.length));
    expect(verifyCertificateSignature(cert, ca.publicKey)).toBe(true);
  });

  it('refuses a CA key that does not match the CA certificate, a non-CA issuer and bad card inputs', () => {
    const ca = makeCa();
    const card = makeCard(ca);
    const { publicKey } = generateP256KeyPair();
    const base = {
      caPrivateKey: ca.privateKey,
      caCertificateDer: ca.der,
      holderId: HOLDER_ID,
      cardPublicKey: publicKey,
      serial: 7n,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
    };
    expect(codeOf(() => issueCardCertificate(base))).toBeUndefined();
    expect(
      codeOf(() => issueCardCertificate({ ...base, caPrivateKey: generateP256KeyPair().privateKey })),
    ).toBe('E_INPUT_INVALID');
    expect(codeOf(() => issueCardCertificate({ ...base, caCertificateDer: card.der }))).toBe(
      'E_INPUT_INVALID',
    );
    expect(codeOf(() => issueCardCertificate({ ...base, holderId: new Uint8Array(15) }))).toBe(
      'E_INPUT_INVALID',
    );
    expect(codeOf(() => issueCardCertificate({ ...base, cardPublicKey: publicKey.subarray(0, 33) }))).toBe(
      'E_INPUT_INVALID',
    );
    const offCurve = publicKey.slice();
    offCurve[64]! ^= 1;
    expect(codeOf(() => issueCardCertificate({ ...base, cardPublicKey: offCurve }))).toBe('E_INPUT_INVALID');
    expect(codeOf(() => issueCardCertificate({ ...base, caCertificateDer: new Uint8Array(3) }))).toBe(
      'E_PKI_MALFORMED',
    );
  });
});

describe('certificate signatures', () => {
  it('verify with the right CA, not with another CA key, not after one flipped bit in the tbs', () => {
    const ca = makeCa();
    const other = makeCa();
    const card = makeCard(ca, { commonName: 'Card 42' });
    const cert = parseCertificate(card.der);
    expect(verifyCertificateSignature(cert, ca.publicKey)).toBe(true);
    expect(verifyCertificateSignature(cert, other.publicKey)).toBe(false);
    expect(verifyCertificateSignature(cert, new Uint8Array(65))).toBe(false);

    // Flip one bit inside the subject CN ("Card 42" -> "Card 43"): still parses, no longer verifies.
    const tampered = card.der.slice();
    const at = toHex(tampered).indexOf(toHex(new TextEncoder().encode('Card 42'))) / 2 + 6;
    tampered[at]! ^= 0x01;
    const tamperedCert = parseCertificate(tampered);
    expect(tamperedCert.subjectName).toContain('CN=Card 43');
    expect(verifyCertificateSignature(tamperedCert, ca.publicKey)).toBe(false);

    const flippedTbs = cert.tbsDer.slice();
    flippedTbs[flippedTbs.length - 1]! ^= 0x80;
    expect(verifyCertificateSignature({ ...cert, tbsDer: flippedTbs }, ca.publicKey)).toBe(false);
  });
});

describe('checkCardCertificate', () => {
  const ca = makeCa();
  const card = makeCard(ca);
  const at = new Date('2026-01-01T00:00:00Z');

  it('accepts a valid card certificate', () => {
    const cert = checkCardCertificate(card.der, { caPublicKey: ca.publicKey, at });
    expect(cert.holderId).toEqual(HOLDER_ID);
  });

  it('includes both ends of the validity period', () => {
    const ok = (when: string) =>
      checkCardCertificate(card.der, { caPublicKey: ca.publicKey, at: new Date(when) });
    expect(ok('2025-06-01T12:00:00Z').serial).toBe(0x80n);
    expect(ok('2030-06-01T12:00:00Z').serial).toBe(0x80n);
  });

  it('reports E_PKI_SIGNATURE, E_PKI_EXPIRED and rejects CA certificates', () => {
    const other = makeCa();
    expect(codeOf(() => checkCardCertificate(card.der, { caPublicKey: other.publicKey, at }))).toBe(
      'E_PKI_SIGNATURE',
    );
    for (const when of ['2025-06-01T11:59:59Z', '2030-06-01T12:00:01Z']) {
      expect(
        codeOf(() => checkCardCertificate(card.der, { caPublicKey: ca.publicKey, at: new Date(when) })),
      ).toBe('E_PKI_EXPIRED');
    }
    expect(codeOf(() => checkCardCertificate(ca.der, { caPublicKey: ca.publicKey, at }))).toBe(
      'E_PKI_UNSUPPORTED',
    );
    try {
      checkCardCertificate(card.der, { caPublicKey: other.publicKey, at });
    } catch (e) {
      expect(isTerminalError(e, 'E_PKI_SIGNATURE') && e.details).toEqual({ serial: '128' });
    }
  });
});
