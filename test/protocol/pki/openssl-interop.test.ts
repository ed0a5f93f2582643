// Interop with the real `openssl` binary in both directions: OpenSSL verifies what we issue, and we
// parse and verify what `openssl req` / `openssl ca` issue.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateP256KeyPair } from '../../../protocol/crypto-suite.js';
import { TerminalError } from '../../../protocol/errors.js';
import {
  type CrlEntry,
  checkCardCertificate,
  createCaCertificate,
  createCrl,
  fromPem,
  issueCardCertificate,
  OID,
  parseCertificate,
  parseCrl,
  toPem,
  verifyCertificateSignature,
  verifyCrlSignature,
} from '../../../protocol/pki/index.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pki-openssl-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs openssl in the temp dir; returns its exit status and stdout+stderr. stderr goes through a file
 * because OpenSSL 3.0 prints "verify OK" / "verify failure" there and exits 0 either way.
 */
function openssl(args: string[]): { status: number; output: string } {
  const stderrPath = join(dir, 'openssl-stderr.txt');
  const stderr = openSync(stderrPath, 'w');
  let status = 0;
  let stdout = '';
  try {
    stdout = execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', stderr] });
  } catch (e) {
    const failure = e as { status?: number | null; stdout?: string };
    status = failure.status ?? -1;
    stdout = failure.stdout ?? '';
  } finally {
    closeSync(stderr);
  }
  return { status, output: stdout + readFileSync(stderrPath, 'utf8') };
}

/** openssl() for setup steps, which must succeed. */
function run(args: string[]): string {
  const result = openssl(args);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.output}`);
  return result.output;
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

function write(name: string, text: string): void {
  writeFileSync(join(dir, name), text);
}

function read(name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

describe('OpenSSL accepts our certificates and CRLs', () => {
  const now = Date.now();
  const hour = 3600_000;
  const ca = generateP256KeyPair();
  const caDer = createCaCertificate({
    commonName: 'Settlement Interop CA',
    privateKey: ca.privateKey,
    serial: 1n,
    notBefore: new Date(now - hour),
    notAfter: new Date(now + 365 * 24 * hour),
  });
  const issue = (serial: bigint, holderByte: number) =>
    issueCardCertificate({
      caPrivateKey: ca.privateKey,
      caCertificateDer: caDer,
      holderId: new Uint8Array(16).fill(holderByte),
      cardPublicKey: generateP256KeyPair().publicKey,
      serial,
      notBefore: new Date(now - hour),
      notAfter: new Date(now + 30 * 24 * hour),
      commonName: `Card ${serial}`,
    });
  const crlFor = (revoked: CrlEntry[]) =>
    createCrl({
      caPrivateKey: ca.privateKey,
      caCertificateDer: caDer,
      thisUpdate: new Date(now - hour),
      nextUpdate: new Date(now + 24 * hour),
      crlNumber: 7n,
      revoked,
    });

  beforeAll(() => {
    write('ca.pem', toPem('CERTIFICATE', caDer));
    write('revoked-card.pem', toPem('CERTIFICATE', issue(0x1001n, 0xab)));
    write('good-card.pem', toPem('CERTIFICATE', issue(0xf002n, 0xcd))); // top bit set: leading 0x00
    write(
      'crl.pem',
      toPem('X509 CRL', crlFor([{ serial: 0x1001n, revokedAt: new Date(now - 60_000), reason: 1 }])),
    );
    write('empty-crl.pem', toPem('X509 CRL', crlFor([])));
  });

  it('openssl verify accepts our CA and card certificates', () => {
    const result = openssl(['verify', '-CAfile', 'ca.pem', 'revoked-card.pem', 'good-card.pem']);
    expect(result.output).toContain('revoked-card.pem: OK');
    expect(result.output).toContain('good-card.pem: OK');
    expect(result.status).toBe(0);
  });

  it('openssl x509 -text shows the profile, the holder-ID extension and serialNumber', () => {
    const text = run(['x509', '-in', 'revoked-card.pem', '-noout', '-text']);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Agreement/);
    expect(text).toContain('X509v3 Subject Key Identifier');
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(text).toContain(`${OID.holderId}: \n`); // non-critical: no "critical" after the OID
    expect(text).toContain(`serialNumber = ${'AB'.repeat(16)}`);
    const caText = run(['x509', '-in', 'ca.pem', '-noout', '-text']);
    expect(caText).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(caText).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
  });

  it('openssl crl verifies our CRL signature, with and without entries', () => {
    for (const crl of ['crl.pem', 'empty-crl.pem']) {
      const result = openssl(['crl', '-in', crl, '-CAfile', 'ca.pem', '-noout']);
      expect(result.output).toContain('verify OK');
      expect(result.status).toBe(0);
    }
    const text = run(['crl', '-in', 'empty-crl.pem', '-noout', '-text']);
    expect(text).toContain('No Revoked Certificates.');
    expect(text).toMatch(/CRL Number:\s+7/);
  });

  it('openssl verify -crl_check reports the revoked card as revoked and passes the other', () => {
    const revoked = openssl([
      'verify',
      '-crl_check',
      '-CRLfile',
      'crl.pem',
      '-CAfile',
      'ca.pem',
      'revoked-card.pem',
    ]);
    expect(revoked.output).toContain('certificate revoked');
    expect(revoked.status).not.toBe(0);
    const good = openssl([
      'verify',
      '-crl_check',
      '-CRLfile',
      'crl.pem',
      '-CAfile',
      'ca.pem',
      'good-card.pem',
    ]);
    expect(good.output).toContain('good-card.pem: OK');
    expect(good.status).toBe(0);
  });
});

describe('we accept certificates and CRLs made by OpenSSL', () => {
  const CA_CONFIG = `[ ca ]
