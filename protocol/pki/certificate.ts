// X.509 v3 certificates of the card PKI (RFC 5280 profile; ECDSA P-256/SHA-256 only).
// asn1-schema/asn1-x509 encode the structures; parsing walks the input with der-slice so the
// signature is checked over the tbsCertificate bytes exactly as received, and uses asn1-schema
// for the Name and extension values. The helpers at the bottom are shared with crl.ts.
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Extension,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { equalBytes, toHex } from '../bytes.js';
import {
  ecdsaSign,
  ecdsaVerify,
  isValidP256PublicKey,
  P256_PUBLIC_KEY_LENGTH,
  p256PublicKey,
  sha256Digest,
} from '../crypto-suite.js';
import { TerminalError } from '../errors.js';
import {
  encodeTlv,
  expectTag,
  malformed,
  rawOf,
  readBitString,
  readChildren,
  readExtensions,
  readSigned,
  readTime,
  readTlv,
  readUnsignedInteger,
  readWhole,
  TAG,
  type Tlv,
  unsignedIntegerContent,
  valueBytes,
} from './der-slice.js';
import { ATTRIBUTE_NAMES, decodeOid, encodeOid, OID } from './oids.js';

export const HOLDER_ID_LENGTH = 16;
export const MAX_SERIAL_OCTETS = 20; // RFC 5280 §4.1.2.2
const MAX_COMMON_NAME = 64; // ub-common-name, RFC 5280 Appendix A

export interface ParsedCertificate {
  der: Uint8Array;
  tbsDer: Uint8Array;
  serial: bigint;
  issuerName: string;
  subjectName: string;
  notBefore: Date;
  notAfter: Date;
  /** 65-byte uncompressed P-256 point. */
  publicKey: Uint8Array;
  holderId?: Uint8Array;
  /** Contents-issuer ID of an issuer card (seed 000 issuer mode); absent on ordinary cards. */
  issuerRole?: Uint8Array;
  isCa: boolean;
  subjectKeyId?: Uint8Array;
  authorityKeyId?: Uint8Array;
  /** DER ECDSA-Sig-Value. */
  signature: Uint8Array;
}

export interface CaCertificateOptions {
  commonName: string;
  privateKey: Uint8Array;
  serial: bigint;
  notBefore: Date;
  notAfter: Date;
}

export interface CardCertificateOptions {
  caPrivateKey: Uint8Array;
  caCertificateDer: Uint8Array;
  holderId: Uint8Array;
  cardPublicKey: Uint8Array;
  serial: bigint;
  notBefore: Date;
  notAfter: Date;
  commonName?: string;
  /** Makes an issuer card: the 16-byte ID of the contents issuer it acts for. */
  issuerRole?: Uint8Array;
}

/** Self-signed CA: basicConstraints CA:TRUE and keyUsage keyCertSign+cRLSign (both critical), SKI. */
export function createCaCertificate(options: CaCertificateOptions): Uint8Array {
  const publicKey = publicKeyOf(options.privateKey, 'CA private key');
  const name = buildName([[OID.commonName, utf8(checkCommonName(options.commonName))]]);
  const tbs = buildTbs(options.serial, name, name, options.notBefore, options.notAfter, publicKey, [
    extension(OID.basicConstraints, true, AsnConvert.serialize(new BasicConstraints({ cA: true }))),
    extension(OID.keyUsage, true, keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(publicKey))),
  ]);
  return signTbs(tbs, options.privateKey);
}

/**
 * Card certificate issued by the CA: CA:FALSE, keyUsage digitalSignature+keyAgreement (critical),
 * SKI, AKI = CA's SKI and the holder-ID extension; subject serialNumber = holder ID in hex.
 */
