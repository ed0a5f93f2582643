// `npm run soak -- --cases N --seed S [--tier memory|pcscd] [--workers W] [--verify-every K] [--adversary SHARE] [--broken NAME]`
// `npm run soak -- --tier fleet --seed S [--rounds N]`: terminal processes, simulated cards, host
//   instances and PostgreSQL with faults, then clearing's invariants (fleet-soak.ts)
// `npm run soak -- --tier fleet-journals --seed S [--rounds N]`: clearing alone at volume, journals
//   written directly (fleet-journal-soak.ts)
// `npm run soak -- --fuzz all|apdu,der,... --fuzz-runs N --seed S [--fuzz-path P]`
//
// Runs the seeded fault campaign for as long as asked and prints what it did: cases, faults
// injected by kind (armed and fired), operations, outcomes, and violations (must be 0). With W
// workers, worker i runs its share of the cases with seed S+i in a world of its own (its own
// process; on the pcscd tier its own pcscd). A violation prints the seed and case and the command
// that replays it (the cases of one seed run in one world, in order, so a replay runs up to it).
// --adversary SHARE sets the share of cases in which a hostile terminal visits two cards before the
// operation (adversary-case.ts; default 0.25 on the memory tier, part of every campaign there, 0 on
// the pcscd tier; 0 for none, 1 for every case);
// --broken NAME puts a deliberately broken card (test/adversary/broken-cards.ts) in those visits, and
// the run must then fail.
// With --fuzz it also runs the fuzzer cores of test/fuzz/ (hostile APDUs, mutated DER, IPC payloads,
// hostile cards) for as many runs each, and prints their cases and failures with the replay command.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { BROKEN_CARDS } from '../adversary/broken-cards.js';
import { FUZZERS, type FuzzReport } from '../fuzz/fuzzers.js';
import { inQuickackNetwork, reexecInQuickackNetwork } from '../support/quickack-network.js';
import type { CampaignWorld } from './campaign-world.js';
import { type CampaignReport, DEFAULT_ADVERSARY_SHARE, runCampaign } from './fault-campaign.js';
import { startMemoryWorld } from './memory-world.js';

const USAGE =
  'usage: npm run soak -- --cases N --seed S [--tier memory|pcscd] [--workers W] [--verify-every K] [--adversary SHARE] [--broken NAME] [--network private|host] [--json] [--quiet]\n' +
  '       npm run soak -- --tier fleet|fleet-journals --seed S [--rounds N]\n' +
  `       npm run soak -- --fuzz all|${Object.keys(FUZZERS).join(',')} --fuzz-runs N --seed S [--fuzz-path P] [--cases N ...]`;

interface SoakOptions {
  cases: number;
  seed: number;
  tier: 'memory' | 'pcscd';
  workers: number;
  verifyEvery: number;
  adversary: number;
  broken: string | undefined;
  quiet: boolean;
  network: 'private' | 'host';
  json: boolean;
  fuzz: string[];
  fuzzRuns: number;
  fuzzPath: string | undefined;
}

function parse(argv: string[]): SoakOptions & { worker: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      cases: { type: 'string' },
      seed: { type: 'string' },
      tier: { type: 'string', default: 'memory' },
      workers: { type: 'string', default: '1' },
      'verify-every': { type: 'string', default: '100' },
      adversary: { type: 'string' },
      broken: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      network: { type: 'string', default: 'private' },
      json: { type: 'boolean', default: false },
      fuzz: { type: 'string' },
      'fuzz-runs': { type: 'string', default: '1000' },
      'fuzz-path': { type: 'string' },
      worker: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < min)
      throw new Error(
        `--${name} must be an integer ≥ ${min}${v === undefined ? ' (required)' : `, not ${v}`}`,
      );
    return n;
  };
  let fuzz: string[] = [];
  if (values.fuzz !== undefined) {
    fuzz = values.fuzz === 'all' ? Object.keys(FUZZERS) : values.fuzz.split(',');
    const unknown = fuzz.filter((f) => !Object.hasOwn(FUZZERS, f));
    if (unknown.length > 0 || fuzz.length === 0)
      throw new Error(`--fuzz names all or some of ${Object.keys(FUZZERS).join(', ')}, not ${values.fuzz}`);
    if (values['fuzz-path'] !== undefined && fuzz.length !== 1)
      throw new Error('--fuzz-path replays one case of one fuzzer: name that fuzzer in --fuzz');
  }
  const tier = values.tier;
  if (tier !== 'memory' && tier !== 'pcscd') throw new Error(`--tier is memory or pcscd, not ${tier}`);
  // The pcscd tier is for the real stack under faults: the hostile terminal's moves do not go through it.
  const adversary =
    values.adversary === undefined
      ? values.tier === 'memory'
        ? DEFAULT_ADVERSARY_SHARE
        : 0
      : Number(values.adversary);
  if (!(adversary >= 0 && adversary <= 1))
    throw new Error(`--adversary is a share of cases from 0 to 1, not ${values.adversary}`);
  if (values.broken !== undefined && !Object.hasOwn(BROKEN_CARDS, values.broken))
    throw new Error(`--broken names one of ${Object.keys(BROKEN_CARDS).join(', ')}, not ${values.broken}`);
  const network = values.network;
  if (network !== 'private' && network !== 'host')
    throw new Error(`--network is private or host, not ${network}`);
  return {
    // With --fuzz alone no campaign runs.
    cases: fuzz.length > 0 && values.cases === undefined ? 0 : int('cases', values.cases, 1),
    seed: int('seed', values.seed, 0),
    tier,
    workers: int('workers', values.workers, 1),
    verifyEvery: int('verify-every', values['verify-every'], 1),
    adversary,
    broken: values.broken,
    quiet: values.quiet,
    network,
    json: values.json,
    fuzz,
    fuzzRuns: int('fuzz-runs', values['fuzz-runs'], 1),
    fuzzPath: values['fuzz-path'],
    worker: values.worker,
  };
}

