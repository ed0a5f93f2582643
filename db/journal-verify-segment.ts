// The inner loop of a verify: recomputes the chain links of entries (fromSeq, toSeq] from a known
// hash and compares each with the entry's tag and the checkpoints stored in that range. Reads a chunk
// of entries as one row (SEGMENT_SQL.chunk) and the flows opened in it beside them: per entry, the
// cost is its SHA-256 and little else. journal-verify.ts runs it over the whole chain, or over
// checkpoint segments in worker threads (journal-verify-worker.mjs).
import Database from 'better-sqlite3';
import { ChainHasher, HASH_LENGTH, sameBytes, TAG_LENGTH } from './journal-chain.js';
import type { StoredFlowId } from './journal-codec.js';

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

/**
 * A chunk of entries in one row: SQLite concatenates the bodies (a blob read as text and back keeps
 * every byte) and lists the flow numbers and body lengths, so that reading costs one value per chunk
 * instead of three per entry. seq is not listed: count, min and max show whether the chunk is whole.
 */
export const SEGMENT_SQL = {
  // The aggregates take the rows in the order of the rowid range scan, that is by seq (an ORDER BY
  // inside them would sort what is already sorted). Were it ever otherwise, the tags would not match:
  // a false alarm, never a change let through.
  chunk: `SELECT count(*), min(seq), max(seq), group_concat(flow_no, ','), group_concat(length(body), ','),
            CAST(group_concat(CAST(body AS TEXT), '') AS BLOB)
          FROM journal_entry WHERE seq > ? AND seq <= ?`,
  seqs: 'SELECT seq FROM journal_entry WHERE seq > ? AND seq <= ? ORDER BY seq',
  // The flows opened in the chunk, listed the same way: the 16-byte flow IDs concatenated, the few
  // text ones (IDs other than UUIDs) read as rows.
  flowsOpened: `SELECT group_concat(flow_no, ','), group_concat(kind, ','), group_concat(typeof(flow_id) = 'blob', ','),
            CAST(group_concat(CASE WHEN typeof(flow_id) = 'blob' THEN CAST(flow_id AS TEXT) END, '') AS BLOB)
          FROM flow WHERE flow_no > ? AND flow_no <= ?`,
  textFlowIds: `SELECT flow_no, flow_id FROM flow WHERE flow_no > ? AND flow_no <= ? AND typeof(flow_id) = 'text'`,
} as const;

/** Flows opened in a chunk, parsed from SEGMENT_SQL.flowsOpened. */
interface OpenedFlows {
  flowNos: number[];
  kinds: number[];
  /** For each flow, the offset of its 16-byte ID in ids, or -1 for a text ID (in texts). */
  idAt: number[];
  ids: Uint8Array;
  texts: Map<number, string>;
}

type FlowsRow = [string | null, string | null, string | null, Uint8Array | null];

function openedFlows(
  rows: Database.Statement,
  texts: Database.Statement,
  from: number,
  to: number,
): OpenedFlows | undefined {
  const [flowNoList, kindList, blobList, read] = rows.get(from, to) as FlowsRow;
  if (flowNoList === null)
    return { flowNos: [], kinds: [], idAt: [], ids: new Uint8Array(0), texts: new Map() };
  const flowNos = flowNoList.split(',').map(Number);
  const kinds = (kindList ?? '').split(',').map(Number);
  const isBlob = (blobList ?? '').split(',');
  if (kinds.length !== flowNos.length || isBlob.length !== flowNos.length) return undefined;
  const idAt: number[] = [];
  let at = 0;
  let textCount = 0;
  for (const b of isBlob) {
    if (b === '1') {
      idAt.push(at);
      at += 16;
    } else {
      idAt.push(-1);
      textCount += 1;
    }
  }
  const ids =
    read instanceof Uint8Array
      ? new Uint8Array(read.buffer, read.byteOffset, read.byteLength)
      : new Uint8Array(0);
  if (ids.length !== at) return undefined;
  const textIds = new Map<number, string>();
  if (textCount > 0) for (const [no, id] of texts.all(from, to) as [number, string][]) textIds.set(no, id);
  return { flowNos, kinds, idAt, ids, texts: textIds };
}

