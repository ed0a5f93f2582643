// Digital contents (seed 000) as they travel and as the card lists them: a BER-TLV template per
// item. The digest of the encoding binds every signature of a content transfer to exactly what moved.
import { ascii, concat, fromHex, readU32, toHex, u16, u32 } from '../bytes.js';
import { sha256Digest } from '../crypto-suite.js';
import { encodeTlv, encodeTlvList, findTlv, parseTlvList, type Tlv } from '../tlv.js';

export const CONTENT_TYPES = ['ticket', 'coupon', 'personal-data', 'key'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/**
 * Who may read and alter an item's body (seed 000's four kinds). Everyone may see an item's type,
 * issuer and label; the body is governed by the policy.
 * - public: anyone reads; the issuer alters (a coupon's name)
 * - issuer-alterable: owner and issuer read; only the issuer alters (an e-ticket's seat)
 * - owner-only: only the owner reads and alters (personal data)
 * - secret: nobody reads it out, not even the owner (keys); it can only be moved card to card
 */
export const CONTENT_POLICIES = ['public', 'issuer-alterable', 'owner-only', 'secret'] as const;
export type ContentPolicy = (typeof CONTENT_POLICIES)[number];

export interface ContentItem {
  /** 16 bytes, unique per card. */
  id: string;
  type: ContentType;
  /** 16-byte ID of the contents issuer. */
  issuerId: string;
  policy: ContentPolicy;
  /** Public name, UTF-8, at most 48 bytes. */
  label: string;
  /** Hex, at most 512 bytes. */
  body: string;
}

export const CONTENT_TAG = {
  ITEM: 0xe1,
  ID: 0xc0,
  TYPE: 0xc1,
  ISSUER: 0xc2,
  POLICY: 0xc3,
  LABEL: 0xc4,
  BODY: 0xc5,
  LOCKED: 0xc8,
  VALUE: 0xe2,
  AMOUNT: 0xc6,
  CURRENCY: 0xc7,
} as const;

export const MAX_LABEL_BYTES = 48;
export const MAX_BODY_BYTES = 512;

export function encodeItem(
  item: ContentItem,
  opts: { withBody?: boolean; locked?: boolean } = {},
): Uint8Array {
  const fields: Tlv[] = [
    { tag: CONTENT_TAG.ID, value: fromHex(item.id) },
    { tag: CONTENT_TAG.TYPE, value: Uint8Array.of(CONTENT_TYPES.indexOf(item.type)) },
    { tag: CONTENT_TAG.ISSUER, value: fromHex(item.issuerId) },
    { tag: CONTENT_TAG.POLICY, value: Uint8Array.of(CONTENT_POLICIES.indexOf(item.policy)) },
    { tag: CONTENT_TAG.LABEL, value: new TextEncoder().encode(item.label) },
  ];
  if (opts.withBody ?? true) fields.push({ tag: CONTENT_TAG.BODY, value: fromHex(item.body) });
  if (opts.locked) fields.push({ tag: CONTENT_TAG.LOCKED, value: Uint8Array.of(1) });
  return encodeTlv(CONTENT_TAG.ITEM, encodeTlvList(fields));
}

export interface ListedItem extends Omit<ContentItem, 'body'> {
  body?: string;
  locked: boolean;
}

/** Decodes one item template; throws SyntaxError on anything malformed or out of range. */
export function decodeItem(template: Uint8Array): ListedItem {
  const fields = parseTlvList(template);
  const need = (tag: number) => {
    const v = findTlv(fields, tag);
    if (!v) throw new SyntaxError(`content field ${tag.toString(16)} missing`);
    return v;
  };
  const id = need(CONTENT_TAG.ID);
  const issuer = need(CONTENT_TAG.ISSUER);
  const type = CONTENT_TYPES[need(CONTENT_TAG.TYPE)[0] ?? 255];
  const policy = CONTENT_POLICIES[need(CONTENT_TAG.POLICY)[0] ?? 255];
  const label = need(CONTENT_TAG.LABEL);
  const body = findTlv(fields, CONTENT_TAG.BODY);
  if (id.length !== 16 || issuer.length !== 16) throw new SyntaxError('content and issuer IDs are 16 bytes');
  if (!type || !policy) throw new SyntaxError('unknown content type or policy');
  if (label.length > MAX_LABEL_BYTES || (body && body.length > MAX_BODY_BYTES))
    throw new SyntaxError('content too long');
  const text = new TextDecoder('utf-8', { fatal: true }).decode(label);
  return {
    id: toHex(id),
    type,
    issuerId: toHex(issuer),
    policy,
    label: text,
    ...(body ? { body: toHex(body) } : {}),
    locked: findTlv(fields, CONTENT_TAG.LOCKED)?.[0] === 1,
  };
}

export function decodeItemList(data: Uint8Array): ListedItem[] {
  return parseTlvList(data).map((t) => {
    if (t.tag !== CONTENT_TAG.ITEM) throw new SyntaxError('content list holds a non-item');
    return decodeItem(t.value);
  });
}

/** A value half of an exchange: an amount of the purse currency. */
export function encodeValue(amount: number, currency: number): Uint8Array {
  return encodeTlv(
    CONTENT_TAG.VALUE,
    concat(encodeTlv(CONTENT_TAG.AMOUNT, u32(amount)), encodeTlv(CONTENT_TAG.CURRENCY, u16(currency))),
  );
}

export function decodeValue(template: Uint8Array): { amount: number; currency: number } {
  const fields = parseTlvList(template);
  const amount = findTlv(fields, CONTENT_TAG.AMOUNT);
  const currency = findTlv(fields, CONTENT_TAG.CURRENCY);
  if (amount?.length !== 4 || currency?.length !== 2) throw new SyntaxError('value fields missing');
  return { amount: readU32(amount), currency: (currency[0]! << 8) | currency[1]! };
}

/** SHA-256 of the exact encoding that travels (item with body, or value). */
export function payloadDigest(encoded: Uint8Array): Uint8Array {
  return sha256Digest(encoded);
}

export const CONTENT_SIGNATURE_LABEL = {
  /** Receiver → sender: "I hold it, pending" (seed: commit instruction). */
  COMMIT_INSTRUCTION: 'STLM1CRC',
  /** Sender → receiver: "I deleted it; it is yours" (added: lets the receiver accept after any interruption). */
  DELETION_PROOF: 'STLM1CDL',
  /** Receiver → sender: "accepted" (added: settles the sender's record). */
  ACCEPTANCE: 'STLM1CAK',
  /** Sender → receiver: "I kept it and always will" (added: lets the receiver discard). */
  ABORT_PROOF: 'STLM1CAB',
  /** Receiver → sender: "I gave it up and never will accept it" (version 2: the sender gets it back). */
  RELEASE_PROOF: 'STLM2CRP',
} as const;
export type ContentSignatureLabel = (typeof CONTENT_SIGNATURE_LABEL)[keyof typeof CONTENT_SIGNATURE_LABEL];

const ZERO16 = new Uint8Array(16);

/** What a card signs (ECDSA P-256/SHA-256 with its card key) at each step of a content transfer. */
export function contentSignatureMessage(
  label: ContentSignatureLabel,
  t: {
    txId: Uint8Array;
    senderId: Uint8Array;
    receiverId: Uint8Array;
    digest: Uint8Array;
    linkTxId?: Uint8Array | undefined;
  },
): Uint8Array {
  return concat(ascii(label), t.txId, t.senderId, t.receiverId, t.digest, t.linkTxId ?? ZERO16);
}

/** AAD of the content sealed under the session key. */
export function contentSealAad(
  txId: Uint8Array,
  senderId: Uint8Array,
  receiverId: Uint8Array,
  linkTxId?: Uint8Array,
): Uint8Array {
  return concat(ascii('STLM1CTX'), txId, senderId, receiverId, linkTxId ?? ZERO16);
}
