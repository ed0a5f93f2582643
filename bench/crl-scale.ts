// Benchmark: a CRL with up to a million revoked serials, through the terminal's CRL cache.
//
//   npx tsx bench/crl-scale.ts [--sizes 10000,100000,1000000]
//
// For each size the benchmark builds real signed CRLs with the project's issuer code (createIssuer,
// publishCrl: X.509 v2, ECDSA P-256), then, in a fresh node process per size (so its peak memory
// is its own), imports them into a fresh terminal database through the real path and measures:
//   first import     CrlCache.importDer(der, 'file'): parse, issuer/AKI and signature check against
//                    the CA, then CrlStore.storeCrl (one transaction); parse and signature check are
//                    also timed alone, so the store's share shows
//   replacement      the next CRL (cRLNumber + 1, 1% more serials) over the stored one: the store
//                    deletes the old serials and inserts the new list
//   start-up         new CrlCache() with that same CRL built in (config builtinCrl): the terminal
//                    parses and checks it at every start before seeing it is not newer
//   lookups          CrlStore.isRevoked() and CrlCache.checkCertificate() (a card certificate of
//                    this CA with the serial set), for revoked and for not revoked serials
//   size             database file bytes per revoked serial (after checkpoint), DER bytes per serial,
//                    and the peak resident memory the first import adds to the process
//
// Serials are the issuer's (sequential integers): a population of ten times the CRL's size, every
// tenth card revoked at a random position in its block of ten, one in four with a reason code.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createIssuer,
  loadIssuer,
  personalizeCard,
  publishCrl,
  saveIssuer,
} from '../card-sim/issuer/issuer.js';
import type { IssuerState } from '../card-sim/issuer/issuer-state.js';
import { openDatabase, type TerminalDatabase } from '../db/connection.js';
import { CrlStore } from '../db/crl-store.js';
import { CrlCache } from '../electron/services/crl/crl-cache.js';
import { fromHex } from '../protocol/bytes.js';
import { isTerminalError } from '../protocol/errors.js';
import {
  type ParsedCertificate,
  parseCertificate,
  parseCrl,
  verifyCrlSignature,
} from '../protocol/pki/index.js';
import { DEFAULT_CARD, TEST_CURRENCY } from '../test/support/card-fixtures.js';
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
  sizes: 'revoked serials in the CRL at each measurement, ascending (default 10000,100000,1000000)',
  lookups: 'timed lookups of each kind per size (default 10000)',
  repeats: 'imports of each kind per size, each into a new database; the median is reported (default 3)',
  results: RESULTS_OPTION,
  // internal: one size, in its own process
  'child-dir': 'internal: measure the CRLs in this folder and print the figures as JSON',
};

const POPULATION_FACTOR = 10; // cards issued per revoked card
const REPLACEMENT_GROWTH = 0.01; // the next CRL revokes 1% more

interface Built {
  size: number;
  derBytes: number;
  nextDerBytes: number;
  buildSeconds: number;
}

interface ChildResult {
  revoked: number;
  nextRevoked: number;
  parseSeconds: number;
  verifySeconds: number;
  importSeconds: number;
  replaceSeconds: number;
  startupSeconds: number;
  dbBytes: number;
  rssBeforeMb: number;
  peakRssMb: number;
  lookups: Record<string, Summary>;
}

const LOOKUPS: { id: string; title: string }[] = [
  { id: 'store-revoked', title: '`CrlStore.isRevoked`, revoked serial' },
  { id: 'store-clean', title: '`CrlStore.isRevoked`, serial not on the CRL' },
  { id: 'check-revoked', title: '`CrlCache.checkCertificate`, revoked (throws E_PKI_REVOKED)' },
  { id: 'check-clean', title: '`CrlCache.checkCertificate`, not revoked' },
];