export async function startWorld(tier: 'memory' | 'pcscd', seed: number): Promise<CampaignWorld> {
  if (tier === 'memory') return startMemoryWorld({ seed });
  const { startPcscdWorld } = await import('./pcscd-world.js');
  return startPcscdWorld({ seed });
}

async function runWorker(o: SoakOptions): Promise<CampaignReport> {
  const world = await startWorld(o.tier, o.seed);
  try {
    let done = 0;
    const started = Date.now();
    return await runCampaign(world, {
      seed: o.seed,
      cases: o.cases,
      verifyEvery: o.verifyEvery,
      adversary: o.adversary,
      ...(o.broken ? { broken: o.broken } : {}),
      onCase: () => {
        done++;
        if (!o.quiet && (done % 500 === 0 || done === o.cases)) {
          const rate = (done / ((Date.now() - started) / 1000)).toFixed(1);
          process.stderr.write(`seed ${o.seed}: ${done}/${o.cases} cases (${rate}/s)\n`);
        }
      },
    });
  } finally {
    await world.close();
  }
}

function spawnWorker(o: SoakOptions, seed: number, cases: number): Promise<CampaignReport> {
  return new Promise((resolve, reject) => {
    const args = [
      ...process.execArgv,
      process.argv[1]!,
      '--worker',
      '--cases',
      String(cases),
      '--seed',
      String(seed),
      '--tier',
      o.tier,
      '--verify-every',
      String(o.verifyEvery),
      '--adversary',
      String(o.adversary),
      ...(o.broken ? ['--broken', o.broken] : []),
      ...(o.quiet ? ['--quiet'] : []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      try {
        resolve(JSON.parse(out) as CampaignReport);
      } catch {
        reject(new Error(`worker seed ${seed} exited ${code} without a report:\n${out.slice(-2000)}`));
      }
    });
  });
}

export function mergeReports(reports: CampaignReport[]): CampaignReport {
  const merged: CampaignReport = {
    tier: reports[0]!.tier,
    seed: reports[0]!.seed,
    cases: 0,
    faults: {},
    operations: {},
    outcomes: {},
    adversary: {},
    violations: [],
    totalValue: 0,
    cards: 0,
    items: 0,
    elapsedMs: 0,
  };
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
  };
  for (const r of reports) {
    merged.cases += r.cases;
    for (const [k, f] of Object.entries(r.faults)) {
      const m = merged.faults[k] ?? { armed: 0, fired: 0 };
      merged.faults[k] = { armed: m.armed + f.armed, fired: m.fired + f.fired };
    }
    add(merged.operations, r.operations);
    add(merged.outcomes, r.outcomes);
    add(merged.adversary, r.adversary);
    merged.violations.push(...r.violations.map((v) => ({ ...v, seed: r.seed })));
    merged.totalValue += r.totalValue;
    merged.cards += r.cards;
    merged.items += r.items;
    merged.elapsedMs = Math.max(merged.elapsedMs, r.elapsedMs);
  }
  return merged;
}

