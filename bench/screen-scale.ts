// Benchmark: the operator screen's reads of the transaction log as it grows to a million transfers.
//
//   npx tsx bench/screen-scale.ts [--sizes 10000,100000,1000000]
//
// The log is filled as bench/journal-scale.ts fills it (bench/journal-fill.ts: real value transfers'
// entries and facts, 1,000 a business day). At each size a sale in the middle of the log gets two
// refunds (one completed, one that moved nothing) and a sale of the last full business day one, all
// through Journal.append; then, on a freshly opened connection with the terminal's settings, the
// screen's own services (electron/services/reports) are timed:
//   Z report      DayReports.summary() of the last full business day (Asia/Kathmandu): the day's flows
//                 with their facts, the open ones, the refunds of the day's sales, the report number;
//                 cold (a new facts source each run: nothing folded yet) and warm (the same one)
//   log           the transaction log's newest page with each flow's facts; a search by a holder's
//                 surname, by an amount as typed ("12.34" in en-IE), by a flow ID's first 8 digits
//                 (its refunds too), a page each (12 entries)
//   refund check  refundableSale(): the sale, and what its refunds left of it
// Every run's answer is checked (counts and totals of the day, amounts found, what is left).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../db/connection.js';
import { Flows } from '../db/flows.js';
import { Journal } from '../db/journal.js';
import { businessDayBounds, businessDayOf } from '../electron/services/receipts/business-day.js';
import type { DocumentSettings } from '../electron/services/receipts/document-settings.js';
import { createDayReports } from '../electron/services/reports/day-summary.js';
import { journalFactsSource } from '../electron/services/reports/journal-facts.js';
import { refundableSale } from '../electron/services/reports/sales.js';
import { transactionLog } from '../electron/services/reports/transaction-log.js';
import {
  captureTemplate,
  customer,
  DAY_MS,
  Filler,
  flowIdOf,
  LOG_PAGE,
  SHOP,
  STEPS,
  ZONE,
} from './journal-fill.js';
import {
  closingLines,
  formatCount,
  growthHeader,
  growthNote,
  growthTable,
  growthTimingRow,
  intOption,
  ms,
  NO_NETWORK,
  publishSection,
  RESULTS_OPTION,
  runBenchmark,
  type Summary,
  sizesOption,
  startRun,
  summarize,
} from './kit.js';

const OPTIONS = {
  sizes: 'transfers in the log at each measurement, ascending (default 10000,100000,1000000)',
  'per-day': 'completed transfers per business day (default 1000)',
  customers: 'distinct payer cards paying the one shop card (default 5000)',
  runs: 'timed runs of each log search and refund check (default 100; the Z report: a fifth of it)',
  results: RESULTS_OPTION,
};

