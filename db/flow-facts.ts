// Flow facts: what a flow is about, as the engines pass it with an entry (Journal.append(entry,
// facts)), kept in the flow's row, the card table and flow_item so that the log can be searched and
// the day summed through indexes. Facts are an index of the journal, written in the same transaction
// as the entry they come with; the money itself (amount, holder IDs, proofs) stays in the hash-chained
// payloads, which a fold reads (docs/journal.md, "Facts").
//
// A fact once set stays: a later step that gives it again does not change it (the first value wins),
// so the index never drifts from what the flow's opening said.
import { TerminalError } from '../protocol/errors.js';
import { storedFlowId } from './journal-codec.js';

/** A card that took part in a flow. */
export interface CardFact {
  /** Holder ID, hex (as the payloads write it). */
  readonly holderId: string;
  /** The card's label: its certificate's common name (CN). Stored once per card, not per flow. */
  readonly label?: string;
}

export interface ItemFact {
  /** The item's label as the card lists it ("Concert 24 Dec, seat B12"). */
  readonly label: string;
  /** ticket, coupon, ... */
  readonly type?: string;
}

/** Which way the e-money of a flow went, seen from the shop's card. */
export type ValueDirection = 'in' | 'out';

/**
 * The facts vocabulary. Every field is optional; engines pass what they know when the flow starts
 * (and may add what they learn at a later step).
 */
export interface FlowFacts {
  /** Minor units moved: a transfer's amount, an exchange's e-money leg. Positive. */
  readonly amount?: number;
  /** ISO 4217 numeric. */
  readonly currency?: number;
  /**
   * The flow's cards in its kind's role order: payer, payee (value-transfer); sender, receiver
   * (content-transfer); initiator, responder (content-exchange); the card issued to (admin); the
   * receiver, sender (key-update). At most two.
   */
  readonly cards?: readonly CardFact[];
  /** The operator who ran the flow (issue 11: every flow journaled with its operator). */
  readonly operatorId?: string;
  /** The flow this one pays back (a refund names its sale). */
  readonly refundOf?: string;
  /** The e-money's way relative to the shop's card, where the caller knows which card is the shop's. */
  readonly direction?: ValueDirection;
  /** Items moved or issued, at most 16. */
  readonly items?: readonly ItemFact[];
}

const HEX = /^(?:[0-9A-Fa-f]{2}){1,64}$/;
const OPERATOR_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,31}$/;
const FLOW_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const ITEM_TYPE = /^[a-z][a-z0-9-]{0,19}$/;
const MAX_LABEL = 64;
const MAX_ITEM_LABEL = 200;

/** Facts checked and in the form the tables hold; labels made printable and cut to length. */
export interface StoredFacts {
  amount: number | null;
  currency: number | null;
  cards: { holderId: Buffer; label: string | null }[];
  operatorId: string | null;
  refundOf: Uint8Array | string | null;
  direction: number | null;
  items: { label: string; type: string | null }[];
}

/**
 * Checks facts before anything is written. A wrong type or range is the caller's bug (E_INPUT_INVALID);
 * a label that comes from a card (a certificate's CN, an item's label) is only made printable and cut.
 */
export function checkFacts(f: FlowFacts): StoredFacts {
  const out: StoredFacts = {
    amount: null,
    currency: null,
    cards: [],
    operatorId: null,
    refundOf: null,
    direction: null,
    items: [],
  };
  if (f.amount !== undefined) {
    if (!Number.isSafeInteger(f.amount) || f.amount <= 0)
      invalid('amount is a positive integer (minor units)');
    out.amount = f.amount;
  }
  if (f.currency !== undefined) {
    if (!Number.isInteger(f.currency) || f.currency < 0 || f.currency > 999)
      invalid('currency is ISO 4217 numeric');
    out.currency = f.currency;
  }
  if (f.cards !== undefined) {
    if (!Array.isArray(f.cards) || f.cards.length > 2) invalid('cards: at most two');
    for (const c of f.cards) {
      if (typeof c?.holderId !== 'string' || !HEX.test(c.holderId))
        invalid('a card fact has a hex holder ID');
      const label = c.label === undefined ? null : printable(c.label, MAX_LABEL);
      out.cards.push({ holderId: Buffer.from(c.holderId, 'hex'), label: label || null });
    }
  }
  if (f.operatorId !== undefined) {
    if (typeof f.operatorId !== 'string' || !OPERATOR_ID.test(f.operatorId))
      invalid('operatorId is 1–32 letters, digits, . _ @ -');
    out.operatorId = f.operatorId;
  }
  if (f.refundOf !== undefined) {
    if (typeof f.refundOf !== 'string' || !FLOW_ID.test(f.refundOf)) invalid('refundOf is a flow ID');
    out.refundOf = storedFlowId(f.refundOf);
  }
  if (f.direction !== undefined) {
    if (f.direction !== 'in' && f.direction !== 'out') invalid("direction is 'in' or 'out'");
    out.direction = f.direction === 'in' ? 1 : -1;
  }
  if (f.items !== undefined) {
    if (!Array.isArray(f.items) || f.items.length > 16) invalid('items: at most 16');
    for (const i of f.items) {
      if (typeof i?.label !== 'string') invalid('an item fact has a label');
      // The type comes from the card's listing: one that is not a short lowercase word is left out.
      const type = typeof i.type === 'string' && ITEM_TYPE.test(i.type) ? i.type : null;
      out.items.push({ label: printable(i.label, MAX_ITEM_LABEL), type });
    }
  }
  return out;
}

export function hasFacts(f: StoredFacts): boolean {
  return (
    f.amount !== null ||
    f.currency !== null ||
    f.cards.length > 0 ||
    f.operatorId !== null ||
    f.refundOf !== null ||
    f.direction !== null ||
    f.items.length > 0
  );
}

export const NO_FACTS: StoredFacts = checkFacts({});

/** Control characters out, surrounding space trimmed, at most `max` characters. */
function printable(text: unknown, max: number): string {
  if (typeof text !== 'string') invalid('a label is text');
  const kept = [...text].filter((c) => {
    const n = c.codePointAt(0)!;
    return n >= 0x20 && (n < 0x7f || n > 0x9f);
  });
  return kept.join('').trim().slice(0, max);
}

function invalid(message: string): never {
  throw new TerminalError('E_INPUT_INVALID', `flow facts: ${message}`);
}
