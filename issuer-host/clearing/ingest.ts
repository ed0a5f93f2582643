// Clearing ingest: takes one terminal's upload (protocol/host-link/clearing-wire.ts), continues the
// terminal's hash chain from what the host holds, and stores the new entries, all in one
// transaction under the terminal's chain lock (docs/issuer-host.md, "Clearing"):
//
// - entries the host already holds with the same bytes are duplicates (a re-sent batch: answered,
//   not stored twice);
// - a batch that starts after the host's next seq leaves a gap: refused (E_UPLOAD_GAP);
// - an entry at a seq the host holds with other bytes is a fork when the terminal's tag agrees with
//   those bytes over the host's chain (a self-consistent other history: a restored or copied log),
//   else an edit (E_UPLOAD_FORK, E_UPLOAD_EDITED);
// - a new entry whose bytes do not give its tag over the host's chain, or a head hash that differs
//   from the one recomputed, is an edit (E_UPLOAD_EDITED).
//
// A refusal rolls everything back; the caller then records the alert (so a refused upload leaves
// exactly one trace: a throttled alert row). `book` runs in the same transaction on the new entries:
// the ledger's bookings (issuer-host/ledger/) commit with the entries or not at all.
import { bytesToHex } from '@noble/hashes/utils.js';
import { ChainHasher, sameBytes, TAG_LENGTH } from '../../db/journal-chain.js';
import { decodeRecord, kindOf, storedFlowId } from '../../db/journal-codec.js';
import { type ErrorCode, TerminalError } from '../../protocol/errors.js';
import type { UploadEntry, UploadRequest, UploadResponse } from '../../protocol/host-link/clearing-wire.js';
import {
  appendEntries,
  chainState,
  GENESIS_HASH,
  type HeldEntry,
  heldEntries,
  lockChain,
  type NewEntry,
} from '../db/clearing-records.js';
import type { HostDatabase, Sql } from '../db/host-database.js';

/** A new entry with what the host read from its record, for the ledger. */
export interface IngestedEntry extends NewEntry {
  payload: Record<string, unknown>;
}

export interface IngestContext {
  terminalId: string;
  shopId: string;
  now: Date;
}

export type Booker = (tx: Sql, context: IngestContext, entries: readonly IngestedEntry[]) => Promise<void>;

/**
 * A refusal of the upload, whole: its code, the seq it concerns, and the alert kind it raises. The
 * chain's (gap, edit, fork) and the proofs' (E_UPLOAD_PROOF, clearing/transfer-proofs.ts).
 */
export class ChainRefusal extends TerminalError {
  constructor(
    code: Extract<ErrorCode, 'E_UPLOAD_GAP' | 'E_UPLOAD_EDITED' | 'E_UPLOAD_FORK' | 'E_UPLOAD_PROOF'>,
    message: string,
    readonly seq: number,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, { ...details, seq });
  }

  get alertKind(): string {
    return {
      E_UPLOAD_GAP: 'clearing.gap',
      E_UPLOAD_EDITED: 'clearing.edited',
      E_UPLOAD_FORK: 'clearing.fork',
      E_UPLOAD_PROOF: 'clearing.proof',
    }[this.code as 'E_UPLOAD_GAP'];
  }
}

/** A proof an upload carries that failed its check: where, and what it is (for the refusal's text). */
export interface FailedProof {
  flowId: string;
  seq: number;
  step: string;
  /** The payload field that holds it. */
  field: string;
  /** What it is and why it fails, after "carries". */
  what: string;
}

/**
 * Refuses the upload (E_UPLOAD_PROOF, a ChainRefusal) at the first failed proof in journal order;
 * returns when there is none. The transfers' and the contents' bookers each say what failed and
 * which failures the terminal's journal set aside.
 */
