// The issuer host's TLS server certificate, issued by the issuer's own CA (the card CA of
// card-sim/issuer): P-256 key generated with @noble, CA:FALSE, keyUsage digitalSignature (critical),
// extendedKeyUsage serverAuth, subjectAltName with the host's DNS names and IP addresses, SKI and
// AKI, ECDSA-with-SHA256. It carries no holder-ID extension, so it is never mistaken for a card
// certificate (checkCardCertificate refuses it). Its serial is random (64 bits and more), so issuing
// it needs nothing from the issuer state but the CA key and certificate.
//
// Terminals pin the key (docs/issuer-host.md), so the certificate can be renewed for the same key
// with no change on the terminals.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  ExtendedKeyUsage,
  GeneralName,
  id_ce_extKeyUsage,
  id_ce_subjectAltName,
  id_kp_serverAuth,
  KeyUsageFlags,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import {
  generateP256KeyPair,
  isValidP256PublicKey,
  type KeyPair,
  randomBytes,
} from '../../protocol/crypto-suite.js';
import { TerminalError } from '../../protocol/errors.js';
import { spkiPin } from '../../protocol/host-link/spki-pin.js';
import {
  authorityKeyIdentifier,
  buildName,
  buildTbs,
  extension,
  keyIdentifier,
  keyUsage,
  loadIssuer,
  octetString,
  signTbs,
  utf8,
} from '../../protocol/pki/certificate.js';
import { fromPem, OID, toPem } from '../../protocol/pki/index.js';

export interface HostCertificateOptions {
  caPrivateKey: Uint8Array;
  caCertificateDer: Uint8Array;
  /** 65-byte uncompressed P-256 point of the host's TLS key. */
  hostPublicKey: Uint8Array;
  /** Names the terminals connect to (at least one DNS name or IP address). */
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  notBefore: Date;
  notAfter: Date;
  commonName?: string;
}

const DNS_NAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function issueHostCertificate(options: HostCertificateOptions): Uint8Array {
  const issuer = loadIssuer(options.caCertificateDer, options.caPrivateKey);
  if (!isValidP256PublicKey(options.hostPublicKey) || options.hostPublicKey.length !== 65) {
    invalid('the host key must be a 65-byte uncompressed P-256 point');
  }
  const names: GeneralName[] = [];
  for (const name of options.dnsNames) {
    if (!DNS_NAME.test(name)) invalid(`"${name}" is not a DNS name`);
    names.push(new GeneralName({ dNSName: name.toLowerCase() }));
  }
  for (const ip of options.ipAddresses) {
    if (isIP(ip) === 0) invalid(`"${ip}" is not an IP address`);
    names.push(new GeneralName({ iPAddress: ip }));
  }
  if (names.length === 0) invalid('the host certificate needs at least one DNS name or IP address');
  const commonName = options.commonName ?? options.dnsNames[0] ?? options.ipAddresses[0]!;
  const tbs = buildTbs(
    randomSerial(),
    issuer.name,
    buildName([[OID.commonName, utf8(commonName)]]),
    options.notBefore,
    options.notAfter,
    options.hostPublicKey,
    [
      extension(OID.basicConstraints, true, AsnConvert.serialize(new BasicConstraints({ cA: false }))),
      extension(OID.keyUsage, true, keyUsage(KeyUsageFlags.digitalSignature)),
      extension(id_ce_extKeyUsage, false, AsnConvert.serialize(new ExtendedKeyUsage([id_kp_serverAuth]))),
      extension(id_ce_subjectAltName, false, AsnConvert.serialize(new SubjectAlternativeName(names))),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(options.hostPublicKey))),
      extension(OID.authorityKeyIdentifier, false, authorityKeyIdentifier(issuer.keyId)),
    ],
  );
  return signTbs(tbs, options.caPrivateKey);
}

/** A fresh host key pair (@noble) and its private key as PKCS#8 PEM, the form Node's TLS takes. */
export function generateHostKey(): KeyPair & { privateKeyPem: string } {
  const keys = generateP256KeyPair();
  return { ...keys, privateKeyPem: privateKeyToPem(keys) };
}

/** PKCS#8 PEM of a P-256 key pair (encoding only, through Node's key import). */
export function privateKeyToPem(keys: KeyPair): string {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  const key = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: b64(keys.privateKey),
      x: b64(keys.publicKey.subarray(1, 33)),
      y: b64(keys.publicKey.subarray(33, 65)),
    },
    format: 'jwk',
  });
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The `sha256/<base64>` pin of a certificate's key (PEM or DER). */
export function certificatePin(certificate: string | Uint8Array): string {
  const der = typeof certificate === 'string' ? fromPem(certificate, 'CERTIFICATE') : certificate;
  const spki = new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
  return spkiPin(new Uint8Array(spki));
}

export function certificatePem(der: Uint8Array): string {
  return toPem('CERTIFICATE', der);
}

/** 16 random bytes with the top bit clear: positive, unpredictable, within 20 octets. */
function randomSerial(): bigint {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function invalid(message: string): never {
  throw new TerminalError('E_INPUT_INVALID', message);
}
