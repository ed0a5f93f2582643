import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../db/connection.js';
import { Flows } from '../db/flows.js';
import { Journal } from '../db/journal.js';
import { ContentEngine } from '../electron/services/contents/content-engine.js';
import { businessDayBounds, businessDayOf } from '../electron/services/receipts/business-day.js';
import { SettlementEngine } from '../electron/services/settlement/settlement-engine.js';
import { createSimulatedSlots } from '../electron/services/slots/simulated-slots.js';
import { fromHex } from '../protocol/bytes.js';
import { makeTerminal } from '../test/support/terminal-fixtures.js';
import {
  BULK_BATCH,
  captureTemplate,
  customer,
  DAY_MS,
  Filler,
  flowIdOf,
  KEY_STEPS,
  LOG_PAGE,
  REAL_TAIL,
  STEPS,
  type Template,
  ZONE,
} from './journal-fill.js';
import {
  closingLines,
  filesystemOf,
  formatCount,
  growthHeader,
  growthNote,
  growthRow,
  growthTable,
  growthTimingRow,
  intOption,
  markdownTable,
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
  runs: 'timed runs of each query (default 200)',
  'verify-runs': 'timed full hash-chain verifications per size (default 1)',
  'key-updates': 'transfers with and without a key update for the key update’s size (default 10000)',
  keep: 'copy the database to this file at the end, to look at it (default: not kept)',
  results: RESULTS_OPTION,
};

interface Measured {
  transfers: number;
  fileBytes: number;
  tables: Map<string, number>;
  fill: { seconds: number; appendMicros: number; bulkTransfers: number };
  q: Record<string, Summary>;
  dayCount: number;
}

const QUERIES: { id: string; title: string }[] = [
  { id: 'startup', title: 'start-up: open the log, list open flows and in-doubt transfers' },
  { id: 'first', title: 'log page: newest 12 entries' },
  { id: 'middle', title: 'log page: 12 entries from the middle (`beforeSeq`)' },
  { id: 'oldest', title: 'log page: the oldest 12 entries' },
  { id: 'flow', title: 'one flow by ID: its state, facts and entries' },
  { id: 'flow-prefix', title: 'search by flow ID prefix (8 hex digits), first page' },
  { id: 'holder', title: "search by a customer card's holder ID prefix (8 hex digits), first page" },
  { id: 'label', title: 'search by a word of a card label (surname), first page' },
  { id: 'amount', title: 'search by amount (minor units), first page' },
  { id: 'text', title: 'log page with search text (a flow ID prefix)' },
  { id: 'summary', title: `end of day: \`Flows.summary\` of the last business day (${ZONE})` },
  { id: 'in-range', title: 'end of day: `Flows.inRange`, the day’s flows with their facts' },
  { id: 'incremental', title: 'incremental verify after one more day (`Journal.verifyIncremental`)' },
  { id: 'verify', title: 'full hash-chain verify (`Journal.verify`), one thread' },
  { id: 'verify-parallel', title: 'full hash-chain verify in 2 worker threads (`Journal.verifyParallel`)' },
];