export function refuseFirstFailedProof(failed: readonly FailedProof[]): void {
  const first = [...failed].sort((a, b) => a.seq - b.seq)[0];
  if (first === undefined) return;
  throw new ChainRefusal(
    'E_UPLOAD_PROOF',
    `entry ${first.seq} (flow ${first.flowId}, ${first.step}) carries ${first.what}`,
    first.seq,
    { flowId: first.flowId, step: first.step, proof: first.field },
  );
}

export async function ingestUpload(
  db: HostDatabase,
  context: IngestContext,
  upload: UploadRequest,
  book?: Booker,
): Promise<UploadResponse> {
  const { terminalId } = context;
  return db.transaction(async (tx) => {
    await lockChain(tx, terminalId);
    const chain = await chainState(tx, terminalId);
    const first = upload.entries[0]!.seq;
    if (first > chain.lastSeq + 1) {
      throw new ChainRefusal(
        'E_UPLOAD_GAP',
        `the upload starts at entry ${first} but the host holds terminal ${terminalId}'s chain up to ${chain.lastSeq}: send from ${chain.lastSeq + 1}`,
        chain.lastSeq + 1,
      );
    }
    const hasher = new ChainHasher();
    const overlap = upload.entries.filter((e) => e.seq <= chain.lastSeq);
    if (overlap.length > 0) {
      const held = await heldEntries(tx, terminalId, first - 1, overlap.at(-1)!.seq);
      checkOverlap(hasher, overlap, held);
    }
    const fresh = upload.entries.filter((e) => e.seq > chain.lastSeq);
    const ingested = await linkNew(tx, hasher, terminalId, chain.hash, fresh);
    const last = ingested.at(-1);
    if (upload.head !== undefined) checkHead(upload, ingested, chain);
    if (last === undefined) {
      return {
        terminalId,
        lastSeq: chain.lastSeq,
        hash: bytesToHex(chain.hash),
        accepted: 0,
        duplicates: overlap.length,
      };
    }
    await appendEntries(tx, { terminalId, entries: ingested, chainExists: chain.exists, at: context.now });
    if (book) await book(tx, context, ingested);
    return {
      terminalId,
      lastSeq: last.seq,
      hash: bytesToHex(last.chainHash),
      accepted: ingested.length,
      duplicates: overlap.length,
    };
  });
}

/** Re-sent entries must be the held ones, byte for byte. */
function checkOverlap(hasher: ChainHasher, sent: readonly UploadEntry[], held: readonly HeldEntry[]) {
  const bySeq = new Map(held.map((h) => [h.seq, h]));
  for (const entry of sent) {
    const mine = bySeq.get(entry.seq);
    if (mine === undefined) throw new TerminalError('E_INTERNAL', `held entry ${entry.seq} is missing`);
    const link = linkFieldsOf(entry);
    const record = recordBytes(entry);
    const same =
      mine.flowNo === entry.flowNo &&
      sameLinkId(mine.linkFlowId, link.flowId) &&
      (mine.linkKind ?? undefined) === link.kind &&
      sameBytes(mine.record, record);
    if (same) {
      if (entry.tag !== bytesToHex(mine.chainHash.subarray(0, TAG_LENGTH))) {
        throw edited(entry.seq, 'carries a tag that is not its chain hash');
      }
      continue;
    }
    const prev = entry.seq === 1 ? GENESIS_HASH : (bySeq.get(entry.seq - 1)?.chainHash ?? undefined);
    if (prev === undefined) throw new TerminalError('E_INTERNAL', `held entry ${entry.seq - 1} is missing`);
    const theirs = hasher.link(prev, { seq: entry.seq, ...link }, record);
    if (bytesToHex(theirs.subarray(0, TAG_LENGTH)) === entry.tag) {
      throw new ChainRefusal(
        'E_UPLOAD_FORK',
        `entry ${entry.seq} differs from the one the host holds, with a chain of its own: the terminal's log forks from the one it uploaded before (restored or copied?)`,
        entry.seq,
      );
    }
    throw edited(entry.seq, 'differs from the one the host holds');
  }
}

