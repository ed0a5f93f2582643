// The operator IPC contract: every channel the renderer may call, with the schema of its request and
// of its response, and every event the main process pushes. The main-process handlers, the browser
// host's WebSocket transport, the Electron preload (through ./bridge.ts, which lists the same names
// without zod) and the renderer's client all derive their types from this one module, so they cannot
// drift. It imports nothing but zod and pure protocol/ rules: the renderer bundles it.

import { z } from 'zod';
import { amountSchema } from '../../protocol/amount.js';
import type { MoneyFormat } from '../../protocol/money-format.js';
import { type ErrorInfo, empty, errorInfo, hex, isoTime, MAX_TEXT, slotName } from './contract-parts.js';
import { type DeliveredDocumentWire, deliveredDocument, shopChannels, shopEvents } from './contract-shop.js';
import { receiptSchema, zReportSchema } from './documents.js';

export { type ErrorInfo, type SlotNameWire, slotName } from './contract-parts.js';

const slotStatus = z.object({
  slot: slotName,
  reader: z.string().optional(),
  readerPresent: z.boolean(),
  cardPresent: z.boolean(),
  atr: hex.optional(),
});
export type SlotStatusWire = z.infer<typeof slotStatus>;

const moneyFormat = z.object({
  currencyCode: z.string(),
  minorUnits: z.number().int(),
  locale: z.string(),
}) satisfies z.ZodType<MoneyFormat>;
export type MoneyFormatWire = z.infer<typeof moneyFormat>;

export const CERTIFICATE_STATUSES = ['valid', 'revoked', 'expired', 'crl-stale', 'invalid'] as const;

const cardView = z.object({
  slot: slotName,
  holderId: hex,
  validity: z.string(),
  expired: z.boolean(),
  currency: z.number().int(),
  /** Undefined when the card's access level masks it: never filled in by the terminal. */
  balance: z.number().int().optional(),
  maxBalance: z.number().int().optional(),
  availableBalance: z.number().int().optional(),
  ownerLoggedIn: z.boolean(),
  /**
   * The owner PIN as the card answers VERIFY without data (no try spent): blocked or not, and the
   * tries left (not said while owner mode is on). Absent for a card without an owner PIN.
   */
  pin: z.object({ blocked: z.boolean(), triesLeft: z.number().int().min(0).optional() }).optional(),
  transferKeyId: z.number().int(),
  transferKeyIdLimit: z.number().int(),
  prestoredTransferKeyIds: z.array(z.number().int()),
  updateKeyId: z.number().int(),
  updateKeyIdLimit: z.number().int(),
  unsettledDebits: z.number().int(),
  pendingCredits: z.number().int(),
  certificate: z.object({
    serial: z.string(),
    subject: z.string(),
    notAfter: isoTime,
    status: z.enum(CERTIFICATE_STATUSES),
  }),
});
export type CardViewWire = z.infer<typeof cardView>;

const keyUpdateSummary = z.object({
  flowId: z.string(),
  receiver: slotName,
  route: z.string(),
  reason: z.string(),
});
const recoveryOutcome = z.enum(['completed', 'rolled-back', 'waiting-for-payer', 'waiting-for-payee']);

const transferOutcome = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('completed'),
    flowId: z.string(),
    amount: z.number().int(),
    keyUpdates: z.array(keyUpdateSummary),
    balances: z.object({ payer: z.number().int().optional(), payee: z.number().int().optional() }),
    warnings: z.array(z.string()),
    /** The sale's receipt, for the screen that ran it. */
    receipt: receiptSchema.optional(),
  }),
  z.object({
    status: z.literal('refused'),
    flowId: z.string().optional(),
    keyUpdates: z.array(keyUpdateSummary),
    error: errorInfo,
  }),
  z.object({
    status: z.literal('rolled-back'),
    flowId: z.string(),
    keyUpdates: z.array(keyUpdateSummary),
    error: errorInfo,
  }),
  z.object({
    status: z.literal('interrupted'),
    flowId: z.string(),
    keyUpdates: z.array(keyUpdateSummary),
    error: errorInfo,
    recovery: z.union([recoveryOutcome, z.literal('not-attempted')]),
    inDoubt: z.boolean(),
  }),
]);
export type TransferOutcomeWire = z.infer<typeof transferOutcome>;