async function main(options: Map<string, string>): Promise<void> {
  const sizes = sizesOption(options);
  const perDay = intOption(options, 'per-day', 1000);
  const customers = intOption(options, 'customers', 5000, 2);
  const runs = intOption(options, 'runs', 200);
  const verifyRuns = intOption(options, 'verify-runs', 1);
  const keyUpdates = intOption(options, 'key-updates', 10_000);
  const run = startRun();
  const template = await captureTemplate();
  const dir = mkdtempSync(join(tmpdir(), 'bench-journal-'));
  const path = join(dir, 'terminal.db');
  const storage = filesystemOf(dir);
  try {
    const keyUpdateBytes = measureKeyUpdate(dir, template, perDay, customers, keyUpdates);
    console.error(`a key update: ${keyUpdateBytes.toFixed(0)} bytes`);
    const fill = new Filler(template, perDay, customers, sizes.at(-1)! + perDay);
    const results: Measured[] = [];
    for (const size of sizes) {
      const from = fill.transfers;
      const step = fill.fillTo(path, size, { realTail: REAL_TAIL });
      console.error(`${size} transfers in the log (bulk fill ${step.seconds.toFixed(0)} s); measuring`);
      results.push({
        ...(await measure(path, fill, { runs, verifyRuns, perDay })),
        fill: { ...step, bulkTransfers: size - from - REAL_TAIL },
      });
    }
    publishSection(
      options,
      'journal-scale',
      report({
        results,
        perDay,
        customers,
        runs,
        verifyRuns,
        storage,
        keyUpdateBytes,
        keyUpdates,
        closing: closingLines(run, NO_NETWORK),
      }),
    );
    const keep = options.get('keep');
    if (keep) copyFileSync(path, keep);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measureKeyUpdate(dir: string, t: Template, perDay: number, customers: number, n: number): number {
  const size = (withKeyUpdates: boolean) => {
    const path = join(dir, `key-update-${withKeyUpdates}.db`);
    new Filler(t, perDay, customers, n).fillTo(path, n, { withKeyUpdates });
    const bytes = statSync(path).size;
    rmSync(path);
    return bytes;
  };
  return (size(true) - size(false)) / n;
}

async function measure(
  path: string,
  fill: Filler,
  o: { runs: number; verifyRuns: number; perDay: number },
): Promise<Omit<Measured, 'fill'>> {
  const q: Record<string, Summary> = {};
  const time = (
    id: string,
    count: number,
    run: () => number,
    expected: number | ((n: number) => boolean),
  ) => {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const got = run();
      samples.push(performance.now() - t0);
      const ok = typeof expected === 'number' ? got === expected : expected(got);
      if (!ok) throw new Error(`${id}: got ${got}, expected ${String(expected)}`);
    }
    q[id] = summarize(samples);
    console.error(`  ${id}: median ${ms(q[id].median)} ms`);
  };
  const transfers = fill.transfers;
  const fileBytes = statSync(path).size;
  // Start-up, each run on a fresh connection: open, the engines' lists (open flows, in doubt).
  time(
    'startup',
    Math.min(o.runs, 20),
    () => {
      const db = openDatabase(path);
      try {
        const journal = new Journal(db);
        const flows = new Flows(db);
        const slots = createSimulatedSlots({ waitingTimeMs: 200 });
        const engine = new SettlementEngine({
          slots,
          journal,
          flows,
          crl: { checkCertificate: () => ({ revoked: false }) },
          caCertificateDer: CA_DER,
          currency: 978,
        });
        const contents = new ContentEngine(engine, { journal, flows, slots });
        return engine.inDoubt().length + contents.openFlows().length + flows.openFlows().length;
      } finally {
        db.close();
      }
    },
    0,
  );
  const db = openDatabase(path);
  try {
    const journal = new Journal(db);
    const flows = new Flows(db);
    const tables = new Map<string, number>();
    for (const r of db.handle
      .prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name')
      .all() as { name: string; bytes: number }[]) {
      tables.set(r.name, r.bytes);
    }
    const entries = journal.head().seq;
    const page = (beforeSeq?: number, search?: string) =>
      journal.page({ limit: LOG_PAGE, beforeSeq, search }).records.length;
    time('first', o.runs, () => page(), LOG_PAGE);
    time('middle', o.runs, () => page(Math.floor(entries / 2)), LOG_PAGE);
    time('oldest', o.runs, () => page(LOG_PAGE + 1), LOG_PAGE);
    const target = Math.floor(transfers / 2);
    const flowId = flowIdOf(target);
    time(
      'flow',
      o.runs,
      () =>
        flows.flow(flowId)?.amount === fill.log.amounts[target] ? journal.entriesForFlow(flowId).length : -1,
      STEPS.length,
    );
    const prefix = flowId.replaceAll('-', '').slice(0, 8);
    time(
      'flow-prefix',
      o.runs,
      () => flows.search({ flowId: prefix }, { limit: LOG_PAGE }).flows.length,
      (n) => n >= 1,
    );
    const c0 = customer(0);
    const c0Flows = Math.floor(transfers / o.perDay);
    time(
      'holder',
      o.runs,
      () => flows.search({ holderId: c0.id.slice(0, 8) }, { limit: LOG_PAGE }).flows.length,
      Math.min(LOG_PAGE, c0Flows),
    );
    const surname = c0.label.split(' ')[1]!;
    time(
      'label',
      o.runs,
      () => flows.search({ label: surname }, { limit: LOG_PAGE }).flows.length,
      (n) => n >= 1,
    );
    const amount = fill.log.amounts[target]!;
    time(
      'amount',
      o.runs,
      () => flows.search({ amount }, { limit: LOG_PAGE }).flows.length,
      (n) => n >= 1,
    );
    time(
      'text',
      o.runs,
      () => page(undefined, prefix),
      (n) => n >= STEPS.length,
    );
    // The last full business day in the zone, and what the filler wrote into it.
    const lastClosed = fill.log.closedAt[transfers - 1]!;
    const day = businessDayOf(new Date(lastClosed - DAY_MS), ZONE);
    const { start, end } = businessDayBounds(day, ZONE);
    let count = 0;
    let total = 0;
    for (let i = 0; i < transfers; i++) {
      const at = fill.log.closedAt[i]!;
      if (at >= start.getTime() && at < end.getTime()) {
        count++;
        total += fill.log.amounts[i]!;
      }
    }
    time(
      'summary',
      o.runs,
      () => {
        const s = flows.summary({ from: start, to: end });
        const line = s.lines.find((l) => l.kind === 'value-transfer' && l.outcome === 'completed');
        return line && line.amount === total && s.open.length === 0 ? line.count : -1;
      },
      count,
    );
    time('in-range', Math.min(o.runs, 50), () => flows.inRange({ from: start, to: end }).length, count);
    db.close();
    // Verify: everything once (recording the head), one more day, then only that day; then all.
    const verifier = new Journal(openDatabase(path));
    verifier.verifyIncremental();
    (verifier as unknown as { db: { close(): void } }).db.close();
    fill.fillTo(path, transfers + o.perDay);
    const again = openDatabase(path);
    const j2 = new Journal(again);
    time(
      'incremental',
      1,
      () => {
        const r = j2.verifyIncremental();
        return r.ok ? (r.checked ?? -1) : -1;
      },
      o.perDay * STEPS.length,
    );
    time(
      'verify',
      o.verifyRuns,
      () => {
        const r = j2.verify();
        return r.ok ? r.count : -1;
      },
      (n) => n >= entries,
    );
    const parallel: number[] = [];
    for (let i = 0; i < o.verifyRuns; i++) {
      const t0 = performance.now();
      const r = await j2.verifyParallel(2);
      parallel.push(performance.now() - t0);
      if (!r.ok || r.count < entries) throw new Error(`verifyParallel: ${JSON.stringify(r)}`);
    }
    q['verify-parallel'] = summarize(parallel);
    console.error(`  verify-parallel: median ${ms(q['verify-parallel'].median)} ms`);
    again.close();
    return { transfers, fileBytes, tables, q, dayCount: count };
  } finally {
    db.close();
  }
}

const CA_DER = (() => {
  const t = makeTerminal();
  void t.engine.close();
  return fromHex(t.issuer.caCertificate);
})();

function report(r: {
  results: Measured[];
  perDay: number;
  customers: number;
  runs: number;
  verifyRuns: number;
  storage: string;
  keyUpdateBytes: number;
  keyUpdates: number;
  closing: string;
}): string {
  const { results } = r;
  const sizes = results.map((m) => m.transfers);
  const rows: string[][] = [
    growthHeader('transfers in the log', sizes),
    growthRow(
      'database file (MB)',
      results.map((m) => m.fileBytes),
      (v) => (v / 1e6).toFixed(1),
    ),
    growthRow(
      '**bytes per transfer**',
      results.map((m) => m.fileBytes / m.transfers),
      (v) => `**${v.toFixed(0)}**`,
    ),
    growthRow(
      '`Journal.append`, one commit + fsync each, µs per entry',
      results.map((m) => m.fill.appendMicros),
      (v) => v.toFixed(0),
    ),
    growthRow(
      'bulk fill (the same writer, 1,000 transfers a transaction), entries per second',
      results.map((m) => (m.fill.bulkTransfers * STEPS.length) / m.fill.seconds),
      (v) => formatCount(Math.round(v)),
    ),
  ];
  for (const query of QUERIES) {
    rows.push(
      growthTimingRow(
        `${query.title}, median ms (p99)`,
        results.map((m) => m.q[query.id]!),
        ms,
      ),
    );
  }
  const last = results.at(-1)!;
  const perTransfer = [...last.tables.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, bytes]) => [name, (bytes / last.transfers).toFixed(1)]);
  return [
    '## Transaction log at scale — compact journal: size, start-up, pages, searches, end of day, verify',
    '',
    growthTable(rows),
    '',
    growthNote(sizes),
    `- a key update (${KEY_STEPS.length} entries, its own flow: ${KEY_STEPS.join(', ')}) before a transfer adds **${r.keyUpdateBytes.toFixed(0)} bytes** (${formatCount(r.keyUpdates)} transfers with one against ${formatCount(r.keyUpdates)} without, whole file)`,
    `- each transfer: the ${STEPS.length} entries of a completed value transfer (${STEPS.join(', ')}), payload fields as the settlement engine writes them (checked against a real transfer at start-up), with the facts it passes; ${r.perDay} transfers per business day, payers drawn from ${formatCount(r.customers)} customer cards with labels, one shop card as payee`,
    `- fill: \`JournalWriter\` (what \`Journal.append\` runs inside its transaction) in transactions of ${BULK_BATCH} transfers with synchronous=OFF, then the last ${REAL_TAIL} transfers of each step through \`Journal.append\` with synchronous=FULL (the row above: one fsync per entry, on ${r.storage})`,
    `- measured on a freshly opened connection with the terminal's settings; file size after the checkpoint at close; runs per size: ${r.runs} for pages and searches (20 for start-up, 50 for \`inRange\`), 1 incremental verify, ${r.verifyRuns} full verify; each run checked (rows, the day's count and total, entries verified)`,
    `- end of day: the last full business day in ${ZONE} (UTC+05:45), its bounds from \`businessDayBounds\`: ${results.map((m) => `${m.dayCount} transfers`).join(', ')}`,
    `- incremental verify: after a verify recorded the head, one more business day (${r.perDay} transfers) is appended and \`verifyIncremental\` reads only it; the full verify then reads everything (${formatCount(last.transfers + r.perDay)} transfers at the last size)`,
    '',
    `Bytes per transfer by table and index at ${formatCount(last.transfers)} transfers (SQLite \`dbstat\`, pages including their free space):`,
    '',
    markdownTable([['table or index', 'bytes per transfer'], ...perTransfer], ['l', 'r']),
    '',
    r.closing,
  ].join('\n');
}

runBenchmark('bench/journal-scale.ts', OPTIONS, main);
