// Minimal DER walker (X.690 §8, §10). asn1-schema builds and decodes the X.509 structures; this file
// covers what it cannot: slicing the signed tbs bytes exactly as received (re-serializing would break
// signatures over foreign or non-canonical encodings) and walking CRL revoked lists too large for an
// object graph. Everything works on offsets into one buffer; values are subarrays, never copies.
// The reader accepts definite, minimal lengths and low tag numbers only; any violation is E_PKI_MALFORMED.
import { equalBytes } from '../bytes.js';
import { TerminalError } from '../errors.js';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
} as const;

/** One TLV inside `bytes`: the tag, where it starts, where its value starts and where it ends. */
export interface Tlv {
  tag: number;
  start: number;
  valueStart: number;
  end: number;
}

/** An X.509 Extension (RFC 5280 §4.1) as raw slices: extnID content octets, critical flag, extnValue. */
export interface RawExtension {
  oid: Uint8Array;
  critical: boolean;
  value: Uint8Array;
}

export function malformed(message: string): never {
  throw new TerminalError('E_PKI_MALFORMED', message);
}

/** Reads the TLV at `offset`; it must end at or before `limit`. */
export function readTlv(bytes: Uint8Array, offset: number, limit: number = bytes.length): Tlv {
  return readTlvInto({ tag: 0, start: 0, valueStart: 0, end: 0 }, bytes, offset, limit);
}

/** readTlv into a caller-owned Tlv, so hot loops (CRL entries) allocate nothing per element. */
export function readTlvInto(out: Tlv, bytes: Uint8Array, offset: number, limit: number): Tlv {
  if (offset >= limit) malformed('truncated DER: expected a tag');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) malformed('DER high tag numbers are not used in X.509');
  let i = offset + 1;
  if (i >= limit) malformed('truncated DER: expected a length');
  const first = bytes[i++]!;
  let length = first;
  if (first >= 0x80) {
    const octets = first & 0x7f;
    if (octets === 0) malformed('indefinite length is not DER');
    if (octets > 4) malformed('DER length field too long');
    if (i + octets > limit) malformed('truncated DER length');
    if (bytes[i] === 0) malformed('non-minimal DER length');
    length = 0;
    for (let k = 0; k < octets; k++) length = length * 256 + bytes[i++]!;
    if (length < 0x80) malformed('non-minimal DER length');
  }
  if (length > limit - i) malformed('truncated DER: value runs past the end');
  out.tag = tag;
  out.start = offset;
  out.valueStart = i;
  out.end = i + length;
  return out;
}

/** The one TLV that spans all of `bytes` exactly (trailing bytes are an error). */
export function readWhole(bytes: Uint8Array, tag: number, what: string): Tlv {
  const tlv = readTlv(bytes, 0);
  expectTag(tlv, tag, what);
  if (tlv.end !== bytes.length) malformed(`${what}: trailing bytes after the DER value`);
  return tlv;
}

export function expectTag(tlv: Tlv, tag: number, what: string): void {
  if (tlv.tag !== tag) malformed(`${what}: expected tag 0x${hex2(tag)}, found 0x${hex2(tlv.tag)}`);
}

/** Children of a constructed TLV, in order; they must tile its value exactly. */
export function readChildren(bytes: Uint8Array, parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) malformed('expected a constructed DER value');
  const out: Tlv[] = [];
  for (let offset = parent.valueStart; offset < parent.end; ) {
    const child = readTlv(bytes, offset, parent.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

export function valueBytes(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.valueStart, tlv.end);
}

export function rawOf(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.start, tlv.end);
}

/** The three parts of a signed X.509 object (Certificate or CertificateList). */
export interface SignedParts {
  tbs: Tlv;
  algorithm: Tlv;
  /** BIT STRING contents without the unused-bits octet. */
  signature: Uint8Array;
}