const journalRecord = z.object({
  seq: z.number().int(),
  at: isoTime,
  flowId: z.string(),
  flowKind: z.string(),
  step: z.string(),
  payload: z.record(z.string(), z.unknown()),
  /** The first 8 bytes of the entry's chain hash (db/journal-chain.ts). */
  tag: hex.optional(),
  /** Full chain hashes: only on an entry just appended (a read does not recompute them). */
  prevHash: hex.optional(),
  hash: hex.optional(),
});
export type JournalRecordWire = z.infer<typeof journalRecord>;

export const inDoubtItem = z.object({
  flowId: z.string(),
  payerId: hex,
  payeeId: hex,
  payerSerial: z.string().optional(),
  payeeSerial: z.string().optional(),
  amount: z.number().int(),
  currency: z.number().int(),
  txRandom: hex.optional(),
  receptionChallenge: hex.optional(),
  lastStep: z.string(),
  startedAt: isoTime,
  updatedAt: isoTime,
});
export type InDoubtItemWire = z.infer<typeof inDoubtItem>;

/** A release proof its payer card has not taken yet: what REFUND DEBIT needs, wherever it is delivered. */
export const pendingDelivery = z.object({
  flowId: z.string(),
  origin: z.enum(['found-on-card', 'delivered']).optional(),
  payerId: hex,
  payeeId: hex,
  amount: z.number().int(),
  currency: z.number().int(),
  date: z.number().int(),
  txRandom: hex,
  rxRandom: hex,
  releaseProof: hex,
  updatedAt: isoTime,
});
export type PendingDeliveryWire = z.infer<typeof pendingDelivery>;

const offerRecord = z.union([
  z.object({ itemId: z.string(), label: z.string().optional() }),
  z.object({ amount: z.number().int(), currency: z.number().int() }),
]);

/** A content transmission or exchange not settled yet: an item in transfer, value reserved or debited. */
export const openContentFlow = z.object({
  flowId: z.string(),
  kind: z.enum(['content-transfer', 'content-exchange']),
  origin: z.enum(['found-on-card', 'delivered']).optional(),
  fromId: hex,
  toId: hex,
  gives: offerRecord,
  takes: offerRecord.optional(),
  txId: hex.optional(),
  secondTxId: hex.optional(),
  committed: z.boolean(),
  releaseProof: hex.optional(),
  lastStep: z.string(),
  startedAt: isoTime,
  updatedAt: isoTime,
});
export type OpenContentFlowWire = z.infer<typeof openContentFlow>;

const recoveryReport = z.object({
  flowId: z.string(),
  outcome: recoveryOutcome,
  amount: z.number().int(),
  payerId: hex,
  payeeId: hex,
});
export type RecoveryReportWire = z.infer<typeof recoveryReport>;

const crlError = z.object({ code: z.string(), message: z.string() });
const crlStatus = z.object({
  state: z.enum(['fresh', 'stale', 'missing']),
  source: z.string().optional(),
  crlNumber: z.string().optional(),
  thisUpdate: isoTime.optional(),
  nextUpdate: isoTime.optional(),
  revokedCount: z.number().int(),
  distributionPoint: z.string().optional(),
  lastRefresh: z
    .object({ at: isoTime, ok: z.boolean(), notModified: z.boolean().optional(), error: crlError.optional() })
    .optional(),
  builtinError: crlError.optional(),
});
export type CrlStatusWire = z.infer<typeof crlStatus>;

/** The link to the issuer host as the screen shows it: the journal's upload and the CRL's age. */
const hostStatus = z.object({
  /** Whether the configuration names an issuer host (without one, nothing below is set). */
  configured: z.boolean(),
  url: z.string().optional(),
  /** When the host last acknowledged an upload. */
  lastUploadAt: isoTime.optional(),
  /** Journal entries not yet acknowledged by the host. */
  waiting: z.number().int(),
  lastError: crlError.optional(),
  nextAttemptAt: isoTime.optional(),
  /** Seconds since the CRL in force was issued (its thisUpdate). */
  crlAgeSeconds: z.number().int().optional(),
});
export type HostStatusWire = z.infer<typeof hostStatus>;