export function issueCardCertificate(options: CardCertificateOptions): Uint8Array {
  const issuer = loadIssuer(options.caCertificateDer, options.caPrivateKey);
  const { holderId, cardPublicKey } = options;
  if (!(holderId instanceof Uint8Array) || holderId.length !== HOLDER_ID_LENGTH) {
    invalidInput(`holderId must be ${HOLDER_ID_LENGTH} bytes`);
  }
  if (!(cardPublicKey instanceof Uint8Array) || cardPublicKey.length !== P256_PUBLIC_KEY_LENGTH) {
    invalidInput('cardPublicKey must be a 65-byte uncompressed P-256 point');
  }
  if (!isValidP256PublicKey(cardPublicKey)) invalidInput('cardPublicKey is not a valid P-256 point');
  if (options.issuerRole !== undefined && options.issuerRole.length !== HOLDER_ID_LENGTH) {
    invalidInput(`issuerRole must be ${HOLDER_ID_LENGTH} bytes`);
  }
  const subject: [string, AttributeValue][] = [];
  if (options.commonName !== undefined) {
    subject.push([OID.commonName, utf8(checkCommonName(options.commonName))]);
  }
  // X.520 serialNumber is a PrintableString; hex digits fit.
  subject.push([OID.serialNumber, new AttributeValue({ printableString: toHex(holderId) })]);
  const tbs = buildTbs(
    options.serial,
    issuer.name,
    buildName(subject),
    options.notBefore,
    options.notAfter,
    cardPublicKey,
    [
      extension(OID.basicConstraints, true, AsnConvert.serialize(new BasicConstraints({ cA: false }))),
      extension(OID.keyUsage, true, keyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyAgreement)),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(cardPublicKey))),
      extension(OID.authorityKeyIdentifier, false, authorityKeyIdentifier(issuer.keyId)),
      extension(OID.holderId, false, octetString(holderId)),
      ...(options.issuerRole ? [extension(OID.issuerRole, false, octetString(options.issuerRole))] : []),
    ],
  );
  return signTbs(tbs, options.caPrivateKey);
}

/** Parses a DER certificate. Throws TerminalError (E_PKI_MALFORMED / E_PKI_UNSUPPORTED) only. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  return decodeCertificate(der).cert;
}

/** ECDSA P-256/SHA-256 over the tbsCertificate bytes as received. Never throws. */
export function verifyCertificateSignature(cert: ParsedCertificate, issuerPublicKey: Uint8Array): boolean {
  return ecdsaVerify(issuerPublicKey, cert.tbsDer, cert.signature);
}

/** Parse + CA signature + validity at `at` + card profile (holder ID present, not a CA). */
export function checkCardCertificate(
  der: Uint8Array,
  options: { caPublicKey: Uint8Array; at: Date },
): ParsedCertificate {
  if (!(options.at instanceof Date) || Number.isNaN(options.at.getTime()))
    invalidInput('at is not a valid Date');
  const cert = parseCertificate(der);
  const serial = cert.serial.toString();
  if (!verifyCertificateSignature(cert, options.caPublicKey)) {
    throw new TerminalError('E_PKI_SIGNATURE', 'card certificate does not verify against the CA key', {
      serial,
    });
  }
  const at = options.at.getTime();
  // RFC 5280 §4.1.2.5: the validity period includes both notBefore and notAfter.
  if (at < cert.notBefore.getTime() || at > cert.notAfter.getTime()) {
    throw new TerminalError('E_PKI_EXPIRED', 'card certificate is outside its validity period', {
      serial,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
    });
  }
  if (cert.isCa) {
    throw new TerminalError('E_PKI_UNSUPPORTED', 'a CA certificate is not a card certificate', { serial });
  }
  if (!cert.holderId) {
    throw new TerminalError('E_PKI_MALFORMED', 'card certificate has no holder-ID extension', { serial });
  }
  return cert;
}

// ---- Parsing ----

interface DecodedCertificate {
  cert: ParsedCertificate;
  subjectDer: Uint8Array;
}

