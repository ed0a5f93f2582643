// Where the reports read their flow facts from. FlowFactsSource is all the log and the end of day
// ask; journalFactsSource() answers it through the flow table's indexes (db/flows.ts: the closed-at
// index for a day, the open flows' index, a flow by ID, refunds by the sale they name, the first
// flow by number) and folds the entries of the flows it returns, never of the whole log: its cost
// grows with the day or the page, not with the log (docs/journal.md, "What the shop's records read").
import type { FlowState, Flows, FlowView } from '../../../db/flows.js';
import type { Journal } from '../../../db/journal.js';
import { type DayFlowFacts, type FlowFacts, type FlowParty, flowFacts } from './flow-facts.js';

export interface FlowFactsSource {
  /**
   * Flows closed in [start, end) (their last entry's time), oldest first (by their first entry):
   * a closed value transfer with its facts indexed straight from its row (a day's sales and refunds
   * are most of it), any other flow folded from its entries.
   */
  closedBetween(start: Date, end: Date): DayFlowFacts[];
  /** Flows not closed, oldest first. */
  open(): FlowFacts[];
  flow(flowId: string): FlowFacts | undefined;
  /** The refunds that name each of these sales, oldest first (a sale without refunds is left out). */
  refundsOf(saleFlowIds: readonly string[]): Map<string, FlowFacts[]>;
  /** When the log's first business flow started (ISO 8601 UTC); undefined on an empty log. */
  firstStartedAt(): string | undefined;
}

export type FactsFlows = Pick<Flows, 'closedIn' | 'openFlows' | 'flow' | 'refundsOfAny' | 'firstOpenedAt'>;

/** Folded facts kept for this many flows (a day's and a few pages'), the oldest dropped first. */
const CACHED_FLOWS = 5000;

export function journalFactsSource(
  journal: Pick<Journal, 'entriesForFlow'>,
  flows: FactsFlows,
): FlowFactsSource {
  // A flow's facts change only with new entries: folded again only when its last entry moved.
  const cache = new Map<string, FlowFacts>();
  const factsOf = (state: FlowState): FlowFacts | undefined => {
    const held = cache.get(state.flowId);
    if (held && held.lastSeq === state.lastSeq) return held;
    const fresh = flowFacts(journal.entriesForFlow(state.flowId));
    if (fresh) {
      cache.delete(state.flowId);
      cache.set(state.flowId, fresh);
      if (cache.size > CACHED_FLOWS) cache.delete(cache.keys().next().value as string);
    }
    return fresh;
  };
  const factsOfAll = (states: readonly FlowState[]): FlowFacts[] =>
    states.map(factsOf).filter((f) => f !== undefined);
  return {
    closedBetween(start, end) {
      const closed = flows.closedIn({ from: start, to: end }).sort((a, b) => a.firstSeq - b.firstSeq);
      return closed.map((f) => closedTransferFacts(f) ?? factsOf(f)).filter((f) => f !== undefined);
    },
    open() {
      return factsOfAll(flows.openFlows());
    },
    flow(flowId) {
      const state = flows.flow(flowId);
      return state ? factsOf(state) : undefined;
    },
    refundsOf(saleFlowIds) {
      const wanted = new Set(saleFlowIds);
      const out = new Map<string, FlowFacts[]>();
      // The index holds what the engine passed; the fold confirms it from the hash-chained payload.
      for (const f of factsOfAll(flows.refundsOfAny([...wanted]))) {
        if (f.refundOf === undefined || !wanted.has(f.refundOf)) continue;
        out.set(f.refundOf, [...(out.get(f.refundOf) ?? []), f]);
      }
      return out;
    },
    firstStartedAt() {
      return flows.firstOpenedAt();
    },
  };
}

/**
 * A closed value transfer's facts from its row in the flow table, as flowFacts() folds them from its
 * entries (the engine journals both in one transaction): a sale, or a refund when it names the sale;
 * completed or not. Undefined for any other flow, and for one journaled without its facts (no amount).
 */
function closedTransferFacts(v: FlowView): DayFlowFacts | undefined {
  if (v.flowKind !== 'value-transfer' || !v.terminal || v.amount === undefined) return undefined;
  const party = (role: 'payer' | 'payee', c: FlowView['cards'][number] | undefined): FlowParty | undefined =>
    c && { role, slot: role, holderId: c.holderId, label: c.label };
  return {
    flowId: v.flowId,
    journalKind: v.flowKind,
    business: v.refundOf ? 'refund' : 'sale',
    amount: v.amount,
    from: party('payer', v.cards[0]),
    to: party('payee', v.cards[1]),
    gives: { amount: v.amount },
    items: [],
    operator: v.operatorId,
    refundOf: v.refundOf,
    outcome: v.lastStep === 'completed' ? 'completed' : 'not-completed',
    lastStep: v.lastStep,
    firstSeq: v.firstSeq,
    lastSeq: v.lastSeq,
    startedAt: v.openedAt,
    updatedAt: v.updatedAt,
  };
}