type Chunk = [number, number | null, number | null, string | null, string | null, Uint8Array | null];

export function verifySegment(
  db: Database.Database,
  fromSeq: number,
  startHash: Uint8Array,
  toSeq: number,
  checkpoints: ReadonlyMap<number, Uint8Array>,
): SegmentResult {
  const chunks = db.prepare(SEGMENT_SQL.chunk).raw(true);
  const flowsOpened = db.prepare(SEGMENT_SQL.flowsOpened).raw(true);
  const textFlowIds = db.prepare(SEGMENT_SQL.textFlowIds).raw(true);
  const hasher = new ChainHasher();
  let prev: Uint8Array = Uint8Array.from(startHash);
  let next: Uint8Array = new Uint8Array(HASH_LENGTH);
  let expected = fromSeq + 1;
  // One mutable set of link fields, and the checkpoints in order: nothing allocated per entry.
  const link: { seq: number; flowNo: number; flowId?: StoredFlowId; kind?: number } = { seq: 0, flowNo: 0 };
  const checkpointSeqs = [...checkpoints.keys()].filter((s) => s > fromSeq).sort((a, b) => a - b);
  let c = 0;
  let nextCheckpoint = checkpointSeqs[0] ?? -1;
  while (expected <= toSeq) {
    const last = Math.min(toSeq, expected - 1 + CHUNK);
    const [count, min, max, flowNoList, lengthList, read] = chunks.get(expected - 1, last) as Chunk;
    if (count === 0) break; // the rest is missing: the caller compares with the head
    if (min !== expected || max !== expected + count - 1) return bad(firstMissing(db, expected, last), 'gap');
    const flowNos = (flowNoList ?? '').split(',');
    const lengths = (lengthList ?? '').split(',');
    if (flowNos.length !== count || lengths.length !== count || !(read instanceof Uint8Array)) {
      return bad(expected, 'unreadable');
    }
    // A plain view of the Buffer read: the loop below indexes it, never slices it per entry.
    const bodies = new Uint8Array(read.buffer, read.byteOffset, read.byteLength);
    const flows = openedFlows(flowsOpened, textFlowIds, expected - 1, max);
    if (flows === undefined) return bad(expected, 'unreadable');
    let f = 0;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const seq = expected;
      const flowNo = +flowNos[i]!;
      const length = +lengths[i]!;
      link.seq = seq;
      link.flowNo = flowNo;
      link.flowId = undefined;
      link.kind = undefined;
      if (flowNo === seq) {
        while (f < flows.flowNos.length && flows.flowNos[f]! < seq) f++;
        if (flows.flowNos[f] !== seq) return bad(seq, 'unreadable');
        const idAt = flows.idAt[f]!;
        link.flowId = idAt >= 0 ? flows.ids.subarray(idAt, idAt + 16) : flows.texts.get(seq);
        link.kind = flows.kinds[f];
        if (link.flowId === undefined) return bad(seq, 'unreadable');
      }
      if (!(length > TAG_LENGTH) || at + length > bodies.length) return bad(seq, 'unreadable');
      hasher.linkOf(prev, link, bodies, at + TAG_LENGTH, at + length, next);
      for (let k = 0; k < TAG_LENGTH; k++) if (bodies[at + k] !== next[k]) return bad(seq, 'hash-mismatch');
      at += length;
      if (seq === nextCheckpoint) {
        if (!sameBytes(checkpoints.get(seq)!, next)) return bad(seq, 'checkpoint-mismatch');
        nextCheckpoint = checkpointSeqs[++c] ?? -1;
      }
      const t = prev;
      prev = next;
      next = t;
      expected += 1;
    }
  }
  return { ok: true, hash: prev, lastSeq: expected - 1 };
}

/** The first seq in (from - 1, to] that has no entry. */
function firstMissing(db: Database.Database, from: number, to: number): number {
  let expected = from;
  for (const seq of db
    .prepare(SEGMENT_SQL.seqs)
    .pluck()
    .all(from - 1, to) as number[]) {
    if (seq !== expected) return expected;
    expected += 1;
  }
  return expected;
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
