// What the journal knows about one content transmission or exchange, folded from its entries. Step
// names and payload fields are documented in docs/journal.md; recovery and the engine read only this.
import type { JournalRecord } from '../../../db/journal.js';
import { toHex } from '../../../protocol/bytes.js';
import type { ContentPolicy } from '../../../protocol/settlement/contents-codec.js';
import type { CardSession } from '../settlement/card-session.js';
import { cardLabel } from '../settlement/card-view.js';
import { startedEntry } from '../settlement/flow-recorder.js';
import type { SlotName } from '../slots/reader-slots.js';

export const CONTENT_STEP = {
  STARTED: 'started',
  /** Transmission: CONTENT SEND answered (txId). */
  SENT: 'sent',
  /** Transmission: CONTENT RECEIVE answered with the commit instruction. */
  RECEIVED: 'received',
  /** Transmission: CONTENT COMMIT answered with the deletion proof; from here it rolls forward. */
  COMMITTED: 'committed',
  ACCEPTED: 'accepted',
  /** Exchange: the initiator's half sent (firstTxId). */
  FIRST_SENT: 'first-sent',
  FIRST_RECEIVED: 'first-received',
  /** Exchange: the responder's half sent (secondTxId). */
  SECOND_SENT: 'second-sent',
  /** Exchange: the initiator holds the responder's half pending: its commit decides both halves. */
  SECOND_RECEIVED: 'second-received',
  FIRST_COMMITTED: 'first-committed',
  FIRST_ACCEPTED: 'first-accepted',
  SECOND_ACCEPTED: 'second-accepted',
  /** A card refused a command after the first one: recovery follows over the live sessions. */
  CARD_REFUSED: 'card-refused',
  /** A transport failure: recovery follows with the cards then present. */
  INTERRUPTED: 'interrupted',
  /**
   * The receiver gave the pending transfer up (CONTENT RELEASE): its release proof, journaled before
   * CONTENT RETURN is sent to the sender. The flow stays open until the sender has taken it.
   */
  RELEASED: 'released',
  /** The sender took the release proof (CONTENT RETURN): its item or value is back. Closes the flow. */
  REFUNDED: 'refunded',
  /**
   * Neither card holds a record of the flow's first transfer any more: both settled it elsewhere, and
   * how is the issuer host's to tell. Leaves the flow open; recovery asks the cards no more.
   */
  OUTCOME_UNKNOWN: 'outcome-unknown',
  COMPLETED: 'completed',
  ROLLED_BACK: 'rolled-back',
  /** A card refused the first content command: nothing changed. */
  REFUSED: 'failed-no-value-moved',
} as const;

export type ContentStep = (typeof CONTENT_STEP)[keyof typeof CONTENT_STEP];

export type ContentFlowKind = 'content-transfer' | 'content-exchange';
export const CONTENT_FLOW_KINDS: readonly string[] = ['content-transfer', 'content-exchange'];

/** What the journal calls the two cards of a flow: the one whose offer goes first, then the other. */
export const ROLES = {
  'content-transfer': ['sender', 'receiver'],
  'content-exchange': ['initiator', 'responder'],
} as const satisfies Record<ContentFlowKind, readonly [string, string]>;

/**
 * The two cards in a flow's 'started' entry: `<role>Slot`, `<role>Id` (holder ID, hex) and
 * `<role>Label` (the holder's name from the certificate) of each, e.g. senderSlot, senderId,
 * senderLabel, receiverSlot, receiverId, receiverLabel (docs/journal.md).
 */
/** A card of a flow: one in a reader, or one another card's record names (no certificate then). */
export type PartyCard = Pick<CardSession, 'slot' | 'holderIdHex'> & Partial<Pick<CardSession, 'certificate'>>;

export function partiesPayload(
  kind: ContentFlowKind,
  cards: readonly [PartyCard, PartyCard],
): Record<string, string> {
  const payload: Record<string, string> = {};
  ROLES[kind].forEach((role, i) => {
    const card = cards[i]!;
    payload[`${role}Slot`] = card.slot;
    payload[`${role}Id`] = card.holderIdHex;
    // A card known only from another card's record (recovery adopting it) has no label here.
    if (card.certificate) Object.assign(payload, certificatePayload(role, card.certificate));
  });
  return payload;
}

