// Shared helpers of the benchmarks: command-line options, summary statistics and the tables made
// of them, the machine description, and the run of a benchmark around its measurement (usage, exit
// code, its section of bench/RESULTS.md). Nothing here measures anything by itself.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';

const REPO_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

// --- command line ---

/** Parses `--name value` and `--name=value` pairs; a bare `--flag` is 'true'. */
export function parseOptions(argv: string[], known: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      out.set('help', 'true');
      continue;
    }
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[1]! in known)) throw new Error(`unknown option ${arg}; try --help`);
    const next = argv[i + 1];
    const value = m[2] ?? (next !== undefined && !next.startsWith('--') ? argv[++i]! : 'true');
    out.set(m[1]!, value);
  }
  return out;
}

/** The description of `--results`, which every benchmark has (see publishSection). */
export const RESULTS_OPTION = 'results file to update, or - for none (default bench/RESULTS.md)';

/** The description of `--network`, for the benchmarks that reach cards through vpcd (see enterNetwork). */
export const NETWORK_OPTION =
  'private (default): own network namespace with quickack on loopback, see bench/README.md; host: as is';

function usage(script: string, known: Record<string, string>): string {
  const lines = Object.entries(known).map(([k, v]) => `  --${k.padEnd(16)} ${v}`);
  return `usage: npx tsx ${script} [options]\n${lines.join('\n')}`;
}

export function intOption(options: Map<string, string>, name: string, fallback: number, min = 1): number {
  const raw = options.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return value;
}

export function choiceOption<T extends string>(
  options: Map<string, string>,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = options.get(name) ?? fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new Error(`--${name} must be one of ${choices.join(', ')}`);
  }
  return raw as T;
}

/** `--sizes` of the scale benchmarks: the sizes measured, ascending. */
export function sizesOption(options: Map<string, string>): number[] {
  const sizes = (options.get('sizes') ?? '10000,100000,1000000').split(',').map((s) => Number(s.trim()));
  if (sizes.some((n, i) => !Number.isSafeInteger(n) || n < 1 || (i > 0 && n <= sizes[i - 1]!))) {
    throw new Error('--sizes must be ascending positive integers, e.g. 10000,100000,1000000');
  }
  return sizes;
}

/** The command that ran this benchmark, as someone would type it again. */
export function commandLine(): string {
  const viaTsx = process.execArgv.some((a) => /[\\/]tsx[\\/]/.test(a));
  const script = relative(process.cwd(), process.argv[1] ?? '');
  const args = process.argv.slice(2).join(' ');
  return `${viaTsx ? 'npx tsx' : 'node'} ${script}${args ? ` ${args}` : ''}`;
}

// --- network namespace ---

export type NetworkMode = 'private' | 'host';

/** How the benchmark process reaches vpcd; recorded with the results. */
export interface NetworkInfo {
  mode: NetworkMode;
  note: string;
}

/** For the benchmarks without PC/SC or cards: what their sections say about the network. */
export const NO_NETWORK: NetworkInfo = {
  mode: 'host',
  note: 'not used (no PC/SC or card in this benchmark)',
};

/** `--network` (NETWORK_OPTION): the mode to give enterNetwork(). */
export function networkOption(options: Map<string, string>): NetworkMode {
  return choiceOption(options, 'network', ['private', 'host'], 'private');
}

const NETNS_ENV = 'SETTLEMENT_BENCH_NETNS';
// vpcd (vsmartcard-vpcd 3.3 in Debian 12) writes each message to the card as two send() calls, length
// then payload, with Nagle on: the payload waits for the card's ACK of the length, which Linux delays
// by up to 40 ms. Every APDU then costs ~44 ms of timer instead of ~0.4 ms. Upstream coalesced the two
// writes (vsmartcard PR #252) and later set TCP_NODELAY (PR #323). Here the card side ACKs at once:
// quickack on the loopback route, in a network namespace of the benchmark's own.
const QUICKACK_SETUP =
  'ip link set lo up && ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 quickack 1';