default_ca = test_ca

[ test_ca ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ossl-ca.pem
private_key = $dir/ossl-ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 7
policy = policy_any
unique_subject = no
x509_extensions = leaf_ext
crl_extensions = crl_ext

[ policy_any ]
commonName = supplied

[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ crl_ext ]
authorityKeyIdentifier = keyid:always
`;

  beforeAll(() => {
    mkdirSync(join(dir, 'newcerts'));
    write('ca.cnf', CA_CONFIG);
    write('index.txt', '');
    write('serial', '3A5F01\n');
    write('crlnumber', '0100\n');
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ossl-ca.key']);
    run([
      'req',
      '-x509',
      '-new',
      '-key',
      'ossl-ca.key',
      '-subj',
      '/CN=OpenSSL Test CA',
      '-days',
      '30',
      '-out',
      'ossl-ca.pem',
    ]);
    for (const name of ['leaf', 'other']) {
      const key = [
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${name}.key`,
      ];
      run(['req', '-new', ...key, '-subj', `/CN=OpenSSL ${name}`, '-out', `${name}.csr`]);
      run(['ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext']);
    }
    run(['ca', '-config', 'ca.cnf', '-revoke', 'leaf.pem', '-crl_reason', 'keyCompromise']);
    run(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'ossl-crl.pem']);
  });

  it('parses the OpenSSL CA certificate', () => {
    const caCert = parseCertificate(fromPem(read('ossl-ca.pem')));
    expect(caCert.isCa).toBe(true);
    expect(caCert.subjectName).toBe('CN=OpenSSL Test CA');
    expect(caCert.issuerName).toBe('CN=OpenSSL Test CA');
    expect(caCert.publicKey.length).toBe(65);
    expect(verifyCertificateSignature(caCert, caCert.publicKey)).toBe(true);
  });

  it('parses and verifies OpenSSL-issued EC P-256 certificates', () => {
    const caCert = parseCertificate(fromPem(read('ossl-ca.pem')));
    const leaf = parseCertificate(fromPem(read('leaf.pem')));
    expect(leaf.serial).toBe(0x3a5f01n);
    expect(leaf.issuerName).toBe('CN=OpenSSL Test CA');
    expect(leaf.subjectName).toBe('CN=OpenSSL leaf');
    expect(leaf.isCa).toBe(false);
    expect(leaf.holderId).toBeUndefined();
    expect(leaf.authorityKeyId).toEqual(caCert.subjectKeyId);
    expect(verifyCertificateSignature(leaf, caCert.publicKey)).toBe(true);
    expect(verifyCertificateSignature(parseCertificate(fromPem(read('other.pem'))), caCert.publicKey)).toBe(
      true,
    );
    // A valid certificate, but not a card certificate: it has no holder ID.
    const check = () =>
      checkCardCertificate(fromPem(read('leaf.pem')), { caPublicKey: caCert.publicKey, at: new Date() });
    expect(codeOf(check)).toBe('E_PKI_MALFORMED');
  });

  it('parses and verifies a CRL made by openssl ca -gencrl', () => {
    const caCert = parseCertificate(fromPem(read('ossl-ca.pem')));
    const crl = parseCrl(fromPem(read('ossl-crl.pem'), 'X509 CRL'));
    expect(verifyCrlSignature(crl, caCert.publicKey)).toBe(true);
    expect(verifyCrlSignature(crl, generateP256KeyPair().publicKey)).toBe(false);
    expect(crl.issuerName).toBe('CN=OpenSSL Test CA');
    expect(crl.crlNumber).toBe(0x100n);
    expect(crl.authorityKeyId).toEqual(caCert.subjectKeyId);
    expect(crl.revoked).toHaveLength(1);
    expect(crl.revoked[0]).toMatchObject({ serial: 0x3a5f01n, reason: 1 });
    expect(crl.nextUpdate!.getTime() - crl.thisUpdate.getTime()).toBe(7 * 24 * 3600_000);
  });

  it('rejects an OpenSSL RSA certificate and an EC P-384 certificate as E_PKI_UNSUPPORTED', () => {
    const self = ['-x509', '-nodes', '-days', '1', '-sha256'];
    run(['req', ...self, '-newkey', 'rsa:2048', '-keyout', 'rsa.key', '-subj', '/CN=RSA', '-out', 'rsa.pem']);
    const p384 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-keyout', 'p384.key'];
    run(['req', ...self, ...p384, '-subj', '/CN=P384', '-out', 'p384.pem']);
    expect(codeOf(() => parseCertificate(fromPem(read('rsa.pem'))))).toBe('E_PKI_UNSUPPORTED');
    expect(codeOf(() => parseCertificate(fromPem(read('p384.pem'))))).toBe('E_PKI_UNSUPPORTED');
  });
});