/**
 * A card's label and certificate (DER, hex) under its role's keys. The certificate is public (every
 * terminal reads it); the issuer host checks it against the CA and the card's signatures in the
 * flow with its key (docs/content-clearing.md).
 */
export function certificatePayload(
  role: string,
  certificate: NonNullable<PartyCard['certificate']>,
): Record<string, string> {
  return {
    [`${role}Label`]: cardLabel({ certificate }),
    [`${role}Certificate`]: toHex(certificate.der),
  };
}

/** What the journal records of an offer. */
export type OfferRecord =
  | { itemId: string; label: string; type: string; policy: ContentPolicy }
  | { amount: number; currency: number };

/** An open (or closed) content flow as folded from the journal. */
export interface ContentFlowRecord {
  flowId: string;
  kind: ContentFlowKind;
  /** Sender of a transmission, initiator of an exchange (holder IDs, hex). */
  fromId: string;
  /** Receiver of a transmission, responder of an exchange. */
  toId: string;
  fromSlot: SlotName;
  toSlot: SlotName;
  /** What the sender / initiator gives. */
  offer: OfferRecord;
  /** What the responder gives (exchange only). */
  take?: OfferRecord;
  sessionId: string;
  /** The transmission, or the exchange's first half (initiator → responder). */
  txId?: string;
  /** The exchange's second half (responder → initiator). */
  secondTxId?: string;
  /**
   * 'found-on-card': a pending transfer found on the receiving card that no flow of this terminal ran;
   * 'delivered': a receiver's release proof another terminal journaled, fetched from the issuer host
   * for the sender card (content-delivery.ts).
   */
  origin?: 'found-on-card' | 'delivered';
  /** The receiver's release proof, once journaled ('released'). */
  releaseProof?: string;
  /** A send's acceptance by its receiver, once journaled: the sender is acknowledged with it. */
  acceptance?: string;
  /** The first card's deletion proof is journaled: from there the flow rolls forward. */
  committed: boolean;
  lastStep: string;
  startedAt: string;
  updatedAt: string;
}

/** Folds a content flow's journal entries. */
export function foldContentFlow(entries: JournalRecord[]): ContentFlowRecord {
  const exchange = entries[0]?.flowKind === 'content-exchange';
  const kind: ContentFlowKind = exchange ? 'content-exchange' : 'content-transfer';
  const first = startedEntry(entries, kind);
  const p = first.payload;
  const [from, to] = ROLES[kind];
  const r: ContentFlowRecord = {
    flowId: first.flowId,
    kind,
    fromId: String(p[`${from}Id`]),
    toId: String(p[`${to}Id`]),
    fromSlot: p[`${from}Slot`] as SlotName,
    toSlot: p[`${to}Slot`] as SlotName,
    offer: (exchange ? p.give : p.offer) as OfferRecord,
    take: exchange ? (p.take as OfferRecord) : undefined,
    sessionId: String(p.sessionId),
    ...(p.origin === 'found-on-card' || p.origin === 'delivered' ? { origin: p.origin } : {}),
    committed: false,
    lastStep: first.step,
    startedAt: first.at,
    updatedAt: first.at,
  };
  for (const e of entries) {
    if (typeof e.payload.txId === 'string') r.txId = e.payload.txId;
    if (typeof e.payload.firstTxId === 'string') r.txId = e.payload.firstTxId;
    if (typeof e.payload.secondTxId === 'string') r.secondTxId = e.payload.secondTxId;
    if (e.step === CONTENT_STEP.RELEASED && typeof e.payload.releaseProof === 'string')
      r.releaseProof = e.payload.releaseProof;
    if (!exchange && typeof e.payload.acceptance === 'string') r.acceptance = e.payload.acceptance;
    if (e.step === CONTENT_STEP.COMMITTED || e.step === CONTENT_STEP.FIRST_COMMITTED) r.committed = true;
    r.lastStep = e.step;
    r.updatedAt = e.at;
  }
  return r;
}

/** The step after which the first card's transfer is committed only by this flow's relay. */
export function commitRelayedStep(kind: ContentFlowKind): ContentStep {
  return kind === 'content-transfer' ? CONTENT_STEP.RECEIVED : CONTENT_STEP.SECOND_RECEIVED;
}
