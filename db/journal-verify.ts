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
//   unreadable           the entry's flow row is gone or its columns have impossible types
// A full verify starts from the first entry; an incremental one from the last checkpoint an earlier
// verify reached, so a daily check reads only that day's entries. Either records the head as a
// verified checkpoint when the chain holds.
import type Database from 'better-sqlite3';
import { withDbErrors } from './db-errors.js';
import { ChainHasher, GENESIS, HASH_LENGTH, sameBytes, TAG_LENGTH } from './journal-chain.js';
import { decodePayload } from './journal-codec.js';
import { LEGACY_ANCHOR_FLOW_ID } from './legacy-anchor.js';

export type VerifyFailure =
  | 'hash-mismatch'
  | 'gap'
  | 'checkpoint-mismatch'
  | 'head-mismatch'
  | 'unreadable'
  /** Recorded by the migration from the version-1 chain (which stored each entry's previous hash). */
  | 'prev-mismatch';

/** The outcome of a verify: every entry checked holds, or the first one that does not and why. */
export type VerifyResult =
  | {
      readonly ok: true;
      /** Entries in the journal. */
      readonly count: number;
      /** Entries read by this verify (all of them for a full one). */
      readonly checked?: number;
    }
  | { readonly ok: false; readonly firstBadSeq: number; readonly reason: VerifyFailure };

export const VERIFY_SQL = {
  head: 'SELECT seq, hash FROM journal_head WHERE id = 1',
  entries: `SELECT e.seq, e.flow_no, e.at, e.step, e.tag, e.payload, f.flow_id, f.kind
            FROM journal_entry AS e LEFT JOIN flow AS f ON f.flow_no = e.seq
            WHERE e.seq > ? AND e.seq <= ? ORDER BY e.seq`,
  lastEntry: 'SELECT max(seq) FROM journal_entry',
  checkpointsAfter: 'SELECT seq, hash FROM journal_checkpoint WHERE seq > ? ORDER BY seq',
  lastVerified: `SELECT c.seq, c.hash FROM journal_verification AS v JOIN journal_checkpoint AS c ON c.seq = v.seq
                 ORDER BY v.id DESC LIMIT 1`,
  checkpointAt: 'SELECT hash FROM journal_checkpoint WHERE seq = ?',
  addCheckpoint: 'INSERT INTO journal_checkpoint (seq, hash) VALUES (?, ?)',
  addVerification: 'INSERT INTO journal_verification (seq, at, scope) VALUES (?, ?, ?)',
  anchor: `SELECT e.payload FROM flow AS f JOIN journal_entry AS e ON e.seq = f.flow_no WHERE f.flow_id = ?`,
} as const;

type Bad = Extract<VerifyResult, { ok: false }>;
export type SegmentResult = { ok: true; hash: Uint8Array; lastSeq: number } | Bad;

/**
 * Recomputes the links of entries (fromSeq, toSeq] starting from `startHash`, comparing each tag
 * and every checkpoint in `checkpoints`. Stops at the first difference or missing entry.
 */
export function verifySegment(
  db: Database.Database,
  fromSeq: number,
  startHash: Uint8Array,
  toSeq: number,
  checkpoints: ReadonlyMap<number, Uint8Array>,
): SegmentResult {
  const hasher = new ChainHasher();
  let prev: Uint8Array = Uint8Array.from(startHash);
  let next: Uint8Array = new Uint8Array(HASH_LENGTH);
  let expected = fromSeq + 1;
  const rows = db.prepare(VERIFY_SQL.entries).raw(true).iterate(fromSeq, toSeq) as IterableIterator<unknown[]>;
  for (const row of rows) {
    const [seq, flowNo, at, step, tag, payload, flowId, kind] = row as [
      number,
      number,
      number,
      number | string,
      Uint8Array,
      Uint8Array,
      Uint8Array | string | null,
      number | null,
    ];
    if (seq !== expected) return bad(expected, 'gap');
    const opens = flowNo === seq;
    if (
      (opens && (flowId === null || kind === null)) ||
      !(payload instanceof Uint8Array) ||
      !(tag instanceof Uint8Array)
    ) {
      return bad(seq, 'unreadable');
    }
    hasher.link(
      prev,
      { seq, at, flowNo, step, flowId: opens ? (flowId as Uint8Array | string) : undefined, kind: opens ? (kind as number) : undefined },
      payload,
      next,
    );
    if (tag.length !== TAG_LENGTH || !sameBytes(tag, next.subarray(0, TAG_LENGTH))) return bad(seq, 'hash-mismatch');
    const checkpoint = checkpoints.get(seq);
    if (checkpoint !== undefined && !sameBytes(checkpoint, next)) return bad(seq, 'checkpoint-mismatch');
    [prev, next] = [next, prev];
    expected += 1;
  }
  return { ok: true, hash: prev, lastSeq: expected - 1 };
}