async function main(options: Map<string, string>): Promise<void> {
  const lookups = intOption(options, 'lookups', 10_000);
  const repeats = intOption(options, 'repeats', 3);
  const childDir = options.get('child-dir');
  if (childDir !== undefined) {
    process.stdout.write(`${JSON.stringify(measure(childDir, lookups, repeats))}\n`);
    return;
  }
  const sizes = sizesOption(options);
  const run = startRun();

  const root = mkdtempSync(join(tmpdir(), 'bench-crl-'));
  try {
    const rows: { built: Built; measured: ChildResult }[] = [];
    for (const size of sizes) {
      const dir = join(root, String(size));
      const built = build(dir, size);
      console.error(
        `${size} serials: CRLs built in ${built.buildSeconds.toFixed(1)} s (${(built.derBytes / 1e6).toFixed(1)} MB); importing in a new process`,
      );
      const measured = runChild(dir, lookups, repeats);
      if (measured.revoked !== size)
        throw new Error(`the CRL holds ${measured.revoked} serials, not ${size}`);
      rows.push({ built, measured });
      console.error(
        `  import ${measured.importSeconds.toFixed(2)} s, replace ${measured.replaceSeconds.toFixed(2)} s, lookup median ${ms(measured.lookups['check-clean']!.median * 1000)} µs`,
      );
      rmSync(dir, { recursive: true, force: true });
    }
    const body = report({
      rows,
      lookups,
      repeats,
      storage: filesystemOf(root),
      closing: closingLines(run, NO_NETWORK),
    });
    publishSection(options, 'crl-scale', body);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * An issuer (CA) and two CRLs of it in `dir`: crl-1.der with `size` serials and crl-2.der, the next
 * one, with 1% more. The issuer's revocation list is written directly: revokeCertificate() checks the
 * issued and revoked lists one entry at a time, which a million calls would make quadratic.
 */
function build(dir: string, size: number): Built {
  const t0 = performance.now();
  const now = new Date();
  const issuer = createIssuer({
    name: 'Bench Issuer',
    currency: TEST_CURRENCY,
    now: new Date(now.getTime() - 86_400_000),
  });
  const extra = Math.ceil(size * REPLACEMENT_GROWTH);
  const day = 86_400_000;
  for (let i = 0; i < size + extra; i++) {
    const r = Math.floor(Math.random() * 4);
    issuer.revoked.push({
      serial: String(2 + POPULATION_FACTOR * i + Math.floor(Math.random() * POPULATION_FACTOR)),
      revokedAt: new Date(now.getTime() - day - Math.floor(Math.random() * 5 * 365) * day).toISOString(),
      reason: r === 0 ? [1, 3, 4, 5][i % 4]! : undefined,
    });
  }
  const all = issuer.revoked;
  issuer.revoked = all.slice(0, size);
  const first = publishCrl(issuer, { now: new Date(now.getTime() - 60_000), validityDays: 30 });
  issuer.revoked = all;
  const next = publishCrl(issuer, { now, validityDays: 30 });
  issuer.revoked = [];
  const buildSeconds = (performance.now() - t0) / 1000;
  // A card of this CA: its certificate is what checkCertificate() is given, with the serial varied.
  const card = personalizeCard(issuer, { ...DEFAULT_CARD, now: new Date(now.getTime() - 86_400_000) });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'crl-1.der'), first);
  writeFileSync(join(dir, 'crl-2.der'), next);
  writeFileSync(join(dir, 'card.der'), fromHex(card.certificate));
  saveIssuer(join(dir, 'issuer.json'), issuer);
  return { size, derBytes: first.length, nextDerBytes: next.length, buildSeconds };
}

function runChild(dir: string, lookups: number, repeats: number): ChildResult {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      script,
      '--child-dir',
      dir,
      '--lookups',
      String(lookups),
      '--repeats',
      String(repeats),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (child.status !== 0) throw new Error(`the measuring process failed (exit ${child.status})`);
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as ChildResult;
}