async function linkNew(
  tx: Sql,
  hasher: ChainHasher,
  terminalId: string,
  startHash: Uint8Array,
  entries: readonly UploadEntry[],
): Promise<IngestedEntry[]> {
  if (entries.length === 0) return [];
  // Flows opened before this batch that its entries continue.
  const earlier = [...new Set(entries.filter((e) => e.flowNo < entries[0]!.seq).map((e) => e.flowNo))];
  const flows = new Map<number, { flowId: string; flowKind: string }>();
  for (const flowNo of earlier) {
    const [opener] = await heldEntries(tx, terminalId, flowNo, flowNo);
    if (opener === undefined || opener.flowNo !== flowNo) {
      throw new TerminalError('E_INPUT_INVALID', `entry ${flowNo} does not open a flow the host holds`);
    }
    flows.set(flowNo, { flowId: opener.flowId, flowKind: opener.flowKind });
  }
  let prev = startHash;
  const out: IngestedEntry[] = [];
  for (const entry of entries) {
    const link = linkFieldsOf(entry);
    const record = recordBytes(entry);
    let decoded: ReturnType<typeof decodeRecord>;
    let flow: { flowId: string; flowKind: string } | undefined;
    try {
      decoded = decodeRecord(record);
      if (entry.flowNo === entry.seq) {
        flow = { flowId: entry.flowId!, flowKind: kindOf(entry.kind) };
        flows.set(entry.seq, flow);
      } else {
        flow = flows.get(entry.flowNo);
      }
    } catch (e) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `entry ${entry.seq} is not readable: ${(e as Error).message}`,
      );
    }
    if (flow === undefined) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `entry ${entry.seq} names flow ${entry.flowNo}, which no entry opened`,
      );
    }
    const hash = hasher.link(prev, { seq: entry.seq, ...link }, record);
    if (bytesToHex(hash.subarray(0, TAG_LENGTH)) !== entry.tag) {
      throw edited(
        entry.seq,
        "does not give its tag over the chain the host holds (edited after it was written, or the terminal's chain differs before it)",
      );
    }
    out.push({
      seq: entry.seq,
      flowNo: entry.flowNo,
      linkFlowId: link.flowId ?? null,
      linkKind: link.kind ?? null,
      record,
      chainHash: hash,
      flowId: flow.flowId,
      flowKind: flow.flowKind,
      step: decoded.step,
      at: new Date(decoded.at),
      payload: decoded.payload,
    });
    prev = hash;
  }
  return out;
}

function checkHead(
  upload: UploadRequest,
  ingested: readonly IngestedEntry[],
  chain: { lastSeq: number },
): void {
  const head = upload.head!;
  const lastSent = upload.entries.at(-1)!.seq;
  if (head.seq !== lastSent) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `head names entry ${head.seq}, not the batch's last (${lastSent})`,
    );
  }
  const mine = ingested.find((e) => e.seq === head.seq);
  // A head inside what the host held was compared entry by entry already.
  if (mine === undefined || head.seq <= chain.lastSeq) return;
  if (bytesToHex(mine.chainHash) !== head.hash) {
    throw edited(head.seq, 'is not the head the terminal holds (its chain hash differs)');
  }
}

function edited(seq: number, why: string): ChainRefusal {
  return new ChainRefusal('E_UPLOAD_EDITED', `entry ${seq} ${why}`, seq);
}

function linkFieldsOf(entry: UploadEntry): { flowNo: number; flowId?: Uint8Array | string; kind?: number } {
  return entry.flowNo === entry.seq
    ? { flowNo: entry.flowNo, flowId: storedFlowId(entry.flowId!), kind: entry.kind! }
    : { flowNo: entry.flowNo };
}

function recordBytes(entry: UploadEntry): Uint8Array {
  return new Uint8Array(Buffer.from(entry.record, 'base64'));
}

function sameLinkId(a: Uint8Array | string | null, b: Uint8Array | string | undefined): boolean {
  if (a === null || b === undefined) return a === null && b === undefined;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return sameBytes(a, b);
}