export interface VerifyOptions {
  readonly scope: 'full' | 'incremental';
  readonly now: () => Date;
}

/** A full or incremental verify in one read snapshot; records the verified head if it can write. */
export function verifyJournal(db: Database.Database, o: VerifyOptions): VerifyResult {
  const check = db.transaction((): { result: VerifyResult; head?: { seq: number; hash: Uint8Array } } => {
    const head = db.prepare(VERIFY_SQL.head).get() as { seq: number; hash: Uint8Array } | undefined;
    if (!head) return { result: bad(1, 'head-mismatch') };
    let from = 0;
    let startHash: Uint8Array = GENESIS;
    if (o.scope === 'incremental') {
      const last = db.prepare(VERIFY_SQL.lastVerified).get() as { seq: number; hash: Uint8Array } | undefined;
      if (last && last.seq <= head.seq) {
        from = last.seq;
        startHash = last.hash;
      }
    }
    const checkpoints = new Map<number, Uint8Array>();
    for (const c of db.prepare(VERIFY_SQL.checkpointsAfter).all(from) as { seq: number; hash: Uint8Array }[]) {
      if (c.seq > head.seq) return { result: bad(head.seq + 1, 'head-mismatch') };
      checkpoints.set(c.seq, c.hash);
    }
    const segment = verifySegment(db, from, startHash, head.seq, checkpoints);
    if (!segment.ok) return { result: segment };
    const lastRow = (db.prepare(VERIFY_SQL.lastEntry).pluck().get() as number | null) ?? 0;
    if (segment.lastSeq < head.seq) return { result: bad(segment.lastSeq + 1, 'gap') };
    if (lastRow > head.seq) return { result: bad(head.seq + 1, 'head-mismatch') };
    if (!sameBytes(segment.hash, head.hash)) return { result: bad(head.seq, 'head-mismatch') };
    const legacy = legacyVerdict(db);
    if (legacy) return { result: legacy };
    return { result: { ok: true, count: head.seq, checked: head.seq - from }, head };
  });
  const { result, head } = withDbErrors('journal verify', () => check.deferred());
  if (result.ok && head && head.seq > 0 && !db.readonly) record(db, head, o);
  return result;
}

/** The head as a verified checkpoint, unless an entry was appended since the snapshot. */
function record(db: Database.Database, head: { seq: number; hash: Uint8Array }, o: VerifyOptions): void {
  const write = db.transaction(() => {
    const now = db.prepare(VERIFY_SQL.head).get() as { seq: number; hash: Uint8Array };
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
  const row = db.prepare(VERIFY_SQL.anchor).get(LEGACY_ANCHOR_FLOW_ID) as { payload: Uint8Array } | undefined;
  if (!row) return undefined;
  const p = decodePayload(row.payload);
  if (p.legacyVerified === true) return undefined;
  const reason = p.reason === 'gap' || p.reason === 'prev-mismatch' || p.reason === 'head-mismatch' ? p.reason : 'hash-mismatch';
  return bad(Number(p.firstBadSeq), reason);
}

function bad(firstBadSeq: number, reason: VerifyFailure): Bad {
  return { ok: false, firstBadSeq, reason };
}
