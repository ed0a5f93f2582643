// Verification of the journal's hash chain (docs/journal.md, "Verification"). The chain is recomputed
// from the stored bytes of each entry and compared with what the file keeps of it: each entry's tag
// (the first 8 bytes of its link), the checkpoints and the head. The first entry that differs is
// named:
//   gap                  an entry is missing (deleted), or the tail is gone (the head is further on)
//   hash-mismatch        this entry's bytes changed, or the entry before it was edited and its own
//                        tag recomputed to match ("re-hashed"), so the change shows at this one
//   checkpoint-mismatch  the chain holds up to here but the checkpoint stored at this seq differs
//   head-mismatch        entries past the head, a checkpoint past it, or a last entry the head does not
//                        match (the last entry re-hashed)
//   unreadable           the entry's flow row is gone or its body is too short to be one
// A full verify starts from the first entry; an incremental one from the last checkpoint an earlier
// verify reached, so a daily check reads only that day's entries. A parallel one verifies checkpoint
// segments in worker threads, each from its stored checkpoint (an edited checkpoint fails the
// segment that ends there). Each records the head as a verified checkpoint when the chain holds.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { withDbErrors } from './db-errors.js';
import { GENESIS, sameBytes, TAG_LENGTH } from './journal-chain.js';
import { decodeRecord } from './journal-codec.js';
import {
  type Bad,
  bad,
  type SegmentResult,
  type SegmentTask,
  type VerifyFailure,
  verifySegment,
} from './journal-verify-segment.js';
import { LEGACY_ANCHOR_FLOW_ID } from './legacy-anchor.js';

export type { VerifyFailure } from './journal-verify-segment.js';

/** The outcome of a verify: every entry checked holds, or the first one that does not and why. */
export type VerifyResult =
  | {
      readonly ok: true;
      /** Entries in the journal. */
      readonly count: number;
      /** Entries read by this verify (all of them for a full one). */
      readonly checked?: number;
    }
  | Bad;

export const VERIFY_SQL = {
  head: 'SELECT seq, hash FROM journal_head WHERE id = 1',
  lastEntry: 'SELECT max(seq) FROM journal_entry',
  checkpointsAfter: 'SELECT seq, hash FROM journal_checkpoint WHERE seq > ? ORDER BY seq',
  lastVerified: `SELECT c.seq, c.hash FROM journal_verification AS v JOIN journal_checkpoint AS c ON c.seq = v.seq
                 ORDER BY v.id DESC LIMIT 1`,
  checkpointAt: 'SELECT hash FROM journal_checkpoint WHERE seq = ?',
  addCheckpoint: 'INSERT INTO journal_checkpoint (seq, hash) VALUES (?, ?)',
  addVerification: 'INSERT INTO journal_verification (seq, at, scope) VALUES (?, ?, ?)',
  anchor: 'SELECT e.body FROM flow AS f JOIN journal_entry AS e ON e.seq = f.flow_no WHERE f.flow_id = ?',
} as const;

export interface VerifyOptions {
  readonly scope: 'full' | 'incremental';
  readonly now: () => Date;
}

interface Head {
  seq: number;
  hash: Uint8Array;
}

/** What a verify reads before the entries: the head, where to start, the checkpoints after it. */
interface Plan {
  head: Head;
  from: number;
  startHash: Uint8Array;
  checkpoints: Map<number, Uint8Array>;
}

/** A full or incremental verify in one read snapshot, on this thread; records the verified head. */
export function verifyJournal(db: Database.Database, o: VerifyOptions): VerifyResult {
  const check = db.transaction((): { result: VerifyResult; head?: Head } => {
    const plan = planVerify(db, o.scope);
    if (!plan.ok) return { result: plan };
    const segment = verifySegment(db, plan.from, plan.startHash, plan.head.seq, plan.checkpoints);
    return conclude(db, plan, segment);
  });
  const { result, head } = withDbErrors('journal verify', () => check.deferred());
  if (result.ok && head) record(db, head, o);
  return result;
}

/**
 * A full verify split into `workers` checkpoint segments, each verified in a worker thread on its own
 * read-only connection. Falls back to verifyJournal where no worker can start (an in-memory
 * database; a bundle without the worker script).
 */
export async function verifyJournalParallel(
  db: Database.Database,
  o: { workers: number; now: () => Date },
): Promise<VerifyResult> {
  const script = workerScript();
  if (db.memory || script === undefined || o.workers < 2)
    return verifyJournal(db, { scope: 'full', now: o.now });
  const plan = withDbErrors('journal verify', () => db.transaction(() => planVerify(db, 'full')).deferred());
  if (!plan.ok) return plan;
  const tasks = segments(db.name, plan, o.workers);
  const results = await Promise.all(tasks.map((task) => runWorker(script, task)));
  const firstBad = results.find((r): r is Bad => !r.ok);
  const last = results.at(-1)!;
  const segment: SegmentResult =
    firstBad ?? (last.ok && results.every((r) => r.ok) ? last : bad(1, 'unreadable'));
  // Each segment ended where the next began, or failed; the last one ends the chain.
  const { result, head } = withDbErrors('journal verify', () =>
    db.transaction(() => conclude(db, plan, segment)).deferred(),
  );
  if (result.ok && head) record(db, head, { scope: 'full', now: o.now });
  return result;
}

