// Object identifiers the PKI module emits or recognises, and their DER content octets.
// Extension OIDs are decoded with decodeOid below, not asn1js: asn1js renders arcs above 2^53 (our
// 2.25 holder-ID arc) as "{hex}" strings.

export const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2', // RFC 5758 §3.2
  ecPublicKey: '1.2.840.10045.2.1', // RFC 5480 §2.1.1
  prime256v1: '1.2.840.10045.3.1.7', // secp256r1 / NIST P-256
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  cRLReason: '2.5.29.21',
  authorityKeyIdentifier: '2.5.29.35',
  /**
   * Card holder ID (non-critical; extnValue = OCTET STRING of exactly 16 bytes). A UUID-based OID
   * (ITU-T X.667 / RFC 4122 §C: 2.25.<UUID as an integer>) needs no registration. The UUID is
   * 49b01710-6814-4404-8862-48eb6f861cc5, picked at random once; never change it.
   */
  holderId: '2.25.97947955734683413343595923712376184005',
  /** Issuer role: the 16-byte ID of the contents issuer this card acts for (seed 000 issuer mode). */
  issuerRole: '2.25.147695767553694137665703938176512326425',
} as const;

/** Short names for RFC 4514 strings (RFC 4514 §3 plus serialNumber from RFC 4519). */
export const ATTRIBUTE_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
]);

/** DER content octets of a dotted OID (X.690 §8.19), arcs of any size. */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => {
    if (!/^(0|[1-9][0-9]*)$/.test(a)) throw new RangeError(`bad OID: ${dotted}`);
    return BigInt(a);
  });
  const [a0, a1] = arcs;
  if (a0 === undefined || a1 === undefined || a0 > 2n || (a0 < 2n && a1 > 39n)) {
    throw new RangeError(`bad OID: ${dotted}`);
  }
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...arcs.slice(2)]) {
    const groups = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return Uint8Array.from(out);
}

/** Dotted form of DER OID content octets, or undefined if they are not a valid encoding. */
export function decodeOid(content: Uint8Array): string | undefined {
  const arcs: bigint[] = [];
  let value = 0n;
  let fresh = true;
  for (const byte of content) {
    if (fresh && byte === 0x80) return undefined; // non-minimal subidentifier
    value = (value << 7n) | BigInt(byte & 0x7f);
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      arcs.push(value);
      value = 0n;
    }
  }
  const [first] = arcs;
  if (first === undefined || !fresh) return undefined;
  const top = first < 80n ? first / 40n : 2n;
  return [top, first - top * 40n, ...arcs.slice(1)].join('.');
}

/** Content octets of cRLReason, matched per entry in the CRL fast path. */
export const CRL_REASON_OID_BYTES = encodeOid(OID.cRLReason);
