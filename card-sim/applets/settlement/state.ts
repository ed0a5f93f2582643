// Persistent state of the settlement applet: the card's EEPROM image. Byte strings are stored as
// uppercase hex. Secrets live here and nowhere else; no command ever returns them.
import { z } from 'zod';
import { TerminalError } from '../../../protocol/errors.js';
import { LOG_CAPACITY } from '../../../protocol/settlement/commands.js';
import {
  CONTENT_POLICIES,
  CONTENT_TYPES,
  MAX_BODY_BYTES,
  MAX_LABEL_BYTES,
} from '../../../protocol/settlement/contents-codec.js';

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9A-F]{${bytes * 2}}$`));
const uint32 = z.number().int().min(0).max(0xffffffff);

export const debitRecordSchema = z.object({
  txRandom: hex(16),
  payeeId: hex(16),
  currency: z.number().int().min(0).max(0xffff),
  amount: uint32,
  date: uint32,
  transferKeyId: uint32,
  status: z.enum(['open', 'debited', 'acknowledged', 'aborted', 'refunded']),
  rxRandom: hex(16).optional(),
  /** Reception challenge (debited), abort proof (aborted) or release proof (refunded), re-issued on a status query. */
  proof: hex(16).optional(),
});
export type DebitRecord = z.infer<typeof debitRecordSchema>;

export const creditRecordSchema = z.object({
  txRandom: hex(16),
  payerId: hex(16),
  currency: z.number().int().min(0).max(0xffff),
  amount: uint32,
  date: uint32,
  transferKeyId: uint32,
  rxRandom: hex(16),
  status: z.enum(['pending', 'credited', 'cancelled', 'released']),
  /** Credit acknowledgement (credited) or release proof (released). */
  proof: hex(16).optional(),
});
export type CreditRecord = z.infer<typeof creditRecordSchema>;

export const contentItemSchema = z.object({
  id: hex(16),
  type: z.enum(CONTENT_TYPES),
  issuerId: hex(16),
  policy: z.enum(CONTENT_POLICIES),
  label: z.string().refine((l) => Buffer.byteLength(l) <= MAX_LABEL_BYTES),
  body: z
    .string()
    .regex(/^([0-9A-F]{2})*$/)
    .refine((b) => b.length / 2 <= MAX_BODY_BYTES),
  /** Transaction that holds the item while a transfer is undecided: it cannot be used meanwhile. */
  lockedBy: hex(16).optional(),
});
export type StoredContentItem = z.infer<typeof contentItemSchema>;

/** One content transfer as this card sees it (seed 000 Figs. 6–8, hardened like the value transfer). */
export const contentRecordSchema = z.object({
  direction: z.enum(['out', 'in']),
  txId: hex(16),
  peerId: hex(16),
  peerPublicKey: hex(65),
  /** The other half of an exchange. */
  linkTxId: hex(16).optional(),
  /** This card started an exchange: it may delete only while the other half is pending here. */
  exchangeInitiator: z.boolean(),
  kind: z.enum(['item', 'value']),
  /** The encoding that travelled (item template or value template). */
  payload: z.string().regex(/^([0-9A-F]{2})+$/),
  digest: hex(32),
  amount: uint32.optional(),
  status: z.enum([
    'open',
    'deleted',
    'acknowledged',
    'aborted',
    'returned',
    'pending',
    'accepted',
    'discarded',
    'released',
  ]),
  /**
   * Deletion proof (out, deleted), abort proof (out, aborted), the receiver's release proof (out,
   * returned), acceptance (in, accepted), own release proof (in, released); DER signature.
   */
  proof: z
    .string()
    .regex(/^([0-9A-F]{2})+$/)
    .optional(),
});
export type ContentRecord = z.infer<typeof contentRecordSchema>;

export const CONTENT_CAPACITY = 16;
export const CONTENT_LOG_CAPACITY = 8;

/** Image format of this applet version; version 1 images are migrated (state-migration.ts), never read. */
export const STATE_FORMAT = 2;

const uint8 = z.number().int().min(0).max(0xff);

/** The cardholder verification policy (docs/protocol.md §4.6) and its no-PIN counters. */
export const cardholderPolicySchema = z.object({
  perPayment: uint32,
  cumulative: uint32,
  consecutive: uint8,
  /** Amount paid without the PIN since the last successful VERIFY (saturating). */
  noPinTotal: uint32,
  /** Payments made without the PIN since the last successful VERIFY (saturating). */
  noPinCount: uint8,
});
export type CardholderPolicy = z.infer<typeof cardholderPolicySchema>;

export const settlementStateSchema = z
  .object({
    format: z.literal(STATE_FORMAT),
    holderId: hex(16),
    validity: z.string().regex(/^\d{8}$/),
    currency: z.number().int().min(0).max(999),
    balance: uint32,
    maxBalance: uint32,
    transferKeyId: uint32,
    transferKeyIdLimit: uint32,
    /** Current transfer key, pre-stored future keys (embodiment 4) and keys still referenced by unsettled records. */
    transferKeys: z.record(z.string().regex(/^\d+$/), hex(16)),
    updateKeyId: uint32,
    updateKeyIdLimit: uint32,
    /** Absent on cards that only use the public-key route (embodiment 2). */
    updateKey: hex(16).optional(),
    caPublicKey: hex(65),
    cardPrivateKey: hex(32),
    certificate: z.string().regex(/^([0-9A-F]{2})+$/),
    debitLog: z.array(debitRecordSchema).max(LOG_CAPACITY),
    creditLog: z.array(creditRecordSchema).max(LOG_CAPACITY),
    /** Issuer of the purse: an issuer-mode session with this issuer may read the balance. */
    purseIssuerId: hex(16).default('00'.repeat(16)),
    /** Set on issuer cards: the contents issuer this card acts for (also in its certificate). */
    issuerRole: hex(16).optional(),
    /** Owner mode (seed 000): the cardholder's PIN and its retry counter. */
    owner: z
      .object({
        pin: z.string().regex(/^\d{4,12}$/),
        tries: z.number().int().min(0).max(15),
        tryLimit: z.number().int().min(1).max(15),
      })
      .optional(),
    /** No-PIN limits and counters; present exactly when the card has an owner PIN. */
    cardholderPolicy: cardholderPolicySchema.optional(),
    /** The issuer's unblock code for a blocked PIN (ISO 7816-4 RESET RETRY COUNTER). */
    puk: z
      .object({
        puk: z.string().regex(/^\d{8}$/),
        tries: z.number().int().min(0).max(15),
        tryLimit: z.number().int().min(1).max(15),
      })
      .optional(),
    /** Key of the command-generating authority whose create rights allow issuing contents here. */
    authorityPublicKey: hex(65).optional(),
    contents: z.array(contentItemSchema).max(CONTENT_CAPACITY).default([]),
    contentLog: z.array(contentRecordSchema).max(CONTENT_LOG_CAPACITY).default([]),
    /** Create-right IDs already used here (single use). */
    usedGrants: z.array(hex(16)).max(64).default([]),
  })
  .refine((s) => s.balance <= s.maxBalance, 'balance above maximum')
  .refine((s) => s.transferKeys[String(s.transferKeyId)] !== undefined, 'current transfer key missing')
  .refine((s) => s.transferKeyId <= s.transferKeyIdLimit, 'transfer key ID above its limit')
  .refine((s) => (s.updateKey === undefined) === (s.updateKeyId === 0), 'update key ID 0 means no update key')
  .refine(
    (s) => (s.owner === undefined) === (s.cardholderPolicy === undefined),
    'a cardholder policy exactly when the card has a PIN',
  );

export type SettlementState = z.infer<typeof settlementStateSchema>;

/** Canonical serialization: the same state always gives the same image. */
export const settlementStateCodec = {
  encode(state: SettlementState): string {
    return `${JSON.stringify(settlementStateSchema.parse(state), null, 1)}\n`;
  },
  /** Refuses an image of another format with a typed error naming the migration (never misreads one). */
  decode(image: string): SettlementState {
    const raw: unknown = JSON.parse(image);
    const format = typeof raw === 'object' && raw !== null ? (raw as { format?: unknown }).format : undefined;
    if (format !== STATE_FORMAT && typeof format === 'number') {
      throw new TerminalError(
        'E_CARD_VERSION',
        format < STATE_FORMAT
          ? `card image format ${format} is of settlement application version ${format}: migrate it with "npm run card -- migrate <file>"`
          : `card image format ${format} is newer than this simulator (format ${STATE_FORMAT})`,
        { format },
      );
    }
    return settlementStateSchema.parse(raw);
  },
};

/** The debit states that may still end either way (acknowledged or refunded): the value has left. */
export const REFUNDABLE_DEBIT = 'debited';

/**
 * Headroom rule (§4.4): balance + pending credits + refundable debits ≤ maximum, so every credit
 * and every refund can always be applied. Refundable: debited value-transfer records and deleted
 * outgoing content value, which a release may still send back.
 */
export function headroomUsed(state: SettlementState): number {
  const refundable = state.debitLog
    .filter((r) => r.status === REFUNDABLE_DEBIT)
    .reduce((sum, r) => sum + r.amount, 0);
  // An exchange responder's own half (it carries a link) is never released, so never comes back.
  const returnable = state.contentLog
    .filter((r) => r.kind === 'value' && r.direction === 'out' && r.status === 'deleted' && !r.linkTxId)
    .reduce((sum, r) => sum + (r.amount ?? 0), 0);
  return state.balance + pendingCreditTotal(state) + refundable + returnable;
}

/** Credits reserved but not yet applied: value-transfer pending credits and incoming exchange value. */
export function pendingCreditTotal(state: SettlementState): number {
  const credits = state.creditLog.filter((r) => r.status === 'pending').reduce((sum, r) => sum + r.amount, 0);
  return credits + contentValue(state, 'in', 'pending');
}

/** Debits reserved but not yet applied: open value-transfer debits and outgoing exchange value. */
export function openDebitTotal(state: SettlementState, o: { exceptOpenDebits?: boolean } = {}): number {
  const debits = o.exceptOpenDebits
    ? 0
    : state.debitLog.filter((r) => r.status === 'open').reduce((sum, r) => sum + r.amount, 0);
  return debits + contentValue(state, 'out', 'open');
}

function contentValue(
  state: SettlementState,
  direction: 'in' | 'out',
  status: ContentRecord['status'],
): number {
  return state.contentLog
    .filter((r) => r.kind === 'value' && r.direction === direction && r.status === status)
    .reduce((sum, r) => sum + (r.amount ?? 0), 0);
}

/** Drops transfer keys older than the current one that no unsettled record refers to. */
export function retireTransferKeys(state: SettlementState): void {
  const referenced = new Set<number>([state.transferKeyId]);
  for (const r of state.debitLog)
    if (r.status === 'open' || r.status === 'debited') referenced.add(r.transferKeyId);
  for (const r of state.creditLog) if (r.status === 'pending') referenced.add(r.transferKeyId);
  for (const id of Object.keys(state.transferKeys)) {
    const n = Number(id);
    if (n < state.transferKeyId && !referenced.has(n)) delete state.transferKeys[id];
  }
}