export const FLOW_BUSINESS = [
  'sale',
  'refund',
  'exchange',
  'item-send',
  'issue',
  'registration',
  'key-update',
  'recovery',
  'other',
] as const;
export const FLOW_OUTCOMES = ['completed', 'not-completed', 'in-doubt', 'open'] as const;

const flowParty = z.object({
  role: z.string(),
  slot: slotName.optional(),
  holderId: hex,
  label: z.string().optional(),
});
const flowOffer = z.union([
  z.object({ amount: z.number().int() }),
  z.object({ item: z.object({ label: z.string(), type: z.string(), itemId: z.string().optional() }) }),
]);
/** One flow of the journal as the shop's records see it (electron/services/reports/flow-facts.ts). */
const flowFacts = z.object({
  flowId: z.string(),
  journalKind: z.string(),
  business: z.enum(FLOW_BUSINESS),
  amount: z.number().int().optional(),
  from: flowParty.optional(),
  to: flowParty.optional(),
  gives: flowOffer.optional(),
  takes: flowOffer.optional(),
  items: z.array(z.object({ label: z.string(), type: z.string() })),
  route: z.string().optional(),
  operator: z.string().optional(),
  refundOf: z.string().optional(),
  outcome: z.enum(FLOW_OUTCOMES),
  code: z.string().optional(),
  steps: z.array(z.string()),
  lastStep: z.string(),
  firstSeq: z.number().int(),
  lastSeq: z.number().int(),
  startedAt: isoTime,
  updatedAt: isoTime,
});
export type FlowFactsWire = z.infer<typeof flowFacts>;

/** A log entry with its flow's facts, the operator's name, and the refunds of a sale. */
const logRecord = journalRecord.extend({
  flow: flowFacts.optional(),
  operatorName: z.string().optional(),
  refundedBy: z.array(z.string()).optional(),
});
export type LogRecordWire = z.infer<typeof logRecord>;

const refundedSale = z.object({
  flowId: z.string(),
  amount: z.number().int(),
  refunded: z.number().int(),
  refundFlowIds: z.array(z.string()),
});

/** Where an exported file went: saved by the main process (Electron), or handed to the page to download. */
/** Where an exported file went: the shop's one document delivery (contract-shop.ts). */
const fileDelivery = deliveredDocument;
export type FileDeliveryWire = DeliveredDocumentWire;

const contentListing = z.object({
  slot: slotName,
  holderId: hex,
  access: z.object({
    owner: z.boolean(),
    session: z.enum(['none', 'basic', 'issuer']),
    issuer: z.string().optional(),
  }),
  items: z.array(
    z.object({
      id: hex,
      type: z.string(),
      issuerId: hex,
      policy: z.string(),
      label: z.string(),
      body: hex.optional(),
      locked: z.boolean(),
    }),
  ),
});
export type ContentListingWire = z.infer<typeof contentListing>;

const sessionMode = z.enum(['basic', 'issuer']);
const sessionSide = z.object({
  slot: slotName,
  holderId: hex,
  peerHolderId: hex,
  mode: sessionMode,
  sessionId: hex,
  level: sessionMode,
  peerIssuer: hex.optional(),
});
export type SessionSideWire = z.infer<typeof sessionSide>;

