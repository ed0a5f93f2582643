// X.509 v2 CRLs of the card PKI (RFC 5280 §5; ECDSA P-256/SHA-256 only). asn1-schema encodes the
// TBSCertList header; the revoked list is encoded and parsed with der-slice because a national card
// population (10^6 entries) would otherwise be built as a giant object graph (asn1js also refuses
// inputs with that many nodes). The signature is checked over tbsCertList bytes as received.
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  Extension,
  TBSCertList,
  Time,
  Version,
} from '@peculiar/asn1-x509';
import { equalBytes } from '../bytes.js';
import { ecdsaVerify } from '../crypto-suite.js';
import { TerminalError } from '../errors.js';
import {
  asn1Parse,
  authorityKeyIdentifier,
  checkDate,
  checkSerial,
  formatName,
  invalidInput,
  loadIssuer,
  MAX_SERIAL_OCTETS,
  requireEcdsaSha256,
  requireSameAlgorithm,
  signTbs,
} from './certificate.js';
import {
  encodeTime,
  encodeTlv,
  expectTag,
  malformed,
  rawOf,
  readChildren,
  readExtensions,
  readSigned,
  readTime,
  readTlv,
  readTlvInto,
  readUnsignedInteger,
  readWhole,
  TAG,
  type Tlv,
  unsignedIntegerContent,
} from './der-slice.js';
import { CRL_REASON_OID_BYTES, decodeOid, encodeOid, OID } from './oids.js';

const MAX_CRL_NUMBER_OCTETS = 20; // RFC 5280 §5.2.3
/** CRLReason values (RFC 5280 §5.3.1); 7 is unused. */
const CRL_REASONS = new Set([0, 1, 2, 3, 4, 5, 6, 8, 9, 10]);

export interface CrlEntry {
  serial: bigint;
  revokedAt: Date;
  reason?: number;
}

export interface ParsedCrl {
  der: Uint8Array;
  tbsDer: Uint8Array;
  issuerName: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: bigint;
  authorityKeyId?: Uint8Array;
  revoked: CrlEntry[];
  /** DER ECDSA-Sig-Value. */
  signature: Uint8Array;
}

export interface CrlOptions {
  caPrivateKey: Uint8Array;
  caCertificateDer: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: bigint;
  revoked: CrlEntry[];
}

/** v2 CRL with AKI and cRLNumber; revokedCertificates omitted when empty (RFC 5280 §5.1.2.6). */
export function createCrl(options: CrlOptions): Uint8Array {
  const issuer = loadIssuer(options.caCertificateDer, options.caPrivateKey);
  const thisUpdate = checkDate(options.thisUpdate, 'thisUpdate');
  const nextUpdate = checkDate(options.nextUpdate, 'nextUpdate');
  if (nextUpdate.getTime() < thisUpdate.getTime()) invalidInput('nextUpdate is before thisUpdate');
  const { crlNumber } = options;
  if (typeof crlNumber !== 'bigint' || crlNumber < 0n) {
    invalidInput('crlNumber must be a non-negative bigint');
  }
  const crlNumberContent = unsignedIntegerContent(crlNumber);
  if (crlNumberContent.length > MAX_CRL_NUMBER_OCTETS) invalidInput('crlNumber is longer than 20 octets');
  if (!Array.isArray(options.revoked)) invalidInput('revoked must be an array');

  const tbs = new TBSCertList({
    version: Version.v2,
    signature: new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 }),
    issuer: issuer.name,
    thisUpdate: new Time(thisUpdate),
    nextUpdate: new Time(nextUpdate),
    crlExtensions: [
      new Extension({
        extnID: OID.authorityKeyIdentifier,
        extnValue: new OctetString(authorityKeyIdentifier(issuer.keyId)),
      }),
      new Extension({
        extnID: OID.cRLNumber,
        extnValue: new OctetString(encodeTlv(TAG.INTEGER, crlNumberContent)),
      }),
    ],
  });
  let tbsDer: Uint8Array = new Uint8Array(AsnConvert.serialize(tbs));
  if (options.revoked.length > 0) tbsDer = insertRevoked(tbsDer, encodeRevoked(options.revoked));
  return signTbs(tbsDer, options.caPrivateKey);
}