const SETTINGS: DocumentSettings = {
  shopName: 'Corner Shop',
  terminalId: 'T-0001',
  timeZone: ZONE,
  money: { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' },
};

const QUERIES: { id: string; title: string }[] = [
  {
    id: 'z-cold',
    title: 'Z report (`DayReports.summary`), cold: a new facts source (nothing folded yet)',
  },
  { id: 'z-warm', title: 'Z report again, the same facts source (its folds kept)' },
  { id: 'log-page', title: 'log: newest page (12 entries) with their flows’ facts' },
  { id: 'log-name', title: 'log search by a holder’s surname, first page' },
  { id: 'log-amount', title: 'log search by an amount as typed ("12.34"), first page' },
  { id: 'log-flow', title: 'log search by a flow ID’s first 8 digits (the sale and its refunds)' },
  { id: 'refund-check', title: 'refund check (`refundableSale`): the sale and what its refunds left' },
];

interface Measured {
  transfers: number;
  dayCount: number;
  q: Record<string, Summary>;
}

async function main(options: Map<string, string>): Promise<void> {
  const sizes = sizesOption(options);
  const perDay = intOption(options, 'per-day', 1000);
  const customers = intOption(options, 'customers', 5000, 2);
  const runs = intOption(options, 'runs', 100);
  const run = startRun();
  const template = await captureTemplate();
  const dir = mkdtempSync(join(tmpdir(), 'bench-screen-'));
  const path = join(dir, 'terminal.db');
  try {
    const fill = new Filler(template, perDay, customers, sizes.at(-1)!);
    const results: Measured[] = [];
    for (const size of sizes) {
      const step = fill.fillTo(path, size);
      console.error(`${size} transfers in the log (bulk fill ${step.seconds.toFixed(0)} s); measuring`);
      results.push(measure(path, fill, { runs, perDay }));
      // After each size: a run stopped at 1M keeps the sizes it finished.
      publishSection(
        options,
        'screen-scale',
        report({ results, perDay, customers, runs, closing: closingLines(run, NO_NETWORK) }),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Refunds through Journal.append as the settlement engine journals one (facts included). */
function refund(
  path: string,
  saleIndex: number,
  amount: number,
  at: number,
  end: 'completed' | 'failed-no-value-moved',
) {
  const db = openDatabase(path);
  try {
    let clock = at;
    const journal = new Journal(db, { now: () => new Date(clock) });
    const saleId = flowIdOf(saleIndex);
    const flowId = crypto.randomUUID();
    const c = customer(1 + (saleIndex % 4999));
    const sale = journal.entriesForFlow(saleId)[0]!.payload;
    journal.append(
      {
        flowId,
        flowKind: 'value-transfer',
        step: 'started',
        payload: { ...sale, payerId: sale.payeeId, payeeId: sale.payerId, amount, refundOf: saleId },
      },
      {
        amount,
        currency: Number(sale.currency),
        cards: [
          { holderId: String(sale.payeeId), label: SHOP.label },
          { holderId: String(sale.payerId), label: c.label },
        ],
        refundOf: saleId,
      },
    );
    clock += 1000;
    journal.append({
      flowId,
      flowKind: 'value-transfer',
      step: end,
      payload: end === 'completed' ? { payerSettled: true } : { code: 'E_INSUFFICIENT_FUNDS', message: 'no' },
    });
  } finally {
    db.close();
  }
}

function measure(path: string, fill: Filler, o: { runs: number; perDay: number }): Measured {
  const transfers = fill.transfers;
  const target = Math.floor(transfers / 2);
  const saleAmount = fill.log.amounts[target]!;
  const refunded = Math.max(1, Math.floor(saleAmount / 3));
  refund(path, target, refunded, fill.log.closedAt[target]! + 60_000, 'completed');
  refund(path, target, 1, fill.log.closedAt[target]! + 120_000, 'failed-no-value-moved');
  // The last full business day in the zone, what the filler wrote into it, and one of its sales refunded.
  const lastClosed = fill.log.closedAt[transfers - 1]!;
  const day = businessDayOf(new Date(lastClosed - DAY_MS), ZONE);
  const { start, end } = businessDayBounds(day, ZONE);
  let dayCount = 0;
  let dayTotal = 0;
  let daySale = -1;
  for (let i = 0; i < transfers; i++) {
    const at = fill.log.closedAt[i]!;
    if (at >= start.getTime() && at < end.getTime()) {
      dayCount++;
      dayTotal += fill.log.amounts[i]!;
      if (daySale < 0) daySale = i;
    }
  }
  refund(path, daySale, 1, fill.log.closedAt[daySale]! + 1000, 'completed');

  const q: Record<string, Summary> = {};
  const time = (id: string, count: number, runOnce: () => boolean) => {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const ok = runOnce();
      samples.push(performance.now() - t0);
      if (!ok) throw new Error(`${id}: a wrong answer`);
    }
    q[id] = summarize(samples);
    console.error(`  ${id}: median ${ms(q[id].median)} ms`);
  };
  const db = openDatabase(path);
  try {
    const journal = new Journal(db);
    const flows = new Flows(db);
    const now = () => new Date(end.getTime() + 3_600_000);
    const zReport = (source = journalFactsSource(journal, flows)) => {
      const r = createDayReports({ source, settings: SETTINGS, now }).summary(day);
      const sale = r.report.kinds.find((k) => k.kind === 'sale');
      const refunds = r.report.kinds.find((k) => k.kind === 'refund');
      return (
        sale?.count === dayCount &&
        sale.valueIn.minor === dayTotal &&
        refunds?.count === 1 &&
        r.refundedSales.length === 1 &&
        r.refundedSales[0]!.flowId === flowIdOf(daySale)
      );
    };
    const zRuns = Math.max(3, Math.floor(o.runs / 5));
    for (let i = 0; i < 3; i++) zReport(); // untimed: the code's first runs (JIT), not the log's size
    time('z-cold', zRuns, () => zReport());
    const warm = journalFactsSource(journal, flows);
    time('z-warm', zRuns, () => zReport(warm));
    const log = transactionLog({
      journal,
      source: journalFactsSource(journal, flows),
      money: SETTINGS.money,
    });
    time('log-page', o.runs, () => log.page({ limit: LOG_PAGE }).records.every((r) => r.flow !== undefined));
    const surname = customer(0).label.split(' ')[1]!;
    time('log-name', o.runs, () => {
      const page = log.page({ limit: LOG_PAGE, search: surname });
      return (
        page.records.length === LOG_PAGE && page.records.every((r) => r.flow?.from?.holderId !== undefined)
      );
    });
    const typed = (saleAmount / 100).toFixed(2);
    time('log-amount', o.runs, () => {
      const page = log.page({ limit: LOG_PAGE, search: typed });
      return (
        page.search?.amount === saleAmount &&
        page.records.length > 0 &&
        page.records.every((r) => r.flow?.amount === saleAmount)
      );
    });
    const prefix = flowIdOf(target).slice(0, 8);
    time('log-flow', o.runs, () => {
      const ids = new Set(log.page({ limit: LOG_PAGE, search: prefix }).records.map((r) => r.flowId));
      return ids.has(flowIdOf(target)) && ids.size >= 3; // the sale and its two refunds
    });
    time('refund-check', o.runs, () => {
      const r = refundableSale(journal, flows, flowIdOf(target));
      return r.refunded === refunded && r.left === saleAmount - refunded;
    });
    return { transfers, dayCount, q };
  } finally {
    db.close();
  }
}

function report(r: {
  results: Measured[];
  perDay: number;
  customers: number;
  runs: number;
  closing: string;
}): string {
  const sizes = r.results.map((m) => m.transfers);
  const rows: string[][] = [growthHeader('transfers in the log', sizes)];
  for (const query of QUERIES) {
    rows.push(
      growthTimingRow(
        `${query.title}, median ms (p99)`,
        r.results.map((m) => m.q[query.id]!),
        ms,
      ),
    );
  }
  return [
    '## Operator screen at scale — the Z report, the log’s searches and a refund check',
    '',
    growthTable(rows),
    '',
    growthNote(sizes),
    `- the log: as in "Transaction log at scale" (${STEPS.length} entries per completed value transfer, the engine's facts, ${r.perDay} transfers per business day, payers from ${formatCount(r.customers)} customer cards), plus at each size three refunds through \`Journal.append\`: two of a sale in the middle of the log (one completed, one that moved nothing), one of a sale of the day reported`,
    `- the screen's services themselves (\`electron/services/reports\`): \`createDayReports\` over \`journalFactsSource\` (the day's ${r.results.map((m) => formatCount(m.dayCount)).join(', ')} transfers in ${ZONE}), \`transactionLog\` (en-IE, EUR), \`refundableSale\`; on a freshly opened connection with the terminal's settings; ${r.runs} runs each (the Z report ${Math.max(3, Math.floor(r.runs / 5))}), every answer checked`,
    '- targets (issue 14): end of day at most 100 ms and each search at most 10 ms at 1,000,000 transfers',
    '',
    r.closing,
  ].join('\n');
}

runBenchmark('bench/screen-scale.ts', OPTIONS, main);
