// Benchmark: the transaction log (SQLite journal) as it grows to a million value transfers.
//
//   npx tsx bench/journal-scale.ts [--sizes 10000,100000,1000000]
//
// One database, filled in steps up to each size; at each size it is closed, reopened with the
// terminal's own settings (db/connection.ts: WAL, synchronous=FULL) and measured:
//   size          database file bytes per transfer (after a checkpoint; no WAL left)
//   log pages     Journal.page(), the query behind the operator screen's log (12 rows a page, the
//                 screen's LOG_PAGE): the newest page, a page from the middle, the oldest page, and
//                 the screen's search box: a common step name, one customer's card id, one flow id
//   end of day    settlementSummary() of electron/ipc/handlers.ts, what 'settlement:summary' runs,
//                 for the last (busiest-so-far, full) business day
//   verify        Journal.verify(), the whole hash chain
//
// Fill: each transfer is the real sequence of journal entries of a completed value transfer, taken
// from one transfer the settlement engine runs at start-up between two simulated cards (in process,
// no PC/SC); step names and payload fields are the engine's, with fresh flow ids, random
// challenges, amounts and customer card ids. Entries go through the real Journal.append(), one commit
// each (it refuses to run inside a caller's transaction, so entries cannot be batched); for fill
// speed only, the fill connection runs with synchronous=OFF (no fsync per commit). Measurements use a
// freshly opened connection with the terminal's settings.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type TerminalDatabase } from '../db/connection.js';
import { Flows } from '../db/flows.js';
import { JOURNAL_SQL, Journal, type JournalEntry, type JournalRecord } from '../db/journal.js';
import { entryHash } from '../db/journal-hash.js';
import { type HandlerServices, settlementSummary } from '../electron/ipc/handlers.js';
import { SettlementEngine } from '../electron/services/settlement/settlement-engine.js';
import { createSimulatedSlots } from '../electron/services/slots/simulated-slots.js';
import { fromHex } from '../protocol/bytes.js';
import { canonicalJson } from '../protocol/canonical-json.js';
import { makeTerminal } from '../test/support/terminal-fixtures.js';
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
  'page-runs': 'timed runs of each page query that does not scan the log (default 200)',
  'scan-runs': 'timed runs of each query that scans the log: searches, end of day (default 5)',
  'verify-runs': 'timed full hash-chain verifications per size (default 1)',
  'real-tail':
    'transfers appended one by one through Journal.append() at the end of each fill step (default 100)',
  results: RESULTS_OPTION,
};

const LOG_PAGE = 12; // renderer/src/App.tsx
const STEPS = ['started', 'debit-initiated', 'credit-initiated', 'debited', 'credited', 'completed'];
const DAY_MS = 86_400_000;
const FIRST_DAY = Date.parse('2024-01-02T00:00:00Z');
const OPENING_MS = 8 * 3_600_000; // transfers spread over 08:00–20:00 UTC
const TRADING_MS = 12 * 3_600_000;
const ENTRY_GAP_MS = 5; // between the entries of one transfer
const BULK_BATCH = 1000; // transfers per fill transaction

interface FillStep {
  bulkTransfers: number;
  bulkSeconds: number;
  realTransfers: number;
  /** Journal.append() with synchronous=OFF, per entry. */
  appendMicros: number;
  /** Preparing Journal.append()'s three statements once. */
  prepareMicros: number;
}

/** One completed transfer's journal entries, as the engine writes them; see template(). */
interface Template {
  currency: number;
  payeeId: string;
  payeeSerial: string;
  payloads: Record<string, unknown>[];
}

interface Measured {
  transfers: number;
  entries: number;
  fileBytes: number;
  pageSize: number;
  pages: number;
  fill: FillStep;
  q: Record<string, Summary>;
  summaryCount: number;
}

const QUERIES: { id: string; title: string }[] = [
  { id: 'first', title: 'log page: newest 12 entries' },
  { id: 'middle', title: 'log page: 12 entries from the middle (`beforeSeq`)' },
  { id: 'oldest', title: 'log page: the oldest 12 entries' },
  { id: 'search-step', title: 'log search "credited" (every 6th entry), first page' },
  { id: 'search-card', title: "log search one customer's card id, first page" },
  { id: 'search-flow', title: 'log search one flow id (6 entries: scans the whole log)' },
  { id: 'summary', title: 'end-of-day summary (`settlementSummary`, last day)' },
  { id: 'verify', title: 'full hash-chain verify (`Journal.verify`)' },
];

