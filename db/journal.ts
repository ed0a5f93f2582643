// The append-only, hash-chained transaction journal. Schema and triggers:
// db/migrations/004-compact-journal.ts; encoding: db/journal-codec.ts; chain: db/journal-chain.ts.
//
// Contract for callers: append() returns only after its transaction has committed, and with
// WAL + synchronous=FULL (db/connection.ts) a commit is fsynced. "Journaled before the next APDU is
// sent" therefore means: call append(), then send.

import { availableParallelism } from 'node:os';
import { bytesToHex } from '@noble/hashes/utils.js';
import type Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';
import type { DatabaseOwner } from './connection.js';
import { withDbErrors } from './db-errors.js';
import { checkFacts, type FlowFacts, NO_FACTS } from './flow-facts.js';
import { type FlowCriteria, searchFlows } from './flow-search.js';
import { TAG_LENGTH } from './journal-chain.js';
import { decodeRecord, encodePayload, flowIdOf, kindOf, storedFlowId } from './journal-codec.js';
import { type VerifyResult, verifyJournal, verifyJournalParallel } from './journal-verify.js';
import { FLOW_KINDS, type FlowKind } from './journal-vocabulary.js';
import { JournalWriter } from './journal-writer.js';
import { type LegacyChainResult, verifyLegacyChain } from './legacy-journal.js';
import { statementCache } from './statement-cache.js';

export type { FlowFacts } from './flow-facts.js';
export type { VerifyResult } from './journal-verify.js';
export { FLOW_KINDS, type FlowKind } from './journal-vocabulary.js';
export type { LegacyChainResult } from './legacy-journal.js';

/** What a caller appends: one step of one flow, with a plain-JSON payload. */
export interface JournalEntry {
  readonly flowId: string;
  readonly flowKind: FlowKind;
  readonly step: string;
  readonly payload: Record<string, unknown>;
}

/** An entry as read back: its place in the chain, its time and its chain tag. */
export interface JournalRecord extends JournalEntry {
  readonly seq: number;
  /** ISO 8601, UTC, milliseconds. */
  readonly at: string;
  /** The first 8 bytes of the entry's chain hash, hex. */
  readonly tag: string;
  /** The previous entry's full chain hash, hex: on what append() returns (reads do not recompute it). */
  readonly prevHash?: string;
  /** The entry's full chain hash, hex: on what append() returns. */
  readonly hash?: string;
}

/** One page of the log, newest first: up to `limit` entries older than `beforeSeq`. */
export interface PageQuery {
  readonly beforeSeq?: number;
  readonly limit: number;
  /**
   * Only the entries of the flows this finds (db/flow-search.ts: a flow ID or its first 4+
   * characters, a card's holder ID from its first 4 hex digits, words of a card's label, an amount in
   * minor units, a flow kind; or precise criteria: db/flow-search.ts), newest flow first and each
   * flow's newest entry first.
   */
  readonly search?: string | FlowCriteria;
}

export interface JournalPage {
  readonly records: JournalRecord[];
  /** Pass as beforeSeq for the next (older) page; undefined when there is nothing older. */
  readonly nextBeforeSeq: number | undefined;
}

export interface JournalOptions {
  readonly now?: () => Date;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const STEP_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,63}$/;
const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_PAGE = 1000;

const ENTRY_COLUMNS = 'e.seq, e.body, f.flow_id, f.kind';

/** Exported so test/db can EXPLAIN the exact statements the journal runs. */
export const JOURNAL_SQL = {
  entriesForFlow: `SELECT ${ENTRY_COLUMNS} FROM flow AS f JOIN journal_entry AS e ON e.flow_no = f.flow_no
                   WHERE f.flow_id = ? ORDER BY e.seq`,
  page: `SELECT ${ENTRY_COLUMNS} FROM journal_entry AS e JOIN flow AS f ON f.flow_no = e.flow_no
         WHERE e.seq < ? ORDER BY e.seq DESC LIMIT ?`,
  head: 'SELECT seq, hash FROM journal_head WHERE id = 1',
  flowOfEntry: 'SELECT flow_no FROM journal_entry WHERE seq = ?',
  olderOfFlow: `SELECT ${ENTRY_COLUMNS} FROM journal_entry AS e JOIN flow AS f ON f.flow_no = e.flow_no
                WHERE e.flow_no = ? AND e.seq < ? ORDER BY e.seq DESC LIMIT ?`,
} as const;

interface Row {
  seq: number;
  body: Uint8Array;
  flow_id: Uint8Array | string;
  kind: number;
}