/** In the child process: import, replace, start-up and lookups on a fresh database in `dir`. */
function measure(dir: string, lookups: number, repeats: number): ChildResult {
  const issuer = loadIssuer(join(dir, 'issuer.json'));
  const caCertificateDer = fromHex(issuer.caCertificate);
  const first = new Uint8Array(readFileSync(join(dir, 'crl-1.der')));
  const next = new Uint8Array(readFileSync(join(dir, 'crl-2.der')));
  const seconds = (f: () => unknown) => {
    const t0 = performance.now();
    f();
    return (performance.now() - t0) / 1000;
  };
  const median = (xs: number[]) => summarize(xs).median;
  warmUp(dir, issuer, caCertificateDer);

  // Each repeat: a new database, the first CRL into the empty store, then the next one over it.
  const rssBeforeMb = process.memoryUsage().rss / 1e6;
  const imports: number[] = [];
  const replaces: number[] = [];
  let dbPath = '';
  let db: TerminalDatabase | undefined;
  let peakRssMb = 0;
  try {
    for (let k = 0; k < repeats; k++) {
      if (db) {
        db.close();
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
      }
      dbPath = join(dir, `terminal-${k}.db`);
      db = openDatabase(dbPath);
      const cache = new CrlCache({ store: new CrlStore(db), caCertificateDer });
      imports.push(seconds(() => cache.importDer(first, 'file')));
      if (k === 0) peakRssMb = process.resourceUsage().maxRSS / 1e3; // kB → MB
      replaces.push(seconds(() => cache.importDer(next, 'file')));
    }
    if (!db) throw new Error('--repeats must be at least 1');
    const store = new CrlStore(db);
    const cache = new CrlCache({ store, caCertificateDer });
    const nextRevoked = cache.status().revokedCount;
    const revoked = parseCrl(first).revoked.length;

    // Parse and signature check alone, on the same bytes; and a start-up with the stored CRL built in.
    const caKey = parseCertificate(caCertificateDer).publicKey;
    const parses: number[] = [];
    const verifies: number[] = [];
    const startups: number[] = [];
    for (let k = 0; k < repeats; k++) {
      let parsed: ReturnType<typeof parseCrl> | undefined;
      parses.push(
        seconds(() => {
          parsed = parseCrl(first);
        }),
      );
      verifies.push(
        seconds(() => {
          if (!parsed || !verifyCrlSignature(parsed, caKey)) throw new Error('the CRL does not verify');
        }),
      );
      startups.push(seconds(() => new CrlCache({ store, caCertificateDer, builtinCrlDer: next })));
    }
    const parseSeconds = median(parses);
    const verifySeconds = median(verifies);
    const importSeconds = median(imports);
    const replaceSeconds = median(replaces);
    const startupSeconds = median(startups);
    const nextParsed = parseCrl(next);

    // Lookups: serials on the current CRL, and serials of the population that are not on it.
    const onList = new Set(nextParsed.revoked.map((e) => e.serial));
    const revokedSample: bigint[] = [];
    const cleanSample: bigint[] = [];
    const population = BigInt(POPULATION_FACTOR * nextParsed.revoked.length);
    while (revokedSample.length < lookups) {
      revokedSample.push(nextParsed.revoked[Math.floor(Math.random() * nextParsed.revoked.length)]!.serial);
    }
    while (cleanSample.length < lookups) {
      const serial = 2n + BigInt(Math.floor(Math.random() * Number(population)));
      if (!onList.has(serial)) cleanSample.push(serial);
    }
    const card = parseCertificate(new Uint8Array(readFileSync(join(dir, 'card.der'))));
    const result: Record<string, Summary> = {};
    const time = (id: string, sample: bigint[], f: (serial: bigint) => boolean) => {
      const out: number[] = [];
      for (const serial of sample) {
        const t0 = performance.now();
        const hit = f(serial);
        out.push(performance.now() - t0);
        if (hit !== id.endsWith('-revoked')) throw new Error(`${id}: serial ${serial} answered ${hit}`);
      }
      result[id] = summarize(out);
    };
    const keyId = cache.issuerKeyId;
    time('store-revoked', revokedSample, (s) => store.isRevoked(keyId, s.toString(16)) !== undefined);
    time('store-clean', cleanSample, (s) => store.isRevoked(keyId, s.toString(16)) !== undefined);
    const check = (serial: bigint) => {
      try {
        cache.checkCertificate({ ...card, serial } as ParsedCertificate);
        return false;
      } catch (e) {
        if (isTerminalError(e) && e.code === 'E_PKI_REVOKED') return true;
        throw e;
      }
    };
    time('check-revoked', revokedSample, check);
    time('check-clean', cleanSample, check);

    db.close(); // checkpoint: the file holds everything
    const dbBytes = statSync(dbPath).size;
    return {
      revoked,
      nextRevoked,
      parseSeconds,
      verifySeconds,
      importSeconds,
      replaceSeconds,
      startupSeconds,
      dbBytes,
      rssBeforeMb,
      peakRssMb,
      lookups: result,
    };
  } finally {
    db?.close();
  }
}

/**
 * The same path once on a small CRL of this CA in a throwaway database, so that the first timed
 * import does not also pay for compiling the code it runs.
 */
function warmUp(dir: string, issuer: IssuerState, caCertificateDer: Uint8Array): void {
  const small = { ...issuer, revoked: [] as IssuerState['revoked'] };
  for (let i = 0; i < 2000; i++) {
    small.revoked.push({
      serial: String(2 + i),
      revokedAt: '2025-01-01T00:00:00.000Z',
      reason: i % 4 === 0 ? 1 : undefined,
    });
  }
  const crls = [publishCrl(small, { validityDays: 1 }), publishCrl(small, { validityDays: 1 })];
  const path = join(dir, 'warm-up.db');
  const db = openDatabase(path);
  try {
    const store = new CrlStore(db);
    const cache = new CrlCache({ store, caCertificateDer });
    for (const der of crls) cache.importDer(der, 'file');
    for (let i = 0; i < 2000; i++) store.isRevoked(cache.issuerKeyId, (2 + i).toString(16));
    new CrlCache({ store, caCertificateDer, builtinCrlDer: crls[1]! });
  } finally {
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  }
}