export const contract = {
  'slots:status': {
    request: empty,
    response: z.object({ slots: z.array(slotStatus), money: moneyFormat }),
  },
  'cards:read': { request: z.strictObject({ slot: slotName }), response: cardView },
  'session:login': {
    request: z.strictObject({ slot: slotName, pin: z.string().regex(/^\d{4,12}$/) }),
    response: cardView,
  },
  'session:logout': { request: z.strictObject({ slot: slotName }), response: z.object({ slot: slotName }) },
  /**
   * Card-to-card mutual authentication. A side's 'issuer' mode requires the other card to be its
   * issuer card, which then gets issuer access (balance, issuer-alterable contents) on this card.
   */
  'session:authenticate': {
    request: z.strictObject({ payerMode: sessionMode.optional(), payeeMode: sessionMode.optional() }),
    response: z.object({ payer: sessionSide, payee: sessionSide, warnings: z.array(z.string()) }),
  },
  'transfer:run': {
    // Minor units: a whole number above zero that fits the cards' 32-bit purse.
    request: z.strictObject({ amount: amountSchema }),
    response: transferOutcome,
  },
  'keys:update': { request: empty, response: z.object({ updates: z.array(keyUpdateSummary) }) },
  /**
   * The log, newest first. `search` finds whole flows: by a holder's name or card ID, an item label,
   * a flow ID, a kind, step or operator, or an amount as typed in the shop's locale ("1,000.00").
   */
  'log:page': {
    request: z.strictObject({
      beforeSeq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
      limit: z.number().int().min(1).max(200),
      search: z.string().max(MAX_TEXT).optional(),
    }),
    response: z.object({
      records: z.array(logRecord),
      /** Present only when an older page has entries. */
      nextBeforeSeq: z.number().int().optional(),
      /** How the search was read: the amount (minor units) it names, if it names one. */
      search: z.object({ text: z.string(), amount: z.number().int().optional() }).optional(),
    }),
  },
  'log:verify': {
    request: empty,
    response: z.union([
      z.object({ ok: z.literal(true), count: z.number().int() }),
      z.object({ ok: z.literal(false), firstBadSeq: z.number().int(), reason: z.string() }),
    ]),
  },
  'indoubt:list': {
    request: empty,
    response: z.object({
      /** Value transfers in doubt. */
      items: z.array(inDoubtItem),
      /** Release proofs waiting for their payer card. */
      deliveries: z.array(pendingDelivery),
      /** Open content flows. */
      contents: z.array(openContentFlow),
    }),
  },
  'recovery:run': {
    request: empty,
    response: z.object({
      /** Records found on the cards that no flow of this terminal accounted for, adopted this pass. */
      adopted: z.number().int(),
      transfers: z.array(recoveryReport),
      contents: z.array(
        z.object({
          flowId: z.string(),
          kind: z.string(),
          outcome: z.enum(['completed', 'rolled-back', 'waiting']),
        }),
      ),
      /** Flows whose recovery failed while the pass went on: each stays open (in doubt). */
      failures: z.array(
        z.object({
          flowId: z.string().optional(),
          kind: z.string(),
          error: z.object({ code: z.string(), message: z.string() }),
        }),
      ),
    }),
  },
  'crl:status': { request: empty, response: crlStatus },
  'crl:refresh': { request: empty, response: crlStatus },
  'host:status': { request: empty, response: hostStatus },
  /** The shop (name, terminal ID, time zone), its money format, and the business day now. */
  'terminal:info': {
    request: empty,
    response: z.object({
      shop: z.object({ name: z.string(), terminalId: z.string(), timeZone: z.string() }),
      money: moneyFormat,
      today: z.iso.date(),
    }),
  },
  /** The Z report of a business day on the shop's clock (today when no day is given). */
  'day:report': {
    request: z.strictObject({ day: z.iso.date().optional() }),
    response: z.object({ today: z.iso.date(), report: zReportSchema, refundedSales: z.array(refundedSale) }),
  },
  /** The Z report as a CSV or PDF file: saved through a save dialog (Electron), or downloaded by the page. */
  'day:export': {
    request: z.strictObject({ day: z.iso.date(), format: z.enum(['csv', 'pdf']) }),
    response: fileDelivery,
  },
  'contents:list': { request: z.strictObject({ slot: slotName }), response: contentListing },
  // Kiosk mode (the Electron shell): whether the window is locked, and leaving it with the operator's
  // exit PIN. Where there is no kiosk (the browser host), status says so and exit is refused.
  'kiosk:status': { request: empty, response: z.object({ active: z.boolean() }) },
  'kiosk:exit': {
    request: z.strictObject({ pin: z.string().regex(/^\d{4,12}$/) }),
    response: z.object({ exiting: z.literal(true) }),
  },
  ...shopChannels,
} as const;

export type Contract = typeof contract;
export type Channel = keyof Contract;
export const CHANNELS = Object.keys(contract) as Channel[];
/** What a caller passes (before validation). */
export type RequestOf<C extends Channel> = z.input<Contract[C]['request']>;
/** What a handler receives (validated). */
export type ValidRequestOf<C extends Channel> = z.output<Contract[C]['request']>;
export type ResponseOf<C extends Channel> = z.infer<Contract[C]['response']>;

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/**
 * What each channel does to the cards. The main process runs one card operation at a time and answers
 * E_BUSY to any other ('reads' and 'changes' alike); a refused call ran nothing, so the screen may
 * retry a read, never a change (a second payment). Every channel must be listed: the type says so.
 */
