// `npx tsx bench/journal-verify.ts --db FILE [--workers 1,2] [--runs N]`: the full hash-chain verify
// of a log already filled, alone. journal-scale.ts fills a log of a million transfers in about a
// quarter of an hour and measures everything on it under whatever load the machine has then; this
// one times only the verify, on a copy of a log it kept (`journal-scale.ts --keep FILE`), so the
// figure that has a target (issue 14: a full verify at 1M transfers under 10 s) can be taken in a
// quiet minute. It prints the load average before and after each run beside the times.
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../db/connection.js';
import { Journal } from '../db/journal.js';
import { STEPS } from './journal-fill.js';
import {
  closingLines,
  formatCount,
  intOption,
  markdownTable,
  ms,
  NO_NETWORK,
  publishSection,
  RESULTS_OPTION,
  runBenchmark,
  startRun,
  summarize,
} from './kit.js';

const OPTIONS = {
  db: 'a terminal log to verify (for example one kept by `journal-scale.ts --keep FILE`); it is copied, never changed',
  workers: 'worker counts to time, comma-separated; 1 is `Journal.verify` on this thread (default 1,2)',
  runs: 'timed verifies per worker count (default 3)',
  results: RESULTS_OPTION,
};

interface Timed {
  workers: number;
  samples: number[];
  loads: string[];
}

async function main(options: Map<string, string>): Promise<void> {
  const source = options.get('db');
  if (!source)
    throw new Error('--db FILE is required (fill one with `npx tsx bench/journal-scale.ts --keep FILE`)');
  const workers = (options.get('workers') ?? '1,2').split(',').map((w) => {
    const n = Number(w);
    if (!Number.isInteger(n) || n < 1 || n > 16)
      throw new Error(`--workers: ${w} is not a count from 1 to 16`);
    return n;
  });
  const runs = intOption(options, 'runs', 3);
  const run = startRun();
  const dir = mkdtempSync(join(tmpdir(), 'bench-verify-'));
  const path = join(dir, 'terminal.db');
  try {
    copyFileSync(source, path);
    const db = openDatabase(path);
    const journal = new Journal(db);
    const entries = journal.head().seq;
    const timed: Timed[] = [];
    for (const w of workers) {
      const t: Timed = { workers: w, samples: [], loads: [] };
      for (let i = 0; i < runs; i++) {
        const before = loadavg()[0]!;
        const t0 = performance.now();
        const r = w === 1 ? journal.verify() : await journal.verifyParallel(w);
        const elapsed = performance.now() - t0;
        if (!r.ok || r.count !== entries) throw new Error(`verify with ${w} worker(s): ${JSON.stringify(r)}`);
        t.samples.push(elapsed);
        t.loads.push(`${before.toFixed(2)}→${loadavg()[0]!.toFixed(2)}`);
        console.error(`  ${w} worker(s), run ${i + 1}: ${ms(elapsed, 0)} ms (load ${t.loads.at(-1)})`);
      }
      timed.push(t);
    }
    db.close();
    const transfers = Math.round(entries / STEPS.length);
    const rows = timed.map((t) => {
      const s = summarize(t.samples);
      return [
        t.workers === 1
          ? 'one thread (`Journal.verify`)'
          : `${t.workers} worker threads (\`Journal.verifyParallel\`)`,
        ms(s.min, 0),
        ms(s.median, 0),
        formatCount(Math.round(entries / (s.median / 1000))),
        t.loads.join(', '),
      ];
    });
    const body = [
      '## Transaction log — full hash-chain verify of a kept log, alone',
      '',
      `A log of **${formatCount(transfers)} transfers** (${formatCount(entries)} entries, ${(statSync(source).size / 1e6).toFixed(1)} MB), verified from the genesis to the head, ${runs} run(s) per row:`,
      '',
      markdownTable(
        [
          [
            'verify',
            'min ms',
            'median ms',
            'entries per second (median)',
            'load average (1 min) before→after each run',
          ],
          ...rows,
        ],
        ['l', 'r', 'r', 'r', 'l'],
      ),
      '',
      '- every run checked: the result is ok and counts every entry of the log',
      '- the log: filled by `npx tsx bench/journal-scale.ts --sizes 1000000 --keep FILE` (see that section for how), copied to a temporary folder before the runs',
      closingLines(run, NO_NETWORK),
    ].join('\n');
    publishSection(options, 'journal-verify', body);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runBenchmark('journal-verify.ts', OPTIONS, main);