function planVerify(db: Database.Database, scope: 'full' | 'incremental'): (Plan & { ok: true }) | Bad {
  const head = db.prepare(VERIFY_SQL.head).get() as Head | undefined;
  if (!head) return bad(1, 'head-mismatch');
  let from = 0;
  let startHash: Uint8Array = GENESIS;
  if (scope === 'incremental') {
    const last = db.prepare(VERIFY_SQL.lastVerified).get() as Head | undefined;
    if (last && last.seq <= head.seq) {
      from = last.seq;
      startHash = last.hash;
    }
  }
  const checkpoints = new Map<number, Uint8Array>();
  for (const c of db.prepare(VERIFY_SQL.checkpointsAfter).all(from) as Head[]) {
    if (c.seq > head.seq) return bad(head.seq + 1, 'head-mismatch');
    checkpoints.set(c.seq, c.hash);
  }
  return { ok: true, head, from, startHash, checkpoints };
}

/** The checks after the entries: the tail, rows past the head, the head's hash, a legacy verdict. */
function conclude(
  db: Database.Database,
  plan: Plan,
  segment: SegmentResult,
): { result: VerifyResult; head?: Head } {
  if (!segment.ok) return { result: segment };
  const { head } = plan;
  const lastRow = (db.prepare(VERIFY_SQL.lastEntry).pluck().get() as number | null) ?? 0;
  // A parallel verify concludes in a later snapshot than it planned in: entries the terminal
  // appended meanwhile moved the head on and are no rows past it (the next verify reads them).
  const headNow = (db.prepare(VERIFY_SQL.head).get() as Head | undefined)?.seq ?? 0;
  if (segment.lastSeq < head.seq) return { result: bad(segment.lastSeq + 1, 'gap') };
  if (lastRow > Math.max(head.seq, headNow)) return { result: bad(head.seq + 1, 'head-mismatch') };
  if (!sameBytes(segment.hash, head.hash)) return { result: bad(head.seq, 'head-mismatch') };
  const legacy = legacyVerdict(db);
  if (legacy) return { result: legacy };
  return { result: { ok: true, count: head.seq, checked: head.seq - plan.from }, head };
}

/** Segments ending at checkpoints near equal shares of the chain; the last ends at the head. */
function segments(path: string, plan: Plan, workers: number): SegmentTask[] {
  const stored = [...plan.checkpoints.keys()];
  const tasks: SegmentTask[] = [];
  let from = plan.from;
  let startHash = plan.startHash;
  for (let i = 1; i <= workers; i++) {
    const goal = plan.from + Math.round(((plan.head.seq - plan.from) * i) / workers);
    const end = i === workers ? plan.head.seq : stored.filter((s) => s > from && s <= goal).at(-1);
    if (end === undefined || end <= from) continue;
    const checkpoints = stored
      .filter((s) => s > from && s <= end)
      .map((s): [number, Uint8Array] => [s, plan.checkpoints.get(s)!]);
    tasks.push({ path, fromSeq: from, startHash, toSeq: end, checkpoints });
    if (end === plan.head.seq) break;
    from = end;
    startHash = plan.checkpoints.get(end)!;
  }
  return tasks.length > 0
    ? tasks
    : [{ path, fromSeq: plan.from, startHash: plan.startHash, toSeq: plan.head.seq, checkpoints: [] }];
}

function runWorker(script: string, task: SegmentTask): Promise<SegmentResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData: task });
    worker.once('message', (r: SegmentResult) => resolve(r));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`journal verify worker exited with ${code}`));
    });
  });
}

function workerScript(): string | undefined {
  try {
    const path = fileURLToPath(new URL('./journal-verify-worker.mjs', import.meta.url));
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined; // bundled without import.meta.url
  }
}

/** The head as a verified checkpoint, unless an entry was appended since the snapshot. */
function record(db: Database.Database, head: Head, o: VerifyOptions): void {
  if (head.seq === 0 || db.readonly) return;
  const write = db.transaction(() => {
    const now = db.prepare(VERIFY_SQL.head).get() as Head;
    if (now.seq !== head.seq) return;
    if (db.prepare(VERIFY_SQL.checkpointAt).get(head.seq) === undefined) {
      db.prepare(VERIFY_SQL.addCheckpoint).run(head.seq, head.hash);
    }
    db.prepare(VERIFY_SQL.addVerification).run(head.seq, o.now().getTime(), o.scope);
  });
  withDbErrors('journal verify', () => write.immediate());
}

/**
 * A log migrated from the version-1 format carries the old chain's verdict in its anchor entry
 * (db/legacy-journal.ts): an old chain that was broken stays reported as it was, at its entry.
 */
function legacyVerdict(db: Database.Database): Bad | undefined {
  const row = db.prepare(VERIFY_SQL.anchor).get(LEGACY_ANCHOR_FLOW_ID) as { body: Uint8Array } | undefined;
  if (!row) return undefined;
  const p = decodeRecord(row.body.subarray(TAG_LENGTH)).payload;
  if (p.legacyVerified === true) return undefined;
  const known: VerifyFailure[] = ['gap', 'prev-mismatch', 'head-mismatch', 'hash-mismatch'];
  const reason = known.find((r) => r === p.reason) ?? 'hash-mismatch';
  return bad(Number(p.firstBadSeq), reason);
}