/** Parses a DER CRL. Throws TerminalError (E_PKI_MALFORMED / E_PKI_UNSUPPORTED) only. */
export function parseCrl(input: Uint8Array): ParsedCrl {
  if (!(input instanceof Uint8Array)) malformed('CRL must be a Uint8Array');
  const der = input.slice(); // private copy: all returned slices point into it
  const signed = readSigned(der, 'CRL');
  requireEcdsaSha256(der, signed.algorithm, 'CRL');
  const fields = readChildren(der, signed.tbs);
  let i = 0;
  const next = (what: string): Tlv => fields[i++] ?? malformed(`tbsCertList: missing ${what}`);

  let v2 = false;
  if (fields[i]?.tag === TAG.INTEGER) {
    if (readUnsignedInteger(der, next('version'), 1, 'version') !== 1n) malformed('CRL version is not v2');
    v2 = true;
  }
  requireSameAlgorithm(der, next('signature'), signed.algorithm, 'CRL');
  const issuer = next('issuer');
  expectTag(issuer, TAG.SEQUENCE, 'issuer');
  const crl: ParsedCrl = {
    der,
    tbsDer: rawOf(der, signed.tbs),
    issuerName: formatName(rawOf(der, issuer), 'issuer'),
    thisUpdate: readTime(der, next('thisUpdate'), 'thisUpdate'),
    revoked: [],
    signature: signed.signature.slice(),
  };
  if (isTime(fields[i])) crl.nextUpdate = readTime(der, next('nextUpdate'), 'nextUpdate');
  if (fields[i]?.tag === TAG.SEQUENCE) crl.revoked = readRevoked(der, next('revokedCertificates'), v2);
  if (fields[i]?.tag === 0xa0) {
    if (!v2) malformed('crlExtensions require a v2 CRL');
    applyCrlExtensions(crl, der, next('crlExtensions'));
  }
  if (i !== fields.length) malformed('tbsCertList: unexpected field');
  return crl;
}

/** ECDSA P-256/SHA-256 over the tbsCertList bytes as received. Never throws. */
export function verifyCrlSignature(crl: ParsedCrl, caPublicKey: Uint8Array): boolean {
  return ecdsaVerify(caPublicKey, crl.tbsDer, crl.signature);
}

// ---- Revoked list ----

function isTime(tlv: Tlv | undefined): boolean {
  return tlv?.tag === TAG.UTC_TIME || tlv?.tag === TAG.GENERALIZED_TIME;
}

/** The hot loop: one pass over offsets with reused Tlv cursors; one small object per entry. */
function readRevoked(der: Uint8Array, list: Tlv, v2: boolean): CrlEntry[] {
  const out: CrlEntry[] = [];
  const entry = cursor();
  const serial = cursor();
  const time = cursor();
  const extensions = cursor();
  for (let offset = list.valueStart; offset < list.end; offset = entry.end) {
    readTlvInto(entry, der, offset, list.end);
    expectTag(entry, TAG.SEQUENCE, 'revokedCertificate');
    readTlvInto(serial, der, entry.valueStart, entry.end);
    readTlvInto(time, der, serial.end, entry.end);
    const revoked: CrlEntry = {
      serial: readUnsignedInteger(der, serial, MAX_SERIAL_OCTETS, 'revoked serial'),
      revokedAt: readTime(der, time, 'revocationDate'),
    };
    if (time.end < entry.end) {
      if (!v2) malformed('crlEntryExtensions require a v2 CRL');
      readTlvInto(extensions, der, time.end, entry.end);
      if (extensions.end !== entry.end) malformed('revokedCertificate: unexpected field');
      const reason = readEntryExtensions(der, extensions);
      if (reason !== undefined) revoked.reason = reason;
    }
    out.push(revoked);
  }
  return out;
}

function cursor(): Tlv {
  return { tag: 0, start: 0, valueStart: 0, end: 0 };
}

/** crlEntryExtensions holding only a non-critical reasonCode, as we and OpenSSL write it. */
const REASON_ONLY_PREFIX = reasonExtension(0).subarray(0, -1);

function readEntryExtensions(der: Uint8Array, tlv: Tlv): number | undefined {
  // Fast path for the usual single reasonCode; anything else takes the general walk below.
  if (tlv.end - tlv.start === REASON_ONLY_PREFIX.length + 1) {
    let same = true;
    for (let k = 0; k < REASON_ONLY_PREFIX.length && same; k++) {
      same = der[tlv.start + k] === REASON_ONLY_PREFIX[k];
    }
    if (same) return checkReason(der[tlv.end - 1]);
  }
  let reason: number | undefined;
  for (const ext of readExtensions(der, tlv, 'crlEntryExtensions')) {
    if (equalBytes(ext.oid, CRL_REASON_OID_BYTES)) {
      const value = readWhole(ext.value, TAG.ENUMERATED, 'reasonCode');
      reason = checkReason(value.end - value.valueStart === 1 ? ext.value[value.valueStart] : undefined);
    } else if (ext.critical) {
      // RFC 5280 §5.3: a CRL with an unrecognised critical entry extension must not be used.
      throw new TerminalError(
        'E_PKI_UNSUPPORTED',
        `unsupported critical CRL entry extension ${oidText(ext.oid)}`,
      );
    }
  }
  return reason;
}