function decodeCertificate(input: Uint8Array): DecodedCertificate {
  if (!(input instanceof Uint8Array)) malformed('certificate must be a Uint8Array');
  const der = input.slice(); // private copy: all returned slices point into it
  const signed = readSigned(der, 'certificate');
  requireEcdsaSha256(der, signed.algorithm, 'certificate');
  const fields = readChildren(der, signed.tbs);
  const field = (index: number, what: string): Tlv =>
    fields[index] ?? malformed(`tbsCertificate: missing ${what}`);

  const version = field(0, 'version');
  if (version.tag !== 0xa0) malformed('not an X.509 v3 certificate (version field absent)');
  const versionValue = readTlv(der, version.valueStart, version.end);
  if (versionValue.end !== version.end || readUnsignedInteger(der, versionValue, 1, 'version') !== 2n) {
    malformed('not an X.509 v3 certificate');
  }
  const serial = readUnsignedInteger(der, field(1, 'serialNumber'), MAX_SERIAL_OCTETS, 'serialNumber');
  requireSameAlgorithm(der, field(2, 'signature'), signed.algorithm, 'certificate');
  const issuer = field(3, 'issuer');
  const [notBefore, notAfter] = readValidity(der, field(4, 'validity'));
  const subject = field(5, 'subject');
  const publicKey = readPublicKey(der, field(6, 'subjectPublicKeyInfo'));

  // issuerUniqueID [1], subjectUniqueID [2] (IMPLICIT BIT STRINGs), extensions [3]: optional, in order.
  let extensions: Tlv | undefined;
  let previous = -1;
  for (const f of fields.slice(7)) {
    const order = [0x81, 0x82, 0xa3].indexOf(f.tag);
    if (order <= previous) malformed('tbsCertificate: unexpected or repeated field');
    previous = order;
    if (f.tag === 0xa3) extensions = f;
  }

  const cert: ParsedCertificate = {
    der,
    tbsDer: rawOf(der, signed.tbs),
    serial,
    issuerName: formatName(rawOf(der, expectSequence(issuer, 'issuer')), 'issuer'),
    subjectName: formatName(rawOf(der, expectSequence(subject, 'subject')), 'subject'),
    notBefore,
    notAfter,
    publicKey,
    isCa: false,
    signature: signed.signature.slice(),
  };
  if (extensions) applyExtensions(cert, der, extensions);
  return { cert, subjectDer: rawOf(der, subject) };
}

function expectSequence(tlv: Tlv, what: string): Tlv {
  expectTag(tlv, TAG.SEQUENCE, what);
  return tlv;
}

function readValidity(der: Uint8Array, validity: Tlv): [Date, Date] {
  expectTag(validity, TAG.SEQUENCE, 'validity');
  const times = readChildren(der, validity);
  if (times.length !== 2) malformed('validity: expected notBefore and notAfter');
  return [readTime(der, times[0]!, 'notBefore'), readTime(der, times[1]!, 'notAfter')];
}

const EC_P256_ALGORITHM_DER = encodeTlv(TAG.SEQUENCE, [
  encodeTlv(TAG.OID, encodeOid(OID.ecPublicKey)),
  encodeTlv(TAG.OID, encodeOid(OID.prime256v1)),
]);

function readPublicKey(der: Uint8Array, spki: Tlv): Uint8Array {
  expectTag(spki, TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const parts = readChildren(der, spki);
  if (parts.length !== 2) malformed('subjectPublicKeyInfo: expected algorithm and key');
  const [algorithm, key] = parts as [Tlv, Tlv];
  expectTag(algorithm, TAG.SEQUENCE, 'subjectPublicKeyInfo algorithm');
  if (!equalBytes(rawOf(der, algorithm), EC_P256_ALGORITHM_DER)) {
    throw new TerminalError('E_PKI_UNSUPPORTED', 'subject key is not an EC P-256 (namedCurve) key', {
      algorithm: algorithmName(der, algorithm),
    });
  }
  const point = readBitString(der, key, 'subjectPublicKey');
  if (point.length === 33 && (point[0] === 2 || point[0] === 3)) {
    throw new TerminalError('E_PKI_UNSUPPORTED', 'compressed P-256 points are not accepted');
  }
  if (point.length !== P256_PUBLIC_KEY_LENGTH || !isValidP256PublicKey(point)) {
    malformed('subjectPublicKey is not a valid uncompressed P-256 point');
  }
  return point.slice();
}

function applyExtensions(cert: ParsedCertificate, der: Uint8Array, wrapper: Tlv): void {
  const list = readTlv(der, wrapper.valueStart, wrapper.end);
  if (list.end !== wrapper.end) malformed('extensions: trailing bytes');
  for (const ext of readExtensions(der, list, 'extensions')) {
    const oid = decodeOid(ext.oid) ?? malformed('extensions: invalid extnID');
    switch (oid) {
      case OID.basicConstraints:
        cert.isCa = asn1Parse(ext.value, BasicConstraints, 'basicConstraints').cA;
        break;
      case OID.keyUsage:
        asn1Parse(ext.value, KeyUsage, 'keyUsage'); // recognised (so it may be critical); form checked only
        break;
      case OID.subjectKeyIdentifier:
        cert.subjectKeyId = readOctetString(ext.value, 'subjectKeyIdentifier');
        break;
      case OID.authorityKeyIdentifier: {
        const keyId = asn1Parse(ext.value, AuthorityKeyIdentifier, 'authorityKeyIdentifier').keyIdentifier;
        if (keyId) cert.authorityKeyId = new Uint8Array(keyId.buffer.slice(0));
        break;
      }
      case OID.holderId:
        cert.holderId = readOctetString(ext.value, 'holderId');
        if (cert.holderId.length !== HOLDER_ID_LENGTH) malformed('holderId must be 16 bytes');
        break;
      case OID.issuerRole:
        cert.issuerRole = readOctetString(ext.value, 'issuerRole');
        if (cert.issuerRole.length !== HOLDER_ID_LENGTH) malformed('issuerRole must be 16 bytes');
        break;
      default:
        // RFC 5280 §4.2: a certificate with an unrecognised critical extension must be rejected.
        if (ext.critical) {
          throw new TerminalError('E_PKI_UNSUPPORTED', `unsupported critical extension ${oid}`);
        }
    }
  }
}

function readOctetString(value: Uint8Array, what: string): Uint8Array {
  return valueBytes(value, readWhole(value, TAG.OCTET_STRING, what)).slice();
}

// ---- Building (also used by issuer-host/pki for the host's TLS certificate) ----

export function buildTbs(
  serial: bigint,
  issuer: Name,
  subject: Name,
  notBefore: Date,
  notAfter: Date,
  publicKey: Uint8Array,
  extensions: Extension[],
): Uint8Array {
  const validity = new Validity({
    notBefore: checkDate(notBefore, 'notBefore'),
    notAfter: checkDate(notAfter, 'notAfter'),
  });
  if (notAfter.getTime() < notBefore.getTime()) invalidInput('notAfter is before notBefore');
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(checkSerial(serial, 'serial')),
    signature: new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 }), // parameters absent (RFC 5758)
    issuer,
    validity,
    subject,
    subjectPublicKeyInfo: new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({
        algorithm: OID.ecPublicKey,
        parameters: toArrayBuffer(encodeTlv(TAG.OID, encodeOid(OID.prime256v1))),
      }),
      subjectPublicKey: toArrayBuffer(publicKey),
    }),
    extensions: new Extensions(extensions),
  });
  return new Uint8Array(AsnConvert.serialize(tbs));
}

