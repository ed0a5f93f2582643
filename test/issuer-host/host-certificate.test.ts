// The host's TLS certificate from the issuer's CA: OpenSSL accepts it for a TLS server, it names the
// configured hosts, its pin is what OpenSSL computes, and it can never pass for a card certificate.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIssuer } from '../../card-sim/issuer/issuer.js';
import {
  certificatePem,
  certificatePin,
  generateHostKey,
  issueHostCertificate,
} from '../../issuer-host/pki/host-certificate.js';
import { fromHex } from '../../protocol/bytes.js';
import { generateP256KeyPair } from '../../protocol/crypto-suite.js';
import { isTerminalError } from '../../protocol/errors.js';
import { checkCardCertificate, parseCertificate, toPem } from '../../protocol/pki/index.js';

const dir = mkdtempSync(join(tmpdir(), 'host-cert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const issuer = createIssuer({ name: 'Host Test', currency: 978 });
const ca = { caPrivateKey: fromHex(issuer.caPrivateKey), caCertificateDer: fromHex(issuer.caCertificate) };
const now = new Date();
const validity = {
  notBefore: new Date(now.getTime() - 60_000),
  notAfter: new Date(now.getTime() + 86_400_000),
};
writeFileSync(join(dir, 'ca.pem'), toPem('CERTIFICATE', ca.caCertificateDer));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('host TLS certificate', () => {
  const key = generateHostKey();
  const der = issueHostCertificate({
    ...ca,
    ...validity,
    hostPublicKey: key.publicKey,
    dnsNames: ['localhost', 'Host.Example'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const certPath = write('host.pem', certificatePem(der));

  it('verifies with OpenSSL as a TLS server certificate issued by the issuer CA', () => {
    const out = execFileSync(
      'openssl',
      ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), certPath],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe(`${certPath}: OK`);
    const text = execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/Extended Key Usage:\s*\n\s+TLS Web Server Authentication\n/);
    expect(text).toMatch(
      /DNS:localhost, DNS:host\.example, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/,
    );
    expect(text).toContain('ASN1 OID: prime256v1');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
  });

  it('is not a card certificate and not a CA', () => {
    const parsed = parseCertificate(der);
    expect(parsed.isCa).toBe(false);
    expect(parsed.holderId).toBeUndefined();
    let error: unknown;
    try {
      checkCardCertificate(der, { caPublicKey: parseCertificate(ca.caCertificateDer).publicKey, at: now });
    } catch (e) {
      error = e;
    }
    expect(isTerminalError(error, 'E_PKI_MALFORMED')).toBe(true);
  });

  it('has the same SPKI pin as OpenSSL computes, and the private key OpenSSL reads', () => {
    const keyPath = write('host-key.pem', key.privateKeyPem);
    const openssl = spawnSync(
      'sh',
      [
        '-c',
        'openssl x509 -in "$0" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64',
        certPath,
      ],
      { encoding: 'utf8' },
    );
    expect(certificatePin(certificatePem(der))).toBe(`sha256/${openssl.stdout.trim()}`);
    expect(certificatePin(der)).toBe(certificatePin(certificatePem(der)));
    const pub = execFileSync('openssl', ['pkey', '-in', keyPath, '-pubout', '-outform', 'der']);
    const fromCert = execFileSync('openssl', ['x509', '-in', certPath, '-pubkey', '-noout']);
    const certPub = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: fromCert });
    expect(Buffer.compare(pub, certPub)).toBe(0);
  });

  it('refuses bad names, a key that is not a point, and a CA key that does not match its certificate', () => {
    const base = {
      ...ca,
      ...validity,
      hostPublicKey: key.publicKey,
      dnsNames: ['localhost'],
      ipAddresses: [],
    };
    const refused = (o: Parameters<typeof issueHostCertificate>[0]) => {
      try {
        issueHostCertificate(o);
      } catch (e) {
        return isTerminalError(e, 'E_INPUT_INVALID');
      }
      return false;
    };
    expect(refused({ ...base, dnsNames: ['bad name'] })).toBe(true);
    expect(refused({ ...base, dnsNames: [], ipAddresses: ['300.1.1.1'] })).toBe(true);
    expect(refused({ ...base, dnsNames: [], ipAddresses: [] })).toBe(true);
    expect(refused({ ...base, hostPublicKey: key.publicKey.slice(0, 33) })).toBe(true);
    expect(refused({ ...base, caPrivateKey: generateP256KeyPair().privateKey })).toBe(true);
  });
});