/**
 * With mode 'private', runs this same benchmark again in a new network namespace whose loopback
 * route has quickack set, and exits with its exit code (this call then never returns). Returns in
 * that child, in 'host' mode, or when no namespace can be made (then with a warning).
 */
export async function enterNetwork(mode: NetworkMode): Promise<NetworkInfo> {
  const delayedAck = 'host network: every vpcd message to the card waits for a delayed ACK (~40 ms)';
  if (process.env[NETNS_ENV] === '1') {
    return {
      mode: 'private',
      note: 'private network namespace, loopback route with quickack (no delayed ACK)',
    };
  }
  if (mode === 'host') return { mode: 'host', note: delayedAck };
  const asRoot = process.getuid?.() === 0;
  const unshare = [...(asRoot ? [] : ['--user', '--map-root-user']), '--net', '--'];
  const probe = spawnSync('unshare', [...unshare, 'sh', '-c', QUICKACK_SETUP], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  if (probe.status !== 0) {
    console.error('warning: cannot make a network namespace with quickack; measuring on the host network');
    return { mode: 'host', note: `${delayedAck} (no network namespace could be made here)` };
  }
  const argv = [...process.execArgv, ...process.argv.slice(1)];
  const child = spawn(
    'unshare',
    [...unshare, 'sh', '-c', `${QUICKACK_SETUP} && exec "$@"`, 'sh', process.execPath, ...argv],
    { stdio: 'inherit', env: { ...process.env, [NETNS_ENV]: '1' } },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => {
    child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    child.once('error', () => resolve(1));
  });
  process.exit(code);
}

// --- statistics ---

export interface Summary {
  count: number;
  median: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * Nearest-rank percentiles: the p-th percentile of n samples is the ceil(p·n)-th smallest (p99 of
 * 1000 samples is the 990th smallest). The median is the mean of the two middle samples for even n.
 */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const rank = (p: number) => sorted[Math.min(n, Math.max(1, Math.ceil(p * n))) - 1]!;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return {
    count: n,
    median,
    p90: rank(0.9),
    p99: rank(0.99),
    mean: sorted.reduce((s, x) => s + x, 0) / n,
    min: sorted[0]!,
    max: sorted[n - 1]!,
  };
}

/**
 * The share of round `r` (0-based) when `total` is split into `rounds` rounds: as equal as whole
 * numbers allow, and all rounds together make `total`.
 */
export function roundShare(total: number, rounds: number, r: number): number {
  return Math.floor((total * (r + 1)) / rounds) - Math.floor((total * r) / rounds);
}

// --- tables ---

export function ms(x: number, digits = 3): string {
  return x.toFixed(digits);
}

export function ratio(x: number): string {
  return `${x.toFixed(2)}×`;
}

/** Each value divided by the one before it ("—" where that is zero): how a cost grows with size. */
export function growthRatios(values: readonly number[]): string[] {
  return values.slice(1).map((v, i) => {
    const before = values[i]!;
    return before > 0 && Number.isFinite(v / before) ? ratio(v / before) : '—';
  });
}

/** A markdown table; the first row is the header. */
export function markdownTable(rows: string[][], align: ('l' | 'r')[] = []): string {
  const [head, ...body] = rows;
  if (!head) return '';
  const rule = head.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [head, rule, ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

type Percentile = 'median' | 'p90' | 'p99' | 'mean';

/** The figures a timing row shows; a derived row (e.g. a sum of two floors) has no sample count. */
export type Percentiles = Pick<Summary, Percentile> & { count?: number };

/** A table of timings in ms: `rows` of timingRow() and ratioRow(), under a header that starts with `title`. */
export function timingTable(title: string, rows: string[][]): string {
  return markdownTable(
    [[title, 'samples', 'median', 'p90', 'p99', 'mean'], ...rows],
    ['l', 'r', 'r', 'r', 'r', 'r'],
  );
}

export function timingRow(name: string, x: Percentiles): string[] {
  return [name, x.count === undefined ? '' : String(x.count), ms(x.median), ms(x.p90), ms(x.p99), ms(x.mean)];
}

/** `a` divided by `b` at each percentile; the `bold` ones are the figures the section is about. */
export function ratioRow(
  name: string,
  a: Percentiles,
  b: Percentiles,
  bold: readonly Percentile[],
): string[] {
  const cell = (key: Percentile) =>
    bold.includes(key) ? `**${ratio(a[key] / b[key])}**` : ratio(a[key] / b[key]);
  return [name, '', cell('median'), cell('p90'), cell('p99'), cell('mean')];
}

/** A count as the sections print it: 1,000,000. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The header row of a table across sizes: `title`, each size in bold, then one growth column per
 * step between sizes ("× 10,000 → 100,000").
 */
export function growthHeader(title: string, sizes: readonly number[]): string[] {
  return [
    title,
    ...sizes.map((n) => `**${formatCount(n)}**`),
    ...sizes.slice(1).map((n, i) => `× ${formatCount(sizes[i]!)} → ${formatCount(n)}`),
  ];
}

/** A row of a table across sizes: the value at each size, then its growth from one size to the next. */
export function growthRow(title: string, values: readonly number[], format: (v: number) => string): string[] {
  return [title, ...values.map(format), ...growthRatios(values)];
}

/** A row of timings across sizes: median (p99) at each size, then the growth of the median. */
export function growthTimingRow(
  title: string,
  summaries: readonly Summary[],
  format: (v: number) => string,
): string[] {
  return [
    title,
    ...summaries.map((x) => `${format(x.median)} (${format(x.p99)})`),
    ...growthRatios(summaries.map((x) => x.median)),
  ];
}

/** A table across sizes (growthHeader() first): titles to the left, figures to the right. */
export function growthTable(rows: string[][]): string {
  return markdownTable(
    rows,
    rows[0]!.map((_, i) => (i === 0 ? 'l' : 'r')),
  );
}

/** The note under a table across sizes that says how to read its growth columns. */
export function growthNote(sizes: readonly number[]): string {
  const steps = sizes.slice(1).map((n, i) => `${(n / sizes[i]!).toFixed(0)}×`);
  return `- growth columns: the value at the larger size divided by the value at the smaller (sizes grow ${steps.join(', ')}); about 1× is constant, as many × as the sizes grow is linear`;
}

// --- machine ---

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  pcscd: string;
  os: string;
  runner: string;
  sha256: string;
}

/** nproc, CPU model, node, pcscd --version, kernel, the TypeScript runner and noble's SHA-256 speed here. */
function machineInfo(): MachineInfo {
  let pcscd = 'unknown';
  try {
    const out = execFileSync('/usr/sbin/pcscd', ['--version'], { encoding: 'utf8', timeout: 5_000 });
    pcscd = /pcsc-lite version ([^\s]+?)\.?\s/.exec(out)?.[1] ?? out.split('\n')[0]!.trim();
  } catch {
    // pcscd missing: the benchmark fails later with a clear message anyway
  }
  const viaTsx = process.execArgv.some((a) => /[\\/]tsx[\\/]/.test(a));
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    pcscd: `pcsc-lite ${pcscd}`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    runner: viaTsx ? 'tsx (ESM: node_modules load natively, only the TypeScript is transformed)' : 'node',
    sha256: sha256Probe(),
  };
}

/**
 * noble SHA-256 throughput in this process, for 512-byte inputs (a journal entry) and 1 MiB inputs.
 * tsx loads a package's ESM through esbuild's CommonJS transform only when the importing file is
 * CommonJS, which makes noble many times slower; this line shows that it did not happen here.
 */
function sha256Probe(): string {
  const rate = (size: number, rounds: number) => {
    const data = new Uint8Array(size).fill(7);
    for (let i = 0; i < Math.min(rounds, 20); i++) sha256(data);
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) sha256(data);
    const seconds = (performance.now() - t0) / 1000;
    return (size * rounds) / seconds / 1e6;
  };
  return `noble SHA-256 ${rate(512, 20_000).toFixed(0)} MB/s on 512 B, ${rate(1 << 20, 20).toFixed(0)} MB/s on 1 MiB`;
}

