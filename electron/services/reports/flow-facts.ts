// One flow of the journal as the shop's records see it: what business it was (a sale, a refund, an
// exchange, an item sent or issued, a key update...), the e-money it moved, the two cards with their
// holders' labels, the items, the key-update route, the operator, the refunded sale, and how it
// ended. Folded from the flow's journal entries alone (docs/journal.md names every field), so the
// log's details and search and the end of day read the same facts; an indexed facts table can later
// hold exactly these fields.
import type { JournalRecord } from '../../../db/journal.js';
import { FLOW_BUSINESS, FLOW_OUTCOMES } from '../../ipc/contract.js';
import type { ShopFlow } from '../../ipc/shop-flow.js';
import { foldTransfer, TRANSFER_STEP, valueState } from '../settlement/transfer-record.js';

export { FLOW_BUSINESS, FLOW_OUTCOMES };
export type FlowBusiness = (typeof FLOW_BUSINESS)[number];
/**
 * completed: value or item moved; not-completed: ended without moving anything; in-doubt: open
 * with value or an item possibly in flight (recovery settles it); open: open, nothing in flight.
 */
export type FlowOutcome = (typeof FLOW_OUTCOMES)[number];

export interface FlowParty {
  /** The journal's role: payer, payee, sender, receiver, initiator, responder, card. */
  role: string;
  /** The reader slot the card was in (undefined where the journal did not say). */
  slot?: 'payer' | 'payee';
  holderId: string;
  /** The holder's name (the certificate's CN) where the journal has it. */
  label?: string;
}

/** One side of an exchange or a transmission: e-money or an item. */
export type FlowOffer = { amount: number } | { item: { label: string; type: string; itemId?: string } };

export interface FlowFacts {
  flowId: string;
  /** The journal's flow kind (value-transfer, content-exchange, admin...). */
  journalKind: string;
  business: FlowBusiness;
  /** The e-money moved: a sale's or refund's amount, an exchange's or transmission's value leg. */
  amount?: number;
  /** Who gives first: payer, sender, initiator; the card an item was issued on is `to`. */
  from?: FlowParty;
  to?: FlowParty;
  /** What `from` gives and, in an exchange, what `to` gives back. */
  gives?: FlowOffer;
  takes?: FlowOffer;
  /** Items moved or issued, with their labels. */
  items: { label: string; type: string }[];
  /** A key update's route. */
  route?: string;
  /** The operator's ID in the 'started' entry (absent before operators signed in). */
  operator?: string;
  /** A refund: the sale's flow ID. */
  refundOf?: string;
  outcome: FlowOutcome;
  /** The error code a refused or interrupted flow journaled last. */
  code?: string;
  steps: string[];
  lastStep: string;
  firstSeq: number;
  lastSeq: number;
  startedAt: string;
  updatedAt: string;
}

/**
 * What the end of day needs of a flow: its facts but the list of its steps and its error code, so
 * that a closed value transfer can be read from the flow table's row alone (reports/journal-facts.ts).
 */
export type DayFlowFacts = Omit<FlowFacts, 'steps' | 'code'>;

/** Steps that close a flow (db/flows.ts TERMINAL_STEPS). */
const CLOSING = new Set(['completed', 'rolled-back', 'refunded', 'failed-no-value-moved']);

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const slotOf = (v: unknown): 'payer' | 'payee' | undefined =>
  v === 'payer' || v === 'payee' ? v : undefined;

function party(p: Record<string, unknown>, role: string, slot?: 'payer' | 'payee'): FlowParty | undefined {
  const holderId = text(p[`${role}Id`]);
  if (!holderId) return undefined;
  return { role, slot: slotOf(p[`${role}Slot`]) ?? slot, holderId, label: text(p[`${role}Label`]) };
}

function offer(v: unknown): FlowOffer | undefined {
  const o = v as Record<string, unknown> | undefined;
  if (!o || typeof o !== 'object') return undefined;
  if (typeof o.amount === 'number') return { amount: o.amount };
  if (typeof o.label === 'string')
    return { item: { label: o.label, type: String(o.type ?? 'item'), itemId: text(o.itemId) } };
  return undefined;
}

const amountOf = (o: FlowOffer | undefined) => (o && 'amount' in o ? o.amount : undefined);
const itemOf = (o: FlowOffer | undefined) => (o && 'item' in o ? [o.item] : []);