export function buildName(attributes: [string, AttributeValue][]): Name {
  return new Name(
    attributes.map(
      ([type, value]) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value })]),
    ),
  );
}

export function utf8(text: string): AttributeValue {
  return new AttributeValue({ utf8String: text });
}

export function extension(extnID: string, critical: boolean, value: ArrayBuffer | Uint8Array): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(value) });
}

export function keyUsage(flags: number): ArrayBuffer {
  return AsnConvert.serialize(new KeyUsage(flags));
}

export function octetString(bytes: Uint8Array): ArrayBuffer {
  return AsnConvert.serialize(new OctetString(bytes));
}

/** RFC 7093 §2 method 1: leftmost 160 bits of SHA-256 over the subjectPublicKey bits. */
export function keyIdentifier(publicKey: Uint8Array): Uint8Array {
  return sha256Digest(publicKey).slice(0, 20);
}

function checkCommonName(commonName: unknown): string {
  if (typeof commonName !== 'string' || commonName.length < 1 || commonName.length > MAX_COMMON_NAME) {
    invalidInput(`commonName must be 1..${MAX_COMMON_NAME} characters`);
  }
  return commonName;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}

// ---- Shared with crl.ts ----

export function invalidInput(message: string): never {
  throw new TerminalError('E_INPUT_INVALID', message);
}

export const ECDSA_SHA256_ALGORITHM_DER = encodeTlv(
  TAG.SEQUENCE,
  encodeTlv(TAG.OID, encodeOid(OID.ecdsaWithSha256)),
);

/** Certificate/CertificateList ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue BIT STRING }. */
export function signTbs(tbsDer: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const signature = ecdsaSign(privateKey, tbsDer);
  return encodeTlv(TAG.SEQUENCE, [
    tbsDer,
    ECDSA_SHA256_ALGORITHM_DER,
    encodeTlv(TAG.BIT_STRING, [Uint8Array.of(0), signature]),
  ]);
}

/** The outer signatureAlgorithm must be ecdsa-with-SHA256 with absent parameters (RFC 5758 §3.2). */
export function requireEcdsaSha256(der: Uint8Array, algorithm: Tlv, what: string): void {
  if (!equalBytes(rawOf(der, algorithm), ECDSA_SHA256_ALGORITHM_DER)) {
    throw new TerminalError('E_PKI_UNSUPPORTED', `${what}: signature algorithm is not ecdsa-with-SHA256`, {
      algorithm: algorithmName(der, algorithm),
    });
  }
}

