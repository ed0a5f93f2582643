// Card PKI: X.509 v3 card/CA certificates and X.509 v2 CRLs, ECDSA P-256/SHA-256 only.
export {
  type CaCertificateOptions,
  type CardCertificateOptions,
  checkCardCertificate,
  createCaCertificate,
  HOLDER_ID_LENGTH,
  issueCardCertificate,
  type ParsedCertificate,
  parseCertificate,
  verifyCertificateSignature,
} from './certificate.js';
export {
  type CrlEntry,
  type CrlOptions,
  createCrl,
  type ParsedCrl,
  parseCrl,
  verifyCrlSignature,
} from './crl.js';
export { type CheckedCrl, caKeyIdentifier, checkCrlOfCa } from './crl-check.js';
export { OID } from './oids.js';
export { fromPem, toPem } from './pem.js';