function machineMarkdown(m: MachineInfo, network: NetworkInfo): string {
  return [
    `- machine: ${m.cpus} CPUs (nproc), ${m.cpuModel}; ${m.os}`,
    `- node ${m.node}, ${m.pcscd}, ${vpcdVersion()}`,
    `- network: ${network.note}`,
    `- source: ${sourceInfo()}`,
    `- runner: ${m.runner}`,
    `- ${m.sha256}`,
  ].join('\n');
}

/** "ext4 (/tmp)": the file system type of `path` (its journal fsyncs are what the journal floor measures). */
export function filesystemOf(path: string): string {
  try {
    const out = execFileSync('df', ['--output=fstype', path], { encoding: 'utf8', timeout: 5_000 });
    return `${out.trim().split('\n').at(-1)?.trim() ?? 'unknown'} (${dirname(path)})`;
  } catch {
    return `unknown file system (${dirname(path)})`;
  }
}

/** The commit measured, and whether tracked files differ from it (git is only read). */
function sourceInfo(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 5_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  try {
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    // RESULTS.md itself changes with every run; it says nothing about the code measured.
    const changed = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/RESULTS.md')
      .split('\n')
      .map((line) => line.slice(3).trim())
      .filter((path) => path !== '');
    if (changed.length === 0) return `commit ${commit}`;
    const list =
      changed.length > 5
        ? `${changed.slice(0, 5).join(', ')} and ${changed.length - 5} more`
        : changed.join(', ');
    return `commit ${commit} with uncommitted changes to ${list}`;
  } catch {
    return 'not a git checkout';
  }
}