async function main(options: Map<string, string>): Promise<void> {
  const sizes = sizesOption(options);
  const perDay = intOption(options, 'per-day', 1000);
  const customers = intOption(options, 'customers', 5000);
  const pageRuns = intOption(options, 'page-runs', 200);
  const scanRuns = intOption(options, 'scan-runs', 5);
  const verifyRuns = intOption(options, 'verify-runs', 1);
  const realTail = intOption(options, 'real-tail', 100, 0);
  const run = startRun();

  const { template, caCertificateDer } = await captureTemplate();
  const dir = mkdtempSync(join(tmpdir(), 'bench-journal-'));
  const dbPath = join(dir, 'terminal.db');
  const storage = filesystemOf(dir);
  try {
    const fill = new Filler(dbPath, template, perDay, customers);
    const results: Measured[] = [];
    for (const size of sizes) {
      const step = fill.fillTo(size, realTail);
      console.error(`${size} transfers in the log (bulk fill ${step.bulkSeconds.toFixed(0)} s); measuring`);
      results.push({
        ...measure(dbPath, fill, caCertificateDer, { pageRuns, scanRuns, verifyRuns }),
        fill: step,
      });
    }
    const body = report({
      results,
      perDay,
      customers,
      pageRuns,
      scanRuns,
      verifyRuns,
      storage,
      closing: closingLines(run, NO_NETWORK),
    });
    publishSection(options, 'journal-scale', body);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one real transfer between two simulated cards and keeps its journal entries as the template. */
async function captureTemplate(): Promise<{ template: Template; caCertificateDer: Uint8Array }> {
  const entries: JournalRecord[] = [];
  const t = makeTerminal({ afterJournalAppend: (r) => entries.push(r) });
  try {
    const outcome = await t.engine.transfer({ amount: 1 });
    if (outcome.status !== 'completed') throw new Error(`template transfer ${outcome.status}`);
  } finally {
    await t.engine.close();
  }
  if (entries.map((e) => e.step).join() !== STEPS.join()) {
    throw new Error(
      `a transfer now writes ${entries.map((e) => e.step).join(', ')}; update bench/journal-scale.ts`,
    );
  }
  const started = entries[0]!.payload;
  return {
    template: {
      currency: Number(started.currency),
      payeeId: String(started.payeeId),
      payeeSerial: String(started.payeeSerial),
      payloads: entries.map((e) => e.payload),
    },
    caCertificateDer: fromHex(t.issuer.caCertificate),
  };
}

/** Appends transfers to the log through Journal.append(), continuing where the last call stopped. */
class Filler {
  transfers = 0;
  /** Amount of every transfer (to check the end-of-day totals). */
  private readonly amounts: number[] = [];
  /** Flow id of every transfer whose index is asked for by a search (the middle one of each size). */
  private readonly flowIds = new Map<number, string>();
  private readonly payers: { id: string; serial: string }[];
  private clock = new Date(FIRST_DAY);
  private payerZeroTransfers = 0;

  constructor(
    private readonly dbPath: string,
    private readonly template: Template,
    readonly perDay: number,
    customers: number,
  ) {
    this.payers = Array.from({ length: customers }, (_, i) => ({
      id: hex(16),
      serial: String(1000 + i),
    }));
  }

  /**
   * Appends transfers up to `size`: all but the last `realTail` in transactions of BULK_BATCH
   * transfers with the journal's own statements and hash (see bulkAppender), the last `realTail`
   * through Journal.append() itself, which continues the same chain.
   */
  fillTo(size: number, realTail: number): FillStep {
    this.flowIds.set(Math.floor(size / 2), '');
    const db = openDatabase(this.dbPath);
    try {
      db.handle.pragma('synchronous = OFF'); // fill only: see the header
      const from = this.transfers;
      const bulkEnd = Math.max(from, size - realTail);
      const t0 = performance.now();
      const append = bulkAppender(db);
      const batch = db.handle.transaction((start: number, end: number) => {
        for (let i = start; i < end; i++) this.writeTransfer(i, append);
      });
      for (let i = from; i < bulkEnd; i += BULK_BATCH) batch.immediate(i, Math.min(bulkEnd, i + BULK_BATCH));
      const t1 = performance.now();
      const journal = new Journal(db, { now: () => this.clock });
      for (let i = bulkEnd; i < size; i++) {
        this.writeTransfer(i, (entry, at) => {
          this.clock = at;
          journal.append(entry);
        });
      }
      const t2 = performance.now();
      this.transfers = size;
      // What re-preparing Journal.append's three statements costs on each call (it does not cache them).
      const rounds = 200;
      const t3 = performance.now();
      for (let k = 0; k < rounds; k++) {
        db.handle.prepare(JOURNAL_SQL.flowKind);
        db.handle.prepare(JOURNAL_SQL.head);
        db.handle.prepare(JOURNAL_SQL.insert);
      }
      const prepareMicros = ((performance.now() - t3) * 1000) / rounds;
      db.handle.pragma('synchronous = FULL');
      const realEntries = (size - bulkEnd) * STEPS.length;
      return {
        bulkTransfers: bulkEnd - from,
        bulkSeconds: (t1 - t0) / 1000,
        realTransfers: size - bulkEnd,
        appendMicros: realEntries > 0 ? ((t2 - t1) * 1000) / realEntries : Number.NaN,
        prepareMicros,
      };
    } finally {
      db.close();
    }
  }

  flowId(index: number): string {
    const id = this.flowIds.get(index);
    if (!id) throw new Error(`no flow id kept for transfer ${index}`);
    return id;
  }

  /** The business day of the last transfer, its completed transfers and their total. */
  lastDay(): { day: string; count: number; total: number } {
    const lastIndex = this.transfers - 1;
    const dayIndex = Math.floor(lastIndex / this.perDay);
    let total = 0;
    for (let i = dayIndex * this.perDay; i <= lastIndex; i++) total += this.amounts[i]!;
    return {
      day: new Date(FIRST_DAY + dayIndex * DAY_MS).toISOString().slice(0, 10),
      count: lastIndex - dayIndex * this.perDay + 1,
      total,
    };
  }

  /** The card searched for ("one customer's card"), and how many transfers it paid so far. */
  somePayer(): { id: string; transfers: number } {
    return { id: this.payers[0]!.id, transfers: this.payerZeroTransfers };
  }

  private writeTransfer(index: number, append: Appender): void {
    const day = Math.floor(index / this.perDay);
    const start =
      FIRST_DAY + day * DAY_MS + OPENING_MS + Math.floor(((index % this.perDay) * TRADING_MS) / this.perDay);
    const flowId = randomUUID();
    if (this.flowIds.has(index)) this.flowIds.set(index, flowId);
    // Payer 0 pays once a day at the close, so its card id is always found on the newest pages.
    const payer =
      index % this.perDay === this.perDay - 1 ? this.payers[0]! : this.payers[index % this.payers.length]!;
    if (payer === this.payers[0]) this.payerZeroTransfers++;
    const amount = 1 + (index % 9973) * 7;
    this.amounts.push(amount);
    const payloads = this.payloads(start, amount, payer);
    for (let step = 0; step < STEPS.length; step++) {
      append(
        { flowId, flowKind: 'value-transfer', step: STEPS[step]!, payload: payloads[step]! },
        new Date(start + step * ENTRY_GAP_MS),
      );
    }
  }

  /** The template's payloads with this transfer's values; unknown fields stop the benchmark. */
  private payloads(start: number, amount: number, payer: { id: string; serial: string }) {
    const t = this.template;
    const out = [
      {
        amount,
        currency: t.currency,
        date: Math.floor(start / 1000),
        keyUpdates: [],
        payeeId: t.payeeId,
        payeeSerial: t.payeeSerial,
        payerId: payer.id,
        payerSerial: payer.serial,
      },
      { txRandom: hex(16) },
      { challenge: hex(16), rxRandom: hex(16) },
      { receptionChallenge: hex(16) },
      { ack: hex(16), payeeSettled: true },
      { payerSettled: true },
    ];
    for (let i = 0; i < out.length; i++) {
      const want = Object.keys(t.payloads[i]!).sort().join();
      if (Object.keys(out[i]!).sort().join() !== want) {
        throw new Error(
          `the engine's "${STEPS[i]}" payload has fields ${want}; update bench/journal-scale.ts`,
        );
      }
    }
    return out;
  }
}

type Appender = (entry: JournalEntry, at: Date) => void;

/**
 * What Journal.append() does, minus its one-commit-per-entry rule: the same statements
 * (JOURNAL_SQL.head, JOURNAL_SQL.insert, whose triggers check the chain and keep journal_head and
 * flow_state), the same canonical JSON and hash, prepared once; the caller holds a transaction.
 */
function bulkAppender(db: TerminalDatabase): Appender {
  const head = db.handle.prepare(JOURNAL_SQL.head);
  const insert = db.handle.prepare(JOURNAL_SQL.insert);
  return (entry, at) => {
    const { seq: last, hash: prevHash } = head.get() as { seq: number; hash: string };
    const text = canonicalJson(entry.payload);
    const seq = last + 1;
    const iso = at.toISOString();
    const hash = entryHash(prevHash, {
      seq,
      at: iso,
      flow_id: entry.flowId,
      flow_kind: entry.flowKind,
      step: entry.step,
      payload: JSON.parse(text),
    });
    insert.run(seq, iso, entry.flowId, entry.flowKind, entry.step, text, prevHash, hash);
  };
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex').toUpperCase();
}

function measure(
  dbPath: string,
  fill: Filler,
  caCertificateDer: Uint8Array,
  runs: { pageRuns: number; scanRuns: number; verifyRuns: number },
): Omit<Measured, 'fill'> {
  const db = openDatabase(dbPath);
  try {
    const journal = new Journal(db);
    const flows = new Flows(db);
    const entries = fill.transfers * STEPS.length;
    const fileBytes = statSync(dbPath).size;
    const pageSize = Number(db.handle.pragma('page_size', { simple: true }));
    const pages = Number(db.handle.pragma('page_count', { simple: true }));
    const services = summaryServices(journal, flows, caCertificateDer);

    const q: Record<string, Summary> = {};
    const time = (id: string, count: number, run: () => number, expected: number) => {
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        const got = run();
        samples.push(performance.now() - t0);
        if (got !== expected) throw new Error(`${id}: got ${got}, expected ${expected}`);
      }
      q[id] = summarize(samples);
      console.error(`  ${id}: median ${ms(q[id].median)} ms`);
    };
    const page = (beforeSeq?: number, search?: string) =>
      journal.page({
        limit: LOG_PAGE,
        beforeSeq,
        search,
      }).records.length;

    time('first', runs.pageRuns, () => page(), LOG_PAGE);
    time('middle', runs.pageRuns, () => page(Math.floor(entries / 2)), LOG_PAGE);
    time('oldest', runs.pageRuns, () => page(LOG_PAGE + 1), LOG_PAGE);
    time('search-step', runs.pageRuns, () => page(undefined, 'credited'), LOG_PAGE);
    const payer = fill.somePayer();
    time('search-card', runs.scanRuns, () => page(undefined, payer.id), Math.min(LOG_PAGE, payer.transfers));
    const flowId = fill.flowId(Math.floor(fill.transfers / 2));
    time('search-flow', runs.scanRuns, () => page(undefined, flowId), STEPS.length);
    const last = fill.lastDay();
    let summaryCount = 0;
    time(
      'summary',
      runs.scanRuns,
      () => {
        const s = settlementSummary(services, last.day);
        if (s.total !== last.total || s.notCompleted !== 0) {
          throw new Error(`summary of ${last.day}: ${JSON.stringify({ ...s, directions: undefined })}`);
        }
        summaryCount = s.count;
        return s.count;
      },
      last.count,
    );
    time(
      'verify',
      runs.verifyRuns,
      () => {
        const r = journal.verify();
        if (!r.ok) throw new Error(`journal does not verify: ${JSON.stringify(r)}`);
        return r.count;
      },
      entries,
    );
    return { transfers: fill.transfers, entries, fileBytes, pageSize, pages, q, summaryCount };
  } finally {
    db.close();
  }
}

/** What settlementSummary() reads: the journal, the flow cache and the engine's in-doubt list. */
function summaryServices(journal: Journal, flows: Flows, caCertificateDer: Uint8Array): HandlerServices {
  const engine = new SettlementEngine({
    slots: createSimulatedSlots({ waitingTimeMs: 200 }),
    journal,
    flows,
    crl: { checkCertificate: () => ({ revoked: false }) },
    caCertificateDer,
    currency: 0,
  });
  // settlementSummary() reads only the engine, the journal and the flows; any other service it
  // touched would throw here.
  const unused = new Proxy(
    {},
    {
      get: () => () => {
        throw new Error('not used by settlementSummary');
      },
    },
  ) as never;
  return {
    engine,
    journal,
    flows,
    contents: unused,
    recovery: unused,
    crl: unused,
    slots: unused,
    config: unused,
  };
}

function report(r: {
  results: Measured[];
  perDay: number;
  customers: number;
  pageRuns: number;
  scanRuns: number;
  verifyRuns: number;
  storage: string;
  /** closingLines(): machine, date, command. */
  closing: string;
}): string {
  const { results } = r;
  const sizes = results.map((m) => m.transfers);
  const rows: string[][] = [
    growthHeader('transfers in the log', sizes),
    growthRow(
      'journal entries',
      results.map((m) => m.entries),
      formatCount,
    ),
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
  const runsOf = (id: string) => results[0]!.q[id]!.count;
  return [
    '## Transaction log at scale — journal size, log pages, end of day, hash-chain verify',
    '',
    growthTable(rows),
    '',
    growthNote(sizes),
    `- each transfer: the 6 entries of a completed value transfer (${STEPS.join(', ')}), payload fields as the settlement engine writes them (checked against a real transfer run at start-up between two simulated cards), fresh flow id, challenges and amount; ${r.perDay} transfers per business day (08:00–20:00 UTC), payers drawn from ${formatCount(r.customers)} customer cards, one shop card as payee`,
    `- fill: in transactions of ${BULK_BATCH} transfers, because \`Journal.append\` commits each entry and refuses to run inside a transaction: the journal's own statements (\`JOURNAL_SQL.head\`, \`JOURNAL_SQL.insert\`, whose triggers check that each row extends the chain and keep \`journal_head\` and \`flow_state\`), canonical JSON and \`entryHash\`, i.e. \`Journal.append\`'s body; then the last ${results[0]!.fill.realTransfers} transfers of each step through \`Journal.append\` itself, continuing the same chain; \`Journal.verify\` below recomputes every entry's hash. The fill connection runs with synchronous=OFF; bulk fill ${results.map((m) => `${m.fill.bulkSeconds.toFixed(0)} s`).join(', ')} (${results.map((m) => `${((m.fill.bulkTransfers * STEPS.length) / m.fill.bulkSeconds / 1000).toFixed(1)}k entries/s`).join(', ')})`,
    `- \`Journal.append\` one by one (synchronous=OFF, so without the fsync the transfer benchmark measures): ${results.map((m) => `${m.fill.appendMicros.toFixed(0)} µs`).join(', ')} per entry, of which preparing its three statements, which it does on every call, takes ${results.map((m) => `${m.fill.prepareMicros.toFixed(0)} µs`).join(', ')}`,
    `- measured on a freshly opened connection with the terminal's settings (WAL, synchronous=FULL), database on ${r.storage}, page size ${results[0]!.pageSize} B; file size after the checkpoint at close (no WAL)`,
    `- runs per size: page queries and the "credited" search ${runsOf('first')}, the card and flow-id searches and the end of day ${runsOf('summary')}, verify ${runsOf('verify')}; each run checked (rows returned, the day's count and total, entries verified); percentiles nearest-rank`,
    `- log pages: \`Journal.page({ limit: 12, beforeSeq?, search? })\`, newest first (\`ORDER BY seq DESC LIMIT\` on the rowid); search is a case-insensitive LIKE over flow id, kind, step and payload, so it reads entries from the newest back until it has 12 matches or reaches the oldest: a flow id (6 matches) always reads the whole log`,
    `- end of day: \`settlementSummary(services, day)\` (electron/ipc/handlers.ts) for the last business day (${results.map((m) => `${m.summaryCount} transfers`).join(', ')}): it lists every flow of the log (\`Flows.all()\`) and keeps the day's completed value transfers, then folds each one's entries`,
    r.closing,
  ].join('\n');
}

runBenchmark('bench/journal-scale.ts', OPTIONS, main);