/** The terminal's journal over a borrowed connection: append, read by flow or page, verify the chain. */
export class Journal {
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly sql: (text: string) => Database.Statement;
  private readonly writer: JournalWriter;
  /** The parallel verify under way, which a second request joins (verifyParallel). */
  private verifying: Promise<VerifyResult> | undefined;

  constructor(owner: DatabaseOwner, opts: JournalOptions = {}) {
    this.db = owner.handle;
    this.now = opts.now ?? (() => new Date());
    this.sql = statementCache(this.db);
    this.writer = new JournalWriter(this.db);
  }

  /**
   * Appends one entry, and its facts (db/flow-facts.ts) to the flow's index, in its own IMMEDIATE
   * transaction and returns it once committed (fsynced). Refuses an invalid step or flow ID, a
   * payload that is not plain JSON or too long, facts out of range, or a flow of another kind
   * (E_INPUT_INVALID), and a call inside an open transaction (E_INTERNAL).
   */
  append(entry: JournalEntry, facts?: FlowFacts): JournalRecord {
    const { flowId, flowKind, step } = validateEntry(entry);
    const { value: payload, bytes } = encodePayload(entry.payload);
    if (bytes.length > MAX_PAYLOAD_BYTES) {
      invalid(`payload is ${bytes.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
    }
    const stored = facts === undefined ? NO_FACTS : checkFacts(facts);
    // Inside a caller's transaction this would only be a savepoint, not a commit.
    if (this.db.inTransaction) {
      throw new TerminalError('E_INTERNAL', 'Journal.append called inside an open transaction');
    }
    const atMs = this.now().getTime();
    const write = this.db.transaction(() =>
      this.writer.write({
        flowId: storedFlowId(flowId),
        flowKind,
        step,
        at: atMs,
        payload: bytes,
        facts: stored,
      }),
    );
    const w = withDbErrors('journal append', () => write.immediate());
    return {
      seq: w.seq,
      at: new Date(atMs).toISOString(),
      flowId,
      flowKind,
      step,
      payload,
      tag: bytesToHex(w.hash.subarray(0, TAG_LENGTH)),
      prevHash: bytesToHex(w.prevHash),
      hash: bytesToHex(w.hash),
    };
  }

  /** Every entry of one flow, in order (empty for an unknown flow). */
  entriesForFlow(flowId: string): JournalRecord[] {
    if (typeof flowId !== 'string' || !ID_PATTERN.test(flowId)) return [];
    const rows = this.sql(JOURNAL_SQL.entriesForFlow).all(storedFlowId(flowId)) as Row[];
    return rows.map(toRecord);
  }

  /** One page of the log, newest first, with the cursor of the next (older) page, if any. */
  page(query: PageQuery): JournalPage {
    const { beforeSeq, limit, search } = query;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      invalid(`page limit must be 1..${MAX_PAGE}`);
    }
    if (beforeSeq !== undefined && (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1)) {
      invalid('beforeSeq must be a positive integer');
    }
    const criteria =
      typeof search === 'string' ? (search.trim() === '' ? undefined : { text: search }) : search;
    if (criteria !== undefined) return this.searchPage(criteria, beforeSeq, limit);
    const before = beforeSeq ?? Number.MAX_SAFE_INTEGER;
    // One more than asked: there is an older page only if that one exists.
    const rows = this.sql(JOURNAL_SQL.page).all(before, limit + 1) as Row[];
    const records = rows.slice(0, limit).map(toRecord);
    return { records, nextBeforeSeq: rows.length > limit ? records.at(-1)?.seq : undefined };
  }

  /**
   * The entries of the flows that match, newest flow first and each flow's newest entry first. The
   * cursor is the last entry shown: the next page goes on with that entry's flow, then older flows.
   */
  private searchPage(search: FlowCriteria, beforeSeq: number | undefined, limit: number): JournalPage {
    const records: JournalRecord[] = [];
    let beforeFlowNo = beforeSeq ?? Number.MAX_SAFE_INTEGER;
    if (beforeSeq !== undefined) {
      const flowNo = this.sql(JOURNAL_SQL.flowOfEntry).pluck().get(beforeSeq) as number | undefined;
      if (flowNo !== undefined) {
        const rows = this.sql(JOURNAL_SQL.olderOfFlow).all(flowNo, beforeSeq, limit + 1) as Row[];
        records.push(...rows.map(toRecord));
        beforeFlowNo = flowNo;
      }
    }
    while (records.length <= limit) {
      const found = searchFlows(this.sql, search, { beforeFlowNo, limit: 8 });
      for (const flowNo of found.flowNos) {
        const rows = this.sql(JOURNAL_SQL.olderOfFlow).all(
          flowNo,
          Number.MAX_SAFE_INTEGER,
          limit + 1,
        ) as Row[];
        records.push(...rows.map(toRecord));
        beforeFlowNo = flowNo;
        if (records.length > limit) break;
      }
      if (found.nextBeforeFlowNo === undefined) break;
    }
    const page = records.slice(0, limit);
    return { records: page, nextBeforeSeq: records.length > limit ? page.at(-1)?.seq : undefined };
  }

  /** The last entry's seq and full chain hash (hex); seq 0 and zeros for an empty journal. */
  head(): { seq: number; hash: string } {
    const h = this.sql(JOURNAL_SQL.head).get() as { seq: number; hash: Uint8Array };
    return { seq: h.seq, hash: bytesToHex(h.hash) };
  }

  /**
   * Recomputes the whole chain in one read snapshot and compares it with every entry's tag, every
   * checkpoint and the head; names the first entry that differs (docs/journal.md, "Verification").
   * Records the head as a verified checkpoint when the chain holds and the connection can write.
   */
  verify(): VerifyResult {
    return verifyJournal(this.db, { scope: 'full', now: this.now });
  }

  /**
   * Like verify(), from the last verified checkpoint: reads only the entries appended since (the
   * routine daily check). The first call verifies everything.
   */
  verifyIncremental(): VerifyResult {
    return verifyJournal(this.db, { scope: 'incremental', now: this.now });
  }

  /**
   * verify() over checkpoint segments in `workers` worker threads, each on its own read-only
   * connection: a full verify in a fraction of the time where cores are free. Runs on this thread
   * where workers cannot start (an in-memory database, a bundle without the worker script).
   */
  verifyParallel(workers = Math.max(2, availableParallelism())): Promise<VerifyResult> {
    // One at a time: a second request (another tab pressing Verify) joins the one under way instead
    // of starting more worker threads over the whole log beside it.
    this.verifying ??= verifyJournalParallel(this.db, { workers, now: this.now }).finally(() => {
      this.verifying = undefined;
    });
    return this.verifying;
  }

  /**
   * For a log migrated from the version-1 format: recomputes the old chain from the converted
   * entries and compares it with the anchor the migration wrote (db/legacy-journal.ts).
   */
  verifyLegacy(): LegacyChainResult {
    return withDbErrors('legacy chain verify', () => verifyLegacyChain(this.db));
  }

  /** verify(), as an error an operator can look up. */
  verifyOrThrow(): number {
    const result = this.verify();
    if (!result.ok) {
      throw new TerminalError(
        'E_LOG_TAMPERED',
        `journal does not verify at seq ${result.firstBadSeq}: ${result.reason}`,
        {
          firstBadSeq: result.firstBadSeq,
          reason: result.reason,
        },
      );
    }
    return result.count;
  }
}

function toRecord(row: Row): JournalRecord {
  try {
    const { at, step, payload } = decodeRecord(row.body.subarray(TAG_LENGTH));
    return {
      seq: row.seq,
      at: new Date(at).toISOString(),
      flowId: flowIdOf(row.flow_id),
      flowKind: kindOf(row.kind),
      step,
      payload,
      tag: bytesToHex(row.body.subarray(0, TAG_LENGTH)),
    };
  } catch (e) {
    throw new TerminalError(
      'E_LOG_TAMPERED',
      `journal entry ${row.seq} cannot be read: ${(e as Error).message}`,
      {
        firstBadSeq: row.seq,
        reason: 'unreadable',
      },
    );
  }
}

function validateEntry(entry: JournalEntry): JournalEntry {
  const { flowId, flowKind, step, payload } = entry;
  if (typeof flowId !== 'string' || !ID_PATTERN.test(flowId)) {
    invalid(`flowId ${JSON.stringify(flowId)} is not valid`);
  }
  if (!(FLOW_KINDS as readonly unknown[]).includes(flowKind)) {
    invalid(`flowKind ${JSON.stringify(flowKind)} is not known`);
  }
  if (typeof step !== 'string' || !STEP_PATTERN.test(step)) {
    invalid(`step ${JSON.stringify(step)} is not valid`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    invalid('payload must be an object');
  }
  return entry;
}

function invalid(message: string): never {
  throw new TerminalError('E_INPUT_INVALID', message);
}