function report(r: {
  rows: { built: Built; measured: ChildResult }[];
  lookups: number;
  repeats: number;
  storage: string;
  /** closingLines(): machine, date, command. */
  closing: string;
}): string {
  const { rows } = r;
  const m = rows.map((x) => x.measured);
  const b = rows.map((x) => x.built);
  const sizes = b.map((x) => x.size);
  const sec = (v: number) => v.toFixed(3);
  const table: string[][] = [
    growthHeader('revoked serials on the CRL', sizes),
    growthRow(
      'CRL DER (MB)',
      b.map((x) => x.derBytes / 1e6),
      (v) => v.toFixed(2),
    ),
    growthRow(
      '**first import** (`CrlCache.importDer`), s',
      m.map((x) => x.importSeconds),
      (v) => `**${sec(v)}**`,
    ),
    growthRow(
      '  of which parse (`parseCrl`) alone, s',
      m.map((x) => x.parseSeconds),
      sec,
    ),
    growthRow(
      '  of which signature check alone, s',
      m.map((x) => x.verifySeconds),
      sec,
    ),
    growthRow(
      '  so storing (`CrlStore.storeCrl`, one transaction), s',
      m.map((x) => Math.max(0, x.importSeconds - x.parseSeconds - x.verifySeconds)),
      sec,
    ),
    growthRow(
      '**replacement** by the next CRL (+1%), s',
      m.map((x) => x.replaceSeconds),
      (v) => `**${sec(v)}**`,
    ),
    growthRow(
      'start-up with that CRL built in (parse + check, not stored), s',
      m.map((x) => x.startupSeconds),
      sec,
    ),
    growthRow(
      'import, µs per serial',
      m.map((x) => (x.importSeconds * 1e6) / x.revoked),
      (v) => v.toFixed(2),
    ),
  ];
  for (const lookup of LOOKUPS) {
    table.push(
      growthTimingRow(
        `${lookup.title}, median µs (p99)`,
        m.map((x) => x.lookups[lookup.id]!),
        (v) => (v * 1000).toFixed(1),
      ),
    );
  }
  table.push(
    growthRow(
      'database file (MB)',
      m.map((x) => x.dbBytes / 1e6),
      (v) => v.toFixed(1),
    ),
    growthRow(
      '**database bytes per revoked serial**',
      m.map((x) => x.dbBytes / x.nextRevoked),
      (v) => `**${v.toFixed(1)}**`,
    ),
    growthRow(
      'DER bytes per revoked serial',
      b.map((x) => x.derBytes / x.size),
      (v) => v.toFixed(1),
    ),
    growthRow(
      'peak resident memory added by the first import (MB)',
      m.map((x) => Math.max(0, x.peakRssMb - x.rssBeforeMb)),
      (v) => v.toFixed(0),
    ),
  );
  return [
    '## CRL at scale — import, lookup and size through the CRL cache',
    '',
    growthTable(table),
    '',
    growthNote(sizes),
    `- CRLs built by the issuer code (\`createIssuer\`, \`publishCrl\` → \`createCrl\`: X.509 v2, ECDSA P-256 / SHA-256, AKI and cRLNumber, a reason code on one entry in four), ${b.map((x) => `${x.buildSeconds.toFixed(1)} s`).join(', ')} to build both CRLs of each size; serials as the issuer assigns them (sequential), every tenth card of the population revoked; the next CRL has ${formatCount(m.at(-1)!.nextRevoked - m.at(-1)!.revoked)} more at the largest size`,
    `- each size measured in a new node process, after one untimed round of the same calls on a 2,000-serial CRL (so no timed call pays for compiling the code): ${r.repeats} × (new terminal database (WAL, synchronous=FULL, on ${r.storage}), first import into the empty store, replacement), median reported; then ${r.repeats} × parse, signature check and start-up, median; then ${formatCount(r.lookups)} lookups of each kind on the last database (random serials; each answer checked), each timed alone; percentiles nearest-rank`,
    '- parse and signature check timed alone on the same bytes; "storing" is the import median less those two medians (it includes turning the parsed entries into hex serials, normalising and sorting them)',
    `- memory: the process's peak resident set (getrusage maxRSS) right after the first import less its resident set before it (the CRL bytes already read; only the warm-up ran before); the DER stays in the \`crl\` row as a blob beside the serials, which is most of the gap between database and DER size per serial`,
    r.closing,
  ].join('\n');
}

runBenchmark('bench/crl-scale.ts', OPTIONS, main);