export function readSigned(bytes: Uint8Array, what: string): SignedParts {
  const outer = readWhole(bytes, TAG.SEQUENCE, what);
  const parts = readChildren(bytes, outer);
  if (parts.length !== 3) malformed(`${what}: expected 3 elements, found ${parts.length}`);
  const [tbs, algorithm, signature] = parts as [Tlv, Tlv, Tlv];
  expectTag(tbs, TAG.SEQUENCE, `${what} tbs`);
  expectTag(algorithm, TAG.SEQUENCE, `${what} signatureAlgorithm`);
  return { tbs, algorithm, signature: readBitString(bytes, signature, `${what} signature`) };
}

/** BIT STRING contents; only whole-octet strings (unused bits = 0) occur where we read them. */
export function readBitString(bytes: Uint8Array, tlv: Tlv, what: string): Uint8Array {
  expectTag(tlv, TAG.BIT_STRING, what);
  if (tlv.end === tlv.valueStart) malformed(`${what}: empty BIT STRING`);
  if (bytes[tlv.valueStart] !== 0) malformed(`${what}: BIT STRING has unused bits`);
  return bytes.subarray(tlv.valueStart + 1, tlv.end);
}

/** A non-negative INTEGER of at most `maxOctets` content octets (RFC 5280 §4.1.2.2 caps serials at 20). */
export function readUnsignedInteger(bytes: Uint8Array, tlv: Tlv, maxOctets: number, what: string): bigint {
  expectTag(tlv, TAG.INTEGER, what);
  const length = tlv.end - tlv.valueStart;
  if (length === 0) malformed(`${what}: empty INTEGER`);
  if (length > maxOctets) malformed(`${what}: INTEGER longer than ${maxOctets} octets`);
  if (bytes[tlv.valueStart]! & 0x80) malformed(`${what}: negative INTEGER`);
  // 6-octet chunks stay exact in a double, so most CRL serials need one BigInt conversion, none a string.
  let chunkEnd = tlv.valueStart + (length % 6 || 6);
  let n = 0;
  for (let i = tlv.valueStart; i < chunkEnd; i++) n = n * 256 + bytes[i]!;
  let value = BigInt(n);
  for (; chunkEnd < tlv.end; chunkEnd += 6) {
    n = 0;
    for (let i = chunkEnd; i < chunkEnd + 6; i++) n = n * 256 + bytes[i]!;
    value = (value << 48n) | BigInt(n);
  }
  return value;
}

/**
 * UTCTime "YYMMDDHHMMSSZ" or GeneralizedTime "YYYYMMDDHHMMSSZ", the only forms RFC 5280 §4.1.2.5
 * allows; UTCTime years 50..99 are 19xx.
 */
export function readTime(bytes: Uint8Array, tlv: Tlv, what: string): Date {
  const length = tlv.end - tlv.valueStart;
  let i = tlv.valueStart;
  let year: number;
  if (tlv.tag === TAG.UTC_TIME && length === 13) {
    const yy = digits(bytes, i, 2, what);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    i += 2;
  } else if (tlv.tag === TAG.GENERALIZED_TIME && length === 15) {
    year = digits(bytes, i, 4, what);
    i += 4;
  } else {
    malformed(`${what}: not an RFC 5280 UTCTime or GeneralizedTime`);
  }
  const month = digits(bytes, i, 2, what);
  const day = digits(bytes, i + 2, 2, what);
  const hour = digits(bytes, i + 4, 2, what);
  const minute = digits(bytes, i + 6, 2, what);
  const second = digits(bytes, i + 8, 2, what);
  if (bytes[i + 10] !== 0x5a) malformed(`${what}: time must end in Z`);
  // Range checks instead of letting Date roll month 13 or Feb 30 over; no leap seconds (RFC 5280).
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    malformed(`${what}: invalid date`);
  }
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (year < 100) date.setUTCFullYear(year, month - 1, day); // Date.UTC maps years 0..99 to 19xx
  return date;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function digits(bytes: Uint8Array, offset: number, count: number, what: string): number {
  let n = 0;
  for (let i = offset; i < offset + count; i++) {
    const d = bytes[i]! - 0x30;
    if (!(d >= 0 && d <= 9)) malformed(`${what}: non-digit in time`);
    n = n * 10 + d;
  }
  return n;
}

/** Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension; duplicate extnIDs are rejected (RFC 5280 §4.2). */
export function readExtensions(bytes: Uint8Array, tlv: Tlv, what: string): RawExtension[] {
  expectTag(tlv, TAG.SEQUENCE, what);
  const out: RawExtension[] = [];
  for (const ext of readChildren(bytes, tlv)) {
    expectTag(ext, TAG.SEQUENCE, `${what} entry`);
    const fields = readChildren(bytes, ext);
    const [oid, second, third] = fields;
    if (!oid || !second || fields.length > 3) malformed(`${what}: wrong number of Extension fields`);
    expectTag(oid, TAG.OID, `${what} extnID`);
    let critical = false;
    let value = second;
    if (third) {
      critical = readBoolean(bytes, second, `${what} critical`);
      value = third;
    }
    expectTag(value, TAG.OCTET_STRING, `${what} extnValue`);
    const oidBytes = valueBytes(bytes, oid);
    // Lists are a handful long; a pairwise check is cheaper than hashing for every CRL entry.
    if (out.some((e) => equalBytes(e.oid, oidBytes))) malformed(`${what}: duplicate extension`);
    out.push({ oid: oidBytes, critical, value: valueBytes(bytes, value) });
  }
  if (out.length === 0) malformed(`${what}: empty Extensions`);
  return out;
}

function readBoolean(bytes: Uint8Array, tlv: Tlv, what: string): boolean {
  expectTag(tlv, TAG.BOOLEAN, what);
  const v = tlv.end - tlv.valueStart === 1 ? bytes[tlv.valueStart] : undefined;
  // DER TRUE is 0xFF; an explicit FALSE violates DER's DEFAULT rule but is common and harmless.
  if (v !== 0x00 && v !== 0xff) malformed(`${what}: not a DER BOOLEAN`);
  return v === 0xff;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

// ---- Writers: only what the CRL fast path and the signed-object envelope need. ----

export function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n % 256);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

/** One TLV around `content`; a list is joined without argument spreading (CRLs have millions of entries). */
export function encodeTlv(tag: number, content: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const parts = content instanceof Uint8Array ? [content] : content;
  let length = 0;
  for (const p of parts) length += p.length;
  const header = encodeLength(length);
  const out = new Uint8Array(1 + header.length + length);
  out[0] = tag;
  out.set(header, 1);
  let offset = 1 + header.length;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Minimal two's-complement content octets of a non-negative INTEGER (leading 0x00 if the top bit is set). */
export function unsignedIntegerContent(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('negative INTEGER');
  if (value <= 0xffff_ffff_ffffn) {
    // Fast path (CRLs encode millions of short serials); 48 bits stay exact in a double.
    let n = Number(value);
    const out: number[] = [];
    do {
      out.unshift(n % 256);
      n = Math.floor(n / 256);
    } while (n > 0);
    if (out[0]! & 0x80) out.unshift(0);
    return Uint8Array.from(out);
  }
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * UTCTime for 1950..2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5), whole seconds (milliseconds
 * are dropped). Years must be 0..9999.
 */
export function encodeTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  const utc = year >= 1950 && year <= 2049;
  const out = new Uint8Array(utc ? 15 : 17);
  out[0] = utc ? TAG.UTC_TIME : TAG.GENERALIZED_TIME;
  out[1] = out.length - 2;
  let i = 2;
  const put = (n: number, width: number) => {
    for (let k = width - 1; k >= 0; k--) {
      out[i + k] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    i += width;
  };
  if (utc) put(year % 100, 2);
  else put(year, 4);
  put(date.getUTCMonth() + 1, 2);
  put(date.getUTCDate(), 2);
  put(date.getUTCHours(), 2);
  put(date.getUTCMinutes(), 2);
  put(date.getUTCSeconds(), 2);
  out[i] = 0x5a; // Z
  return out;
}