/** The facts of one flow from its journal entries (oldest first); undefined for no entries. */
export function flowFacts(entries: readonly JournalRecord[]): FlowFacts | undefined {
  const first = entries[0];
  const last = entries.at(-1);
  if (!first || !last) return undefined;
  const p = first.payload;
  const closed = CLOSING.has(last.step);
  const codeEntry = [...entries].reverse().find((e) => typeof e.payload.code === 'string');
  const facts: FlowFacts = {
    flowId: first.flowId,
    journalKind: first.flowKind,
    business: 'other',
    items: [],
    operator: text(p.operator),
    outcome: closed ? (last.step === 'completed' ? 'completed' : 'not-completed') : 'open',
    code: codeEntry && !(closed && last.step === 'completed') ? String(codeEntry.payload.code) : undefined,
    steps: entries.map((e) => e.step),
    lastStep: last.step,
    firstSeq: first.seq,
    lastSeq: last.seq,
    startedAt: first.at,
    updatedAt: last.at,
  };
  switch (first.flowKind) {
    case 'value-transfer': {
      facts.refundOf = text(p.refundOf);
      facts.business = facts.refundOf ? 'refund' : 'sale';
      facts.amount = typeof p.amount === 'number' ? p.amount : undefined;
      facts.from = party(p, 'payer', 'payer');
      facts.to = party(p, 'payee', 'payee');
      if (facts.amount !== undefined) facts.gives = { amount: facts.amount };
      if (!closed && first.step === TRANSFER_STEP.STARTED)
        facts.outcome = valueState(foldTransfer([...entries])) === 'in-doubt' ? 'in-doubt' : 'open';
      break;
    }
    case 'content-transfer':
    case 'content-exchange': {
      const exchange = first.flowKind === 'content-exchange';
      const [fromRole, toRole] = exchange ? ['initiator', 'responder'] : ['sender', 'receiver'];
      facts.business = exchange ? 'exchange' : 'item-send';
      facts.from = party(p, fromRole);
      facts.to = party(p, toRole);
      facts.gives = offer(exchange ? p.give : p.offer);
      facts.takes = exchange ? offer(p.take) : undefined;
      facts.amount = amountOf(facts.gives) ?? amountOf(facts.takes);
      facts.items = [...itemOf(facts.gives), ...itemOf(facts.takes)];
      // An open content flow may hold its item or e-money in flight until recovery settles it.
      if (!closed) facts.outcome = 'in-doubt';
      break;
    }
    case 'admin': {
      if (first.step === 'issue-requested') {
        const item = p.item as Record<string, unknown> | undefined;
        facts.business = 'issue';
        facts.to = {
          role: 'card',
          slot: slotOf(p.slot),
          holderId: String(p.cardHolderId ?? ''),
          label: text(p.cardLabel),
        };
        if (item) facts.items = [{ label: String(item.label ?? ''), type: String(item.type ?? 'item') }];
        if (!closed && entries.some((e) => e.step === 'issue-interrupted')) facts.outcome = 'in-doubt';
      } else if (first.step === 'register-requested') facts.business = 'registration';
      break;
    }
    case 'key-update': {
      facts.business = 'key-update';
      facts.route = text(p.route);
      break;
    }
    case 'recovery':
      facts.business = 'recovery';
      break;
  }
  return facts;
}

/**
 * The flow as a shop document sees it (receipts, the Z report), or undefined for flows that are no
 * business of the shop's (key updates, registrations). The shop's card is the one in the payee slot,
 * except in a refund, where the shop's card pays (the slots change roles).
 */
export function shopFlow(f: DayFlowFacts, operatorName: (id: string) => string): ShopFlow | undefined {
  const result =
    f.outcome === 'completed' ? 'completed' : f.outcome === 'not-completed' ? 'not-completed' : 'in-doubt';
  const common = {
    flowId: f.flowId,
    at: f.outcome === 'in-doubt' || f.outcome === 'open' ? f.startedAt : f.updatedAt,
    operator: f.operator ? { id: f.operator, name: operatorName(f.operator) } : undefined,
    result,
  } as const;
  const item = (i: { label: string; type: string }) => ({
    label: i.label.slice(0, 200),
    type: itemType(i.type),
  });
  switch (f.business) {
    case 'sale':
      return f.amount ? { kind: 'sale', ...common, amount: f.amount } : undefined;
    case 'refund':
      return f.amount && f.refundOf
        ? { kind: 'refund', ...common, amount: f.amount, refundOf: f.refundOf }
        : undefined;
    case 'exchange': {
      if (!f.gives || !f.takes) return undefined;
      // The customer's card is the one in the payer slot.
      const customerIsFrom = f.from?.slot !== 'payee';
      const leg = (o: FlowOffer) => ('amount' in o ? { amount: o.amount } : { item: item(o.item) });
      const [customerGives, shopGives] = customerIsFrom ? [f.gives, f.takes] : [f.takes, f.gives];
      if ('amount' in customerGives && 'amount' in shopGives) return undefined;
      return { kind: 'exchange', ...common, customerGives: leg(customerGives), shopGives: leg(shopGives) };
    }
    case 'item-send': {
      if (!f.gives) return undefined;
      const toCustomer = f.to?.slot === 'payer';
      if ('amount' in f.gives) {
        // E-money sent on its own: into the shop's card it is a sale; out of it, value the Z report
        // cannot book without a sale to refund, so it is left to the log.
        return toCustomer ? undefined : { kind: 'sale', ...common, amount: f.gives.amount };
      }
      return {
        kind: 'item-send',
        ...common,
        direction: toCustomer ? 'to-customer' : 'to-shop',
        item: item(f.gives.item),
      };
    }
    case 'issue':
      return f.items[0] ? { kind: 'issue', ...common, item: item(f.items[0]) } : undefined;
    default:
      return undefined;
  }
}

/** A content type as the shop's documents take it (lower-case word), else "item". */
function itemType(type: string): string {
  return /^[a-z][a-z0-9-]{0,19}$/.test(type) ? type : 'item';
}