/** RFC 5280 §4.1.1.2 / §5.1.1.2: the signed and the unsigned algorithm fields must be identical. */
export function requireSameAlgorithm(der: Uint8Array, inner: Tlv, outer: Tlv, what: string): void {
  expectTag(inner, TAG.SEQUENCE, `${what} tbs signature`);
  if (!equalBytes(rawOf(der, inner), rawOf(der, outer))) {
    throw new TerminalError('E_PKI_UNSUPPORTED', `${what}: inner and outer signature algorithms differ`);
  }
}

function algorithmName(der: Uint8Array, algorithm: Tlv): string {
  try {
    const oid = readChildren(der, algorithm)[0];
    return (oid?.tag === TAG.OID && decodeOid(valueBytes(der, oid))) || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Serial numbers: positive, at most 20 content octets (RFC 5280 §4.1.2.2). */
export function checkSerial(serial: unknown, what: string): Uint8Array {
  if (typeof serial !== 'bigint' || serial < 1n) invalidInput(`${what} must be a positive bigint`);
  const content = unsignedIntegerContent(serial);
  if (content.length > MAX_SERIAL_OCTETS) invalidInput(`${what} is longer than ${MAX_SERIAL_OCTETS} octets`);
  return content;
}

/** A valid Date in 1950..9999. X.509 times have one-second resolution; encoders drop milliseconds. */
export function checkDate(date: unknown, what: string): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) invalidInput(`${what} is not a valid Date`);
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) invalidInput(`${what} must be in the years 1950..9999`);
  return date;
}

/** Runs asn1-schema over `bytes`, which must be exactly one DER value; any failure is E_PKI_MALFORMED. */
export function asn1Parse<T>(bytes: Uint8Array, type: new () => T, what: string): T {
  // Our DER rules first (definite, minimal lengths, nothing trailing); asn1js alone is BER-lenient.
  if (readTlv(bytes, 0).end !== bytes.length) malformed(`${what}: trailing bytes`);
  try {
    return AsnConvert.parse(bytes, type);
  } catch (e) {
    throw new TerminalError(
      'E_PKI_MALFORMED',
      `${what}: ${e instanceof Error ? e.message : 'does not parse'}`,
    );
  }
}

/** RFC 4514 string (last RDN first), e.g. "serialNumber=0A1B...,CN=Card". */
export function formatName(raw: Uint8Array, what: string): string {
  const name = asn1Parse(raw, Name, what);
  return name
    .map((rdn) =>
      rdn.map((atv) => `${ATTRIBUTE_NAMES.get(atv.type) ?? atv.type}=${formatValue(atv.value)}`).join('+'),
    )
    .reverse()
    .join(',');
}

function formatValue(value: AttributeValue): string {
  if (value.anyValue) return `#${toHex(new Uint8Array(value.anyValue))}`;
  return value
    .toString()
    .replace(/[\\"+,;<>\0]/g, (c) => (c === '\0' ? '\\00' : `\\${c}`))
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

/** The CA's subject and key identifier, after checking the private key belongs to the CA certificate. */
export function loadIssuer(
  caCertificateDer: Uint8Array,
  caPrivateKey: Uint8Array,
): { name: Name; keyId: Uint8Array } {
  const { cert, subjectDer } = decodeCertificate(caCertificateDer);
  if (!cert.isCa) invalidInput('caCertificateDer is not a CA certificate');
  if (!equalBytes(publicKeyOf(caPrivateKey, 'caPrivateKey'), cert.publicKey)) {
    invalidInput('caPrivateKey does not match the CA certificate');
  }
  const name = asn1Parse(subjectDer, Name, 'CA subject');
  // Issuer must equal the CA subject byte for byte; refuse a CA name asn1-schema would re-encode.
  if (!equalBytes(new Uint8Array(AsnConvert.serialize(name)), subjectDer)) {
    throw new TerminalError('E_PKI_UNSUPPORTED', 'CA subject name is not canonical DER');
  }
  return { name, keyId: cert.subjectKeyId ?? keyIdentifier(cert.publicKey) };
}

export function authorityKeyIdentifier(keyId: Uint8Array): ArrayBuffer {
  return AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new OctetString(keyId) }));
}

function publicKeyOf(privateKey: Uint8Array, what: string): Uint8Array {
  try {
    return p256PublicKey(privateKey);
  } catch {
    invalidInput(`${what} is not a valid P-256 private key`);
  }
}