export const CARD_ACCESS: { readonly [C in Channel]: 'none' | 'reads' | 'changes' } = {
  'slots:status': 'none',
  'cards:read': 'reads',
  'session:login': 'changes',
  'session:logout': 'changes',
  'session:authenticate': 'changes',
  'transfer:run': 'changes',
  'keys:update': 'changes',
  'log:page': 'none',
  'log:verify': 'none',
  'indoubt:list': 'none',
  'recovery:run': 'changes',
  'crl:status': 'none',
  'crl:refresh': 'none',
  'host:status': 'none',
  'terminal:info': 'none',
  'day:report': 'none',
  'day:export': 'none',
  'contents:list': 'reads',
  'kiosk:status': 'none',
  'kiosk:exit': 'none',
  'operator:status': 'none',
  'operator:sign-in': 'none',
  // Never waits for the cards: the owner logins end after the lock, through the desk's listener.
  'operator:sign-out': 'none',
  'operator:lock': 'none',
  'operator:activity': 'none',
  'items:issue': 'changes',
  'items:sell': 'changes',
  'items:send': 'changes',
  'items:alter': 'changes',
  'refund:check': 'none',
  'refund:run': 'changes',
  'pin:unblock': 'changes',
  'receipts:get': 'none',
  'receipts:export': 'none',
  'tray:status': 'none',
  'tray:move': 'changes',
};

export const events = {
  'card-inserted': slotStatus,
  'card-removed': slotStatus,
  /** `route` on a key update's "planned" step: which of the seed's routes brings the keys in line. */
  'transfer-step': z.object({
    flowId: z.string(),
    kind: z.string(),
    step: z.string(),
    route: z.string().optional(),
    /** The operation (the caller's ID) whose work journaled this step; absent for work no caller started. */
    operationId: z.string().optional(),
  }),
  /** An operation that changes the cards started or ended (any window's): others wait for it. */
  'card-operation': z.object({
    state: z.enum(['started', 'ended']),
    channel: z.string(),
    operationId: z.string().optional(),
  }),
  recovered: recoveryReport,
  /**
   * A pass of the terminal's recovery surface ended (start-up, a card inserted, on demand): what it
   * settled, so the screen can read the in-doubt list again.
   */
  'recovery-run': z.object({
    trigger: z.enum(['start-up', 'card-inserted', 'on-demand', 'delivery']),
    adopted: z.number().int(),
    transfers: z.number().int(),
    contents: z.number().int(),
  }),
  /** Kiosk mode: someone tried to close or leave the window; the screen should ask for the exit PIN. */
  'kiosk-exit-requested': z.object({}),
  ...shopEvents,
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventOf<E extends EventName> = z.infer<Events[E]>;

export function isChannel(channel: unknown): channel is Channel {
  return typeof channel === 'string' && Object.hasOwn(contract, channel);
}

/** Validates a request from an untrusted caller; the error result names the first problem. */
export function parseRequest<C extends Channel>(
  channel: C,
  payload: unknown,
): { ok: true; value: ValidRequestOf<C> } | { ok: false; error: ErrorInfo } {
  const parsed = contract[channel].request.safeParse(payload);
  if (parsed.success) return { ok: true, value: parsed.data as ValidRequestOf<C> };
  const issue = parsed.error.issues[0];
  return invalidInput(
    `${channel}: ${issue?.path.join('.') || 'payload'} ${issue?.message ?? 'is not valid'}`,
  );
}

export function invalidInput(message: string): { ok: false; error: ErrorInfo } {
  return { ok: false, error: { code: 'E_INPUT_INVALID', message, details: {} } };
}

/**
 * The transports' frames: the renderer sends requests (with the operation ID it made, for the card
 * channels) and pings, the host answers, pongs and pushes events.
 */
export interface RequestFrame {
  id: number;
  channel: string;
  payload: unknown;
  operationId?: string;
}
export interface PingFrame {
  ping: number;
}
export type ServerFrame =
  | { id: number | null; result: Result<unknown> }
  | { event: EventName; payload: unknown }
  | { pong: number };

/** What a call carries besides its payload. */
export interface CallMeta {
  /** The caller's ID for a card operation: its events carry it back; an ID is used once. */
  operationId?: string;
}
