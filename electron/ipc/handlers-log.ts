// The contract's transaction log: a page of entries with their flows' facts, the operator's name,
// and, for a sale, the refunds that name it.
import type { TerminalConfig } from '../services/config.js';
import type { FlowFactsSource } from '../services/reports/journal-facts.js';
import type { LogPage, LogQuery } from '../services/reports/transaction-log.js';
import type { Handlers } from './handlers.js';

export interface LogServices {
  config: Pick<TerminalConfig, 'operators'>;
  reports: { log: { page(q: LogQuery): LogPage }; facts: Pick<FlowFactsSource, 'refundsOf'> };
}

export function logHandlers(s: LogServices): Pick<Handlers, 'log:page'> {
  const names = () => new Map((s.config.operators ?? []).map((o) => [o.id, o.name]));
  return {
    'log:page': async (q) => {
      const page = s.reports.log.page({ limit: q.limit, beforeSeq: q.beforeSeq, search: q.search });
      const operators = names();
      const sales = page.records.filter((r) => r.flow?.business === 'sale' && r.flow.outcome === 'completed');
      const refunds = s.reports.facts.refundsOf([...new Set(sales.map((r) => r.flowId))]);
      return {
        records: page.records.map((r) => ({
          ...r,
          operatorName: r.flow?.operator ? (operators.get(r.flow.operator) ?? r.flow.operator) : undefined,
          refundedBy:
            r.flow?.business === 'sale' && r.flow.outcome === 'completed'
              ? (refunds.get(r.flowId) ?? []).map((f) => f.flowId)
              : undefined,
        })),
        nextBeforeSeq: page.nextBeforeSeq,
        search: page.search,
      };
    },
  };
}