function checkReason(reason: number | undefined): number {
  if (reason === undefined || !CRL_REASONS.has(reason)) malformed('reasonCode: not a CRLReason');
  return reason;
}

function applyCrlExtensions(crl: ParsedCrl, der: Uint8Array, wrapper: Tlv): void {
  const list = readTlv(der, wrapper.valueStart, wrapper.end);
  if (list.end !== wrapper.end) malformed('crlExtensions: trailing bytes');
  for (const ext of readExtensions(der, list, 'crlExtensions')) {
    const oid = decodeOid(ext.oid) ?? malformed('crlExtensions: invalid extnID');
    if (oid === OID.cRLNumber) {
      const number = readWhole(ext.value, TAG.INTEGER, 'cRLNumber');
      crl.crlNumber = readUnsignedInteger(ext.value, number, MAX_CRL_NUMBER_OCTETS, 'cRLNumber');
    } else if (oid === OID.authorityKeyIdentifier) {
      const keyId = asn1Parse(ext.value, AuthorityKeyIdentifier, 'authorityKeyIdentifier').keyIdentifier;
      if (keyId) crl.authorityKeyId = new Uint8Array(keyId.buffer.slice(0));
    } else if (ext.critical) {
      // e.g. deltaCRLIndicator or issuingDistributionPoint: treating those as a full CRL would be wrong.
      throw new TerminalError('E_PKI_UNSUPPORTED', `unsupported critical CRL extension ${oid}`);
    }
  }
}

function oidText(content: Uint8Array): string {
  return decodeOid(content) ?? 'invalid OID';
}

/** revokedCertificates, written straight into one buffer (no per-entry TLV allocations). */
function encodeRevoked(revoked: readonly CrlEntry[]): Uint8Array {
  const reasonExtensions = new Map<number, Uint8Array>();
  let out = new Uint8Array(64 * revoked.length);
  let at = 0;
  for (let k = 0; k < revoked.length; k++) {
    const entry = revoked[k];
    if (typeof entry !== 'object' || entry === null) invalidInput(`revoked[${k}] is not an entry`);
    const serial = checkSerial(entry.serial, `revoked[${k}].serial`);
    const time = encodeTime(checkDate(entry.revokedAt, `revoked[${k}].revokedAt`));
    let extension: Uint8Array | undefined;
    if (entry.reason !== undefined) {
      if (!CRL_REASONS.has(entry.reason)) invalidInput(`revoked[${k}].reason is not a CRLReason`);
      extension = reasonExtensions.get(entry.reason);
      if (!extension) {
        extension = reasonExtension(entry.reason);
        reasonExtensions.set(entry.reason, extension);
      }
    }
    // At most 2+20 + 2+15 + 14 = 53 content octets, so a one-octet length always fits.
    const length = 2 + serial.length + time.length + (extension?.length ?? 0);
    if (at + 2 + length > out.length) {
      const grown = new Uint8Array(out.length * 2);
      grown.set(out.subarray(0, at));
      out = grown;
    }
    out[at++] = TAG.SEQUENCE;
    out[at++] = length;
    out[at++] = TAG.INTEGER;
    out[at++] = serial.length;
    out.set(serial, at);
    at += serial.length;
    out.set(time, at);
    at += time.length;
    if (extension) {
      out.set(extension, at);
      at += extension.length;
    }
  }
  return encodeTlv(TAG.SEQUENCE, out.subarray(0, at));
}

/** crlEntryExtensions holding one non-critical reasonCode. */
function reasonExtension(reason: number): Uint8Array {
  return encodeTlv(
    TAG.SEQUENCE,
    encodeTlv(TAG.SEQUENCE, [
      encodeTlv(TAG.OID, encodeOid(OID.cRLReason)),
      encodeTlv(TAG.OCTET_STRING, encodeTlv(TAG.ENUMERATED, Uint8Array.of(reason))),
    ]),
  );
}

/** Places revokedCertificates after thisUpdate/nextUpdate and before [0] crlExtensions. */
function insertRevoked(tbsDer: Uint8Array, revokedDer: Uint8Array): Uint8Array {
  const fields = readChildren(tbsDer, readWhole(tbsDer, TAG.SEQUENCE, 'tbsCertList'));
  const parts = fields.map((f) => rawOf(tbsDer, f));
  const at = fields.findIndex((f) => f.tag === 0xa0);
  parts.splice(at < 0 ? parts.length : at, 0, revokedDer);
  return encodeTlv(TAG.SEQUENCE, parts);
}
