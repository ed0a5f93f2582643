// The transaction log as the operator reads it: the journal's entries newest first, a page at a time,
// each with the facts of its flow (what business, how much, which cards and items, which operator),
// and a search that finds whole flows through the log's indexes (db/flow-search.ts, docs/journal.md
// "Searches"): by words of a holder's name, a card's holder ID, a flow ID (or the sale a refund
// names), a kind, the word "refund", or an amount as the operator types it in the shop's locale
// ("12.50", "1,000.00": read into minor units first, then found exactly). A search's cost grows with
// the page, not the log; each flow found is folded for its facts, and only those.
//
// A page says there is an older one only when there is: it reads one entry more than it shows.
import type { Journal, JournalRecord } from '../../../db/journal.js';
import { type MoneyFormat, readAmount } from '../../../protocol/money-format.js';
import type { FlowFacts } from './flow-facts.js';
import type { FlowFactsSource } from './journal-facts.js';

export interface LogQuery {
  beforeSeq?: number;
  limit: number;
  search?: string;
}

export interface LogRecord extends JournalRecord {
  /** The facts of the entry's flow (undefined only for an entry whose flow cannot be read). */
  flow: FlowFacts | undefined;
}

export interface LogPage {
  records: LogRecord[];
  /** beforeSeq of the next (older) page; undefined when there is none. */
  nextBeforeSeq: number | undefined;
  /** How the search was read: the amount it names, if it names one. */
  search?: { text: string; amount?: number };
}

export function transactionLog(o: {
  journal: Pick<Journal, 'page'>;
  source: Pick<FlowFactsSource, 'flow'>;
  money: MoneyFormat;
}) {
  const withFacts = (records: readonly JournalRecord[]): LogRecord[] => {
    const seen = new Map<string, FlowFacts | undefined>();
    return records.map((r) => {
      if (!seen.has(r.flowId)) seen.set(r.flowId, o.source.flow(r.flowId));
      return { ...r, flow: seen.get(r.flowId) };
    });
  };

  return {
    page(q: LogQuery): LogPage {
      const text = q.search?.trim() ?? '';
      const reading = text === '' ? undefined : readAmount(text, o.money);
      const amount = reading?.ok ? reading.minor : undefined;
      // Text that reads as an amount is an amount (or the beginning of a flow ID): "15" must not
      // find every card whose ID or name begins with 15.
      const search = text === '' ? undefined : amount !== undefined ? { typed: text, amount } : { text };
      const page = o.journal.page({ beforeSeq: q.beforeSeq, limit: q.limit, search });
      const records = withFacts(page.records);
      return search === undefined
        ? { records, nextBeforeSeq: page.nextBeforeSeq }
        : { records, nextBeforeSeq: page.nextBeforeSeq, search: { text, amount } };
    },
  };
}
