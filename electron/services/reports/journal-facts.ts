// Where the reports read their flow facts from. FlowFactsSource is all the log and the end of day
// ask; journalFactsSource() answers it from today's journal and flow-state cache (db/journal.ts,
// db/flows.ts), folding each flow's entries once and again only when the flow has new entries. An
// indexed facts table in db/ can answer the same interface with queries instead.
import type { FlowState, Flows } from '../../../db/flows.js';
import type { Journal } from '../../../db/journal.js';
import { type FlowFacts, flowFacts } from './flow-facts.js';

export interface FlowFactsSource {
  /** Every flow, oldest first (by its first entry). */
  all(): FlowFacts[];
  /** Flows closed in [start, end) (their last entry's time), oldest first. */
  closedBetween(start: Date, end: Date): FlowFacts[];
  /** Flows not closed, oldest first. */
  open(): FlowFacts[];
  flow(flowId: string): FlowFacts | undefined;
  /** The refunds that name each of these sales, oldest first (a sale without refunds is left out). */
  refundsOf(saleFlowIds: readonly string[]): Map<string, FlowFacts[]>;
}

export function journalFactsSource(
  journal: Pick<Journal, 'entriesForFlow'>,
  flows: Pick<Flows, 'all' | 'flow'>,
): FlowFactsSource {
  const cache = new Map<string, FlowFacts>();
  const factsOf = (state: FlowState): FlowFacts | undefined => {
    const held = cache.get(state.flowId);
    if (held && held.lastSeq === state.lastSeq) return held;
    const fresh = flowFacts(journal.entriesForFlow(state.flowId));
    if (fresh) cache.set(state.flowId, fresh);
    return fresh;
  };
  const all = (): FlowFacts[] =>
    flows
      .all()
      .map(factsOf)
      .filter((f) => f !== undefined);
  return {
    all,
    closedBetween(start, end) {
      const [from, to] = [start.toISOString(), end.toISOString()];
      return flows
        .all()
        .filter((s) => s.terminal && s.updatedAt >= from && s.updatedAt < to)
        .map(factsOf)
        .filter((f) => f !== undefined);
    },
    open() {
      return flows
        .all()
        .filter((s) => !s.terminal)
        .map(factsOf)
        .filter((f) => f !== undefined);
    },
    flow(flowId) {
      const state = flows.flow(flowId);
      return state ? factsOf(state) : undefined;
    },
    refundsOf(saleFlowIds) {
      const wanted = new Set(saleFlowIds);
      const out = new Map<string, FlowFacts[]>();
      if (wanted.size === 0) return out;
      for (const f of all()) {
        if (f.refundOf === undefined || !wanted.has(f.refundOf)) continue;
        out.set(f.refundOf, [...(out.get(f.refundOf) ?? []), f]);
      }
      return out;
    },
  };
}
