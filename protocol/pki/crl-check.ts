// Checks that a CRL is its CA's, in the form the project relies on: issuer name and authority key
// identifier of the CA, CA signature, cRLNumber (to order CRLs) and nextUpdate (to know freshness).
// The issuer host checks every uploaded CRL with it before distributing it.
import { equalBytes, toHex } from '../bytes.js';
import { sha256Digest } from '../crypto-suite.js';
import { TerminalError } from '../errors.js';
import type { ParsedCertificate } from './certificate.js';
import { type ParsedCrl, parseCrl, verifyCrlSignature } from './crl.js';

export type CheckedCrl = ParsedCrl & { crlNumber: bigint; nextUpdate: Date };

/** The key identifier protocol/pki writes into AKIs: the CA's SKI, else RFC 7093 method 1. */
export function caKeyIdentifier(ca: ParsedCertificate): Uint8Array {
  return ca.subjectKeyId ?? sha256Digest(ca.publicKey).slice(0, 20);
}

/**
 * Parses `der` and checks it against the CA. Throws E_PKI_MALFORMED / E_PKI_UNSUPPORTED (does not
 * parse, or lacks cRLNumber / nextUpdate) and E_PKI_SIGNATURE (another CA, or a signature that does
 * not verify with the CA key).
 */
export function checkCrlOfCa(der: Uint8Array, ca: ParsedCertificate): CheckedCrl {
  const crl = parseCrl(der);
  if (crl.issuerName !== ca.subjectName) {
    throw new TerminalError('E_PKI_SIGNATURE', 'the CRL was issued by another CA', {
      issuer: crl.issuerName,
      expectedIssuer: ca.subjectName,
    });
  }
  const keyId = caKeyIdentifier(ca);
  if (crl.authorityKeyId !== undefined && !equalBytes(crl.authorityKeyId, keyId)) {
    throw new TerminalError('E_PKI_SIGNATURE', 'the CRL names another CA key (authority key identifier)', {
      authorityKeyId: toHex(crl.authorityKeyId),
      expectedKeyId: toHex(keyId),
    });
  }
  if (!verifyCrlSignature(crl, ca.publicKey)) {
    throw new TerminalError('E_PKI_SIGNATURE', 'the CRL signature does not verify against the CA key', {
      issuer: crl.issuerName,
    });
  }
  const { crlNumber, nextUpdate } = crl;
  if (crlNumber === undefined) {
    throw new TerminalError('E_PKI_UNSUPPORTED', 'the CRL has no cRLNumber: it cannot be ordered');
  }
  if (nextUpdate === undefined) {
    throw new TerminalError('E_PKI_UNSUPPORTED', 'the CRL has no nextUpdate: its freshness is unknown');
  }
  return Object.assign(crl, { crlNumber, nextUpdate });
}