export function formatReport(r: CampaignReport, seeds: string, adversaryFlags = ''): string {
  const lines = [
    `fault campaign (${r.tier} tier), seeds ${seeds}: ${r.cases} cases in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    'faults injected (armed / fired; a point past the end of a shorter operation does not fire):',
    ...Object.entries(r.faults)
      .sort()
      .map(([k, f]) => `  ${k.padEnd(18)} ${String(f.armed).padStart(8)} / ${f.fired}`),
    'operations:',
    ...Object.entries(r.operations)
      .sort()
      .map(([k, n]) => `  ${k.padEnd(18)} ${String(n).padStart(8)}`),
    'outcomes:',
    ...Object.entries(r.outcomes)
      .sort()
      .map(([k, n]) => `  ${k.padEnd(34)} ${String(n).padStart(8)}`),
    `hostile terminal: ${r.adversary.visited ?? 0} visits (${r.adversary.skipped ?? 0} skipped: no two cards on one key), ${r.adversary.commands ?? 0} commands, ${r.adversary.accepted ?? 0} accepted, ${r.adversary.payments ?? 0} payments of 0.01 after recovery${r.adversary.pinBlocked ? ` (${r.adversary.pinBlocked} refused for a blocked PIN)` : ''}`,
    `cards issued ${r.cards}, content items ${r.items}, value conserved: ${r.totalValue} minor units`,
    `violations: ${r.violations.length}`,
  ];
  for (const v of r.violations as (CampaignReport['violations'][number] & { seed?: number })[]) {
    const seed = v.seed ?? r.seed;
    lines.push(
      `  seed ${seed} case ${v.case} (${v.plan.operation}, ${v.plan.fault}): ${v.messages.join('; ')}`,
      `    replay: npm run soak -- --tier ${r.tier} --seed ${seed} --cases ${v.case + 1}${adversaryFlags}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  // The fleet tiers (issue 12) are worlds of their own: clearing, host instances and PostgreSQL.
  const argv = process.argv.slice(2);
  const tierIs = (name: string) =>
    argv.some((a, i) => a === `--tier=${name}` || (a === '--tier' && argv[i + 1] === name));
  if (tierIs('fleet')) return (await import('./fleet-soak.js')).fleetSoakMain(argv);
  if (tierIs('fleet-journals')) return (await import('./fleet-journal-soak.js')).fleetJournalSoakMain(argv);
  let o: SoakOptions & { worker: boolean };
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  // On pcscd, each APDU would wait for vpcd's delayed ACK on the host network: run in a namespace of
  // our own with quickack (workers inherit it).
  if (o.tier === 'pcscd' && o.network === 'private' && !o.worker && !inQuickackNetwork())
    return reexecInQuickackNetwork();
  if (o.worker) {
    const report = await runWorker(o);
    process.stdout.write(JSON.stringify(report));
    return 0;
  }
  let violations = 0;
  const out: { campaign?: CampaignReport; fuzz?: FuzzReport[] } = {};
  if (o.cases > 0) {
    let report: CampaignReport;
    if (o.workers === 1) {
      report = await runWorker(o);
    } else {
      const share = Math.ceil(o.cases / o.workers);
      const jobs: Promise<CampaignReport>[] = [];
      for (let i = 0, left = o.cases; i < o.workers && left > 0; i++, left -= share)
        jobs.push(spawnWorker(o, o.seed + i, Math.min(share, left)));
      report = mergeReports(await Promise.all(jobs));
    }
    const seeds = o.workers === 1 ? String(o.seed) : `${o.seed}..${o.seed + o.workers - 1}`;
    const flags = `${o.adversary !== (o.tier === 'memory' ? DEFAULT_ADVERSARY_SHARE : 0) ? ` --adversary ${o.adversary}` : ''}${o.broken ? ` --broken ${o.broken}` : ''}`;
    if (!o.json) console.log(formatReport(report, seeds, flags));
    out.campaign = report;
    violations += report.violations.length;
  }
  if (o.fuzz.length > 0) {
    out.fuzz = [];
    for (const name of o.fuzz) {
      const started = Date.now();
      const report = await FUZZERS[name]!({
        seed: o.seed,
        runs: o.fuzzRuns,
        path: o.fuzzPath || undefined,
      });
      out.fuzz.push(report);
      violations += report.failures.length;
      if (!o.json) console.log(formatFuzz(report, Date.now() - started));
    }
  }
  if (o.json) console.log(JSON.stringify(o.fuzz.length > 0 ? out : out.campaign));
  return violations === 0 ? 0 : 1;
}

export function formatFuzz(r: FuzzReport, elapsedMs: number): string {
  const lines = [
    `fuzzer ${r.fuzzer}: ${r.cases} cases in ${(elapsedMs / 1000).toFixed(1)} s, failures: ${r.failures.length}`,
    ...Object.entries(r.stats)
      .sort()
      .map(([k, n]) => `  ${k.padEnd(48)} ${String(n).padStart(8)}`),
  ];
  for (const f of r.failures) {
    lines.push(
      `  seed ${f.seed}${f.path ? ` path ${f.path}` : ''}: ${f.message}`,
      `    counterexample: ${f.counterexample.slice(0, 500)}`,
      `    replay: npm run soak -- --fuzz ${r.fuzzer} --fuzz-runs 1 --seed ${f.seed}${f.path ? ` --fuzz-path ${f.path}` : ''}`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  process.exitCode = await main();
}
