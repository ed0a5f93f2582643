// The journal's entries as an upload to the issuer host carries them (docs/journal.md, "Uploads";
// protocol/host-link/clearing-wire.ts): the bytes the chain hashes, read straight from the rows
// (seq, flow number, the flow's ID and kind on its first entry, the record) with each entry's
// stored tag, and the head's full hash when the batch reaches it. Nothing is decoded or
// re-encoded: the host recomputes the chain over exactly what the file holds.
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  CLEARING_FORMAT,
  MAX_UPLOAD_ENTRIES,
  type UploadEntry,
  type UploadRequest,
} from '../protocol/host-link/clearing-wire.js';
import type { DatabaseOwner } from './connection.js';
import { TAG_LENGTH } from './journal-chain.js';
import { flowIdOf } from './journal-codec.js';

const BATCH_SQL = `SELECT e.seq, e.flow_no, e.body, f.flow_id, f.kind
                     FROM journal_entry AS e LEFT JOIN flow AS f ON f.flow_no = e.seq
                    WHERE e.seq > ? ORDER BY e.seq LIMIT ?`;
const HEAD_SQL = 'SELECT seq, hash FROM journal_head WHERE id = 1';
const COUNT_SQL = 'SELECT count(*) FROM journal_entry WHERE seq > ?';

/** Entries after `afterSeq` (at most `limit`), as an upload; undefined when there are none. */
export function readUploadBatch(
  owner: DatabaseOwner,
  afterSeq: number,
  limit = MAX_UPLOAD_ENTRIES,
): UploadRequest | undefined {
  const db = owner.handle;
  const read = db.transaction(() => {
    const rows = db.prepare(BATCH_SQL).all(afterSeq, Math.min(limit, MAX_UPLOAD_ENTRIES)) as {
      seq: number;
      flow_no: number;
      body: Uint8Array;
      flow_id: Uint8Array | string | null;
      kind: number | null;
    }[];
    const head = db.prepare(HEAD_SQL).get() as { seq: number; hash: Uint8Array } | undefined;
    return { rows, head };
  });
  const { rows, head } = read.deferred();
  if (rows.length === 0) return undefined;
  const entries: UploadEntry[] = rows.map((r) => ({
    seq: r.seq,
    flowNo: r.flow_no,
    ...(r.flow_no === r.seq ? { flowId: flowIdOf(r.flow_id), kind: r.kind ?? -1 } : {}),
    record: Buffer.from(r.body.subarray(TAG_LENGTH)).toString('base64'),
    tag: bytesToHex(r.body.subarray(0, TAG_LENGTH)),
  }));
  const last = entries.at(-1)!.seq;
  return {
    format: CLEARING_FORMAT,
    entries,
    ...(head !== undefined && head.seq === last
      ? { head: { seq: head.seq, hash: bytesToHex(head.hash) } }
      : {}),
  };
}

/** How many entries follow `afterSeq`: the outbox's length. */
export function entriesAfter(owner: DatabaseOwner, afterSeq: number): number {
  return owner.handle.prepare(COUNT_SQL).pluck().get(afterSeq) as number;
}
