// The inner loop of a verify: recomputes the chain links of entries (fromSeq, toSeq] from a known
// hash and compares each with the entry's tag and the checkpoints stored in that range. Reads in
// chunks of raw rows (three values per entry, the flows opened in the chunk read beside them), which
// is what makes a million transfers verifiable in seconds; journal-verify.ts runs it over the whole
// chain, or over checkpoint segments in worker threads (journal-verify-worker.mjs).
import Database from 'better-sqlite3';
import { ChainHasher, HASH_LENGTH, sameBytes, TAG_LENGTH } from './journal-chain.js';

export type VerifyFailure =
  | 'hash-mismatch'
  | 'gap'
  | 'checkpoint-mismatch'
  | 'head-mismatch'
  | 'unreadable'
  /** Recorded by the migration from the version-1 chain (which stored each entry's previous hash). */
  | 'prev-mismatch';

export interface Bad {
  readonly ok: false;
  readonly firstBadSeq: number;
  readonly reason: VerifyFailure;
}

export type SegmentResult = { ok: true; hash: Uint8Array; lastSeq: number } | Bad;

const CHUNK = 8192;

export const SEGMENT_SQL = {
  entries: 'SELECT seq, flow_no, body FROM journal_entry WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
  flowsOpened: 'SELECT flow_no, flow_id, kind FROM flow WHERE flow_no > ? AND flow_no <= ? ORDER BY flow_no',
} as const;

export function verifySegment(
  db: Database.Database,
  fromSeq: number,
  startHash: Uint8Array,
  toSeq: number,
  checkpoints: ReadonlyMap<number, Uint8Array>,
): SegmentResult {
  const entries = db.prepare(SEGMENT_SQL.entries).raw(true);
  const flowsOpened = db.prepare(SEGMENT_SQL.flowsOpened).raw(true);
  const hasher = new ChainHasher();
  let prev: Uint8Array = Uint8Array.from(startHash);
  let next: Uint8Array = new Uint8Array(HASH_LENGTH);
  let expected = fromSeq + 1;
  for (;;) {
    const rows = entries.all(expected - 1, toSeq, CHUNK) as [number, number, Uint8Array][];
    if (rows.length === 0) break;
    const flows = flowsOpened.all(expected - 1, rows.at(-1)![0]) as [number, Uint8Array | string, number][];
    let f = 0;
    for (const [seq, flowNo, body] of rows) {
      if (seq !== expected) return bad(expected, 'gap');
      let flowId: Uint8Array | string | undefined;
      let kind: number | undefined;
      if (flowNo === seq) {
        while (f < flows.length && flows[f]![0] < seq) f++;
        const flow = flows[f];
        if (flow?.[0] !== seq) return bad(seq, 'unreadable');
        [, flowId, kind] = flow;
      }
      if (!(body instanceof Uint8Array) || body.length <= TAG_LENGTH) return bad(seq, 'unreadable');
      hasher.link(prev, { seq, flowNo, flowId, kind }, body.subarray(TAG_LENGTH), next);
      if (!sameBytes(body.subarray(0, TAG_LENGTH), next.subarray(0, TAG_LENGTH))) return bad(seq, 'hash-mismatch');
      const checkpoint = checkpoints.get(seq);
      if (checkpoint !== undefined && !sameBytes(checkpoint, next)) return bad(seq, 'checkpoint-mismatch');
      [prev, next] = [next, prev];
      expected += 1;
    }
  }
  return { ok: true, hash: prev, lastSeq: expected - 1 };
}

/** What a worker thread is given: the file and one segment. */
export interface SegmentTask {
  readonly path: string;
  readonly fromSeq: number;
  readonly startHash: Uint8Array;
  readonly toSeq: number;
  readonly checkpoints: [number, Uint8Array][];
}

/** A segment verified on a read-only connection of its own (in a worker thread). */
export function verifyFileSegment(task: SegmentTask): SegmentResult {
  const db = new Database(task.path, { readonly: true, fileMustExist: true });
  try {
    return verifySegment(db, task.fromSeq, task.startHash, task.toSeq, new Map(task.checkpoints));
  } finally {
    db.close();
  }
}

export function bad(firstBadSeq: number, reason: VerifyFailure): Bad {
  return { ok: false, firstBadSeq, reason };
}