function vpcdVersion(): string {
  try {
    const out = execFileSync('dpkg-query', ['-W', 'vsmartcard-vpcd'], {
      encoding: 'utf8',
      timeout: 5_000,
    });
    return `vsmartcard-vpcd ${out.trim().split('\t')[1] ?? '(version unknown)'}`;
  } catch {
    return 'vsmartcard-vpcd (version unknown)';
  }
}

// --- bench/RESULTS.md ---

const RESULTS_HEADER = `# Benchmark results

Written by the benchmarks in this folder (see [README.md](README.md)); each section is replaced
when its benchmark runs again with the same configuration. Timings are wall-clock milliseconds on
the machine named in the section, from one run; compare ratios, not absolute figures, across machines.
`;

/** Replaces (or appends) the section `id` of the results file. */
function updateResults(path: string, id: string, body: string): void {
  const start = `<!-- section:${id} -->`;
  const end = `<!-- /section:${id} -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  let text = existsSync(path) ? readFileSync(path, 'utf8') : RESULTS_HEADER;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) text = text.slice(0, from) + section + text.slice(to + end.length);
  else text = `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
}

// --- a run ---

/**
 * A benchmark's frame: parses the command line against `known` (printing the usage for --help),
 * runs `measure` with the options, then exits: 0 when it finished, 1 after printing the error.
 */
export function runBenchmark(
  script: string,
  known: Record<string, string>,
  measure: (options: Map<string, string>) => Promise<void>,
): void {
  const run = async () => {
    const options = parseOptions(process.argv.slice(2), known);
    if (options.has('help')) {
      console.log(usage(script, known));
      return;
    }
    await measure(options);
  };
  run().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

/** The machine and the start of a run, taken before measuring; see closingLines(). */
export interface RunStart {
  machine: MachineInfo;
  startedAt: Date;
}

export function startRun(): RunStart {
  const machine = machineInfo();
  return { machine, startedAt: new Date() };
}

/** The lines every section ends with: machine, network and source measured, the date and the command. */
export function closingLines(run: RunStart, network: NetworkInfo): string {
  return [
    machineMarkdown(run.machine, network),
    `- date: ${run.startedAt.toISOString()}`,
    `- command: \`${commandLine()}\``,
  ].join('\n');
}

/** Prints the section `body` and puts it as section `id` into the results file of --results (RESULTS_OPTION). */
export function publishSection(options: Map<string, string>, id: string, body: string): void {
  console.log(body);
  const path = options.get('results') ?? fileURLToPath(new URL('./RESULTS.md', import.meta.url));
  if (path !== '-') {
    updateResults(path, id, body);
    console.error(`updated ${path}`);
  }
}
