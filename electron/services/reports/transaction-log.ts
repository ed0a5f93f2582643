// The transaction log as the operator reads it: the journal's entries newest first, a page at a time,
// each with the facts of its flow (what business, how much, which cards and items, which operator),
// and a search that finds whole flows: by a holder's name or card ID, an item's label, a flow ID (or
// the sale a refund names), a kind or step, an operator, or an amount as the operator types it in the
// shop's locale ("12.50", "1,000.00": read into minor units first, then compared exactly).
//
// A page says there is an older one only when there is: it reads one entry more than it shows.
import type { Journal, JournalRecord } from '../../../db/journal.js';
import { type MoneyFormat, readAmount } from '../../../protocol/money-format.js';
import type { FlowFacts, FlowOffer } from './flow-facts.js';
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

/** Words the operator may search a flow by besides its own fields. */
const BUSINESS_WORDS: Record<string, string> = {
  sale: 'sale payment',
  refund: 'refund',
  exchange: 'exchange',
  'item-send': 'item sent send',
  issue: 'issue issued',
  registration: 'registration',
  'key-update': 'key update',
  recovery: 'recovery',
};

export function transactionLog(o: {
  journal: Pick<Journal, 'page' | 'entriesForFlow'>;
  source: FlowFactsSource;
  money: MoneyFormat;
}) {
  const withFacts = (records: JournalRecord[]): LogRecord[] => {
    const seen = new Map<string, FlowFacts | undefined>();
    return records.map((r) => {
      if (!seen.has(r.flowId)) seen.set(r.flowId, o.source.flow(r.flowId));
      return { ...r, flow: seen.get(r.flowId) };
    });
  };

  return {
    page(q: LogQuery): LogPage {
      const text = q.search?.trim() ?? '';
      if (text === '') {
        // One more than shown tells whether an older page exists (the journal pages at most 1,000).
        const page = o.journal.page({ beforeSeq: q.beforeSeq, limit: Math.min(q.limit + 1, 1000) });
        return cut(withFacts(page.records), q.limit);
      }
      const reading = readAmount(text, o.money);
      const amount = reading.ok ? reading.minor : undefined;
      const matches = flowMatcher(text, amount);
      const flows = o.source
        .all()
        .filter(matches)
        .sort((a, b) => b.lastSeq - a.lastSeq);
      const records = newestEntriesOf(flows, q, (f) =>
        o.journal.entriesForFlow(f.flowId).map((e) => ({ ...e, flow: f })),
      );
      return { ...cut(records, q.limit), search: { text, amount } };
    },
  };
}

function cut(records: LogRecord[], limit: number): Omit<LogPage, 'search'> {
  const shown = records.slice(0, limit);
  return {
    records: shown,
    nextBeforeSeq: records.length > limit ? shown.at(-1)?.seq : undefined,
  };
}

/**
 * The newest limit + 1 entries below beforeSeq of the given flows (sorted by last entry, newest
 * first): a flow whose last entry is older than the (limit + 1)th entry found so far cannot add one.
 */
function newestEntriesOf(
  flows: FlowFacts[],
  q: LogQuery,
  entriesOf: (f: FlowFacts) => LogRecord[],
): LogRecord[] {
  const before = q.beforeSeq ?? Number.POSITIVE_INFINITY;
  const want = q.limit + 1;
  let found: LogRecord[] = [];
  for (const f of flows) {
    if (found.length >= want && f.lastSeq < found[want - 1]!.seq) break;
    if (f.firstSeq >= before) continue;
    const entries = entriesOf(f);
    found = [...found, ...entries.filter((e) => e.seq < before)].sort((a, b) => b.seq - a.seq).slice(0, want);
  }
  return found;
}

/** Whether a flow answers the search: its amount, or the text in any of its fields. */
export function flowMatcher(text: string, amount: number | undefined): (f: FlowFacts) => boolean {
  const needle = text.toLowerCase();
  const legAmount = (o: FlowOffer | undefined) => (o && 'amount' in o ? o.amount : undefined);
  return (f) => {
    // Text that reads as an amount is an amount (and, typed digits, perhaps the start of a flow ID):
    // "15" must not find every card ID with a 1 and a 5 in it.
    if (amount !== undefined)
      return (
        [f.amount, legAmount(f.gives), legAmount(f.takes)].includes(amount) ||
        f.flowId.toLowerCase().startsWith(needle)
      );
    const fields = [
      f.flowId,
      f.journalKind,
      f.business,
      BUSINESS_WORDS[f.business],
      f.from?.label,
      f.from?.holderId,
      f.to?.label,
      f.to?.holderId,
      ...f.items.map((i) => `${i.label} ${i.type}`),
      f.route,
      f.operator,
      f.refundOf,
      f.code,
      ...f.steps,
    ];
    return fields.some((v) => v?.toLowerCase().includes(needle) === true);
  };
}
