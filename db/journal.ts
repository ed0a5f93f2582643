// The append-only, hash-chained transaction journal. Schema and triggers: db/migrations/001-journal.ts.
//
// Contract for callers: append() returns only after its transaction has committed, and with
// WAL + synchronous=FULL (db/connection.ts) a commit is fsynced. "Journaled before the next APDU is
// sent" therefore means: call append(), then send.

import type Database from 'better-sqlite3';
import { canonicalJson } from '../protocol/canonical-json.js';
import { TerminalError } from '../protocol/errors.js';
import type { DatabaseOwner } from './connection.js';
import { withDbErrors } from './db-errors.js';
import { entryHash, GENESIS_HASH } from './journal-hash.js';
import { statementCache } from './statement-cache.js';

/** The kinds of flow the journal holds; a flow keeps the kind of its first entry. */
export const FLOW_KINDS = [
  'value-transfer',
  'key-update',
  'content-transfer',
  'content-exchange',
  'recovery',
  'admin',
] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];

/** What a caller appends: one step of one flow, with a plain-JSON payload (canonical JSON is hashed). */
export interface JournalEntry {
  readonly flowId: string;
  readonly flowKind: FlowKind;
  readonly step: string;
  readonly payload: Record<string, unknown>;
}

/** An appended entry: its place in the chain, its time, and the hashes that chain it. */
export interface JournalRecord extends JournalEntry {
  readonly seq: number;
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** One page of the log, newest first: up to `limit` entries older than `beforeSeq`. */
export interface PageQuery {
  readonly beforeSeq?: number;
  readonly limit: number;
  /** Case-insensitive (ASCII) substring of flow id, kind, step or payload text. */
  readonly search?: string;
}

export interface JournalPage {
  readonly records: JournalRecord[];
  /** Pass as beforeSeq for the next (older) page; undefined when this page is the last. */
  readonly nextBeforeSeq: number | undefined;
}

/** The outcome of walking the hash chain: every entry verified, or the first one that is not and why. */
export type VerifyResult =
  | { readonly ok: true; readonly count: number }
  | {
      readonly ok: false;
      readonly firstBadSeq: number;
      /**
       * head-mismatch: the rows are a valid chain but disagree with journal_head
       * (extra rows past the head, or a different last hash).
       */
      readonly reason: 'hash-mismatch' | 'gap' | 'prev-mismatch' | 'head-mismatch';
    };

export interface JournalOptions {
  readonly now?: () => Date;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const STEP_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,63}$/;
const MAX_PAYLOAD_CHARS = 64 * 1024;
const MAX_PAGE = 1000;

/** Exported so test/db can EXPLAIN the exact statements the journal runs. */
export const JOURNAL_SQL = {
  head: 'SELECT seq, hash FROM journal_head WHERE id = 1',
  insert: `INSERT INTO journal (seq, at, flow_id, flow_kind, step, payload, prev_hash, hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  flowKind: 'SELECT flow_kind FROM journal WHERE flow_id = ? ORDER BY seq LIMIT 1',
  entriesForFlow: 'SELECT * FROM journal WHERE flow_id = ? ORDER BY seq',
  all: 'SELECT * FROM journal ORDER BY seq',
} as const;

interface Head {
  seq: number;
  hash: string;
}

// A missing head row (only possible by dropping journal_head_no_delete) is read as "empty journal".
const GENESIS_HEAD: Head = { seq: 0, hash: GENESIS_HASH };

interface Row {
  seq: number;
  at: string;
  flow_id: string;
  flow_kind: string;
  step: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

/** The terminal's journal over a borrowed connection: append, read by flow or page, verify the chain. */
export class Journal {
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly sql: (text: string) => Database.Statement;

  constructor(owner: DatabaseOwner, opts: JournalOptions = {}) {
    this.db = owner.handle;
    this.now = opts.now ?? (() => new Date());
    this.sql = statementCache(this.db);
  }

  /**
   * Appends one entry in its own IMMEDIATE transaction and returns it once committed (fsynced). Refuses
   * an invalid step or flow ID, a payload that is not plain JSON or too long, or a flow of another kind
   * (E_INPUT_INVALID), and a call inside an open transaction (E_INTERNAL).
   */
  append(entry: JournalEntry): JournalRecord {
    const { flowId, flowKind, step } = validateEntry(entry);
    const payloadText = canonicalJson(entry.payload);
    if (payloadText.length > MAX_PAYLOAD_CHARS) {
      invalid(`payload is ${payloadText.length} characters; the limit is ${MAX_PAYLOAD_CHARS}`);
    }
    // Inside a caller's transaction this would only be a savepoint, not a commit.
    if (this.db.inTransaction) {
      throw new TerminalError('E_INTERNAL', 'Journal.append called inside an open transaction');
    }
    const payload = JSON.parse(payloadText) as Record<string, unknown>;
    const at = this.now().toISOString();

    const write = this.db.transaction((): JournalRecord => {
      const existingKind = (this.sql(JOURNAL_SQL.flowKind).get(flowId) as { flow_kind: string } | undefined)
        ?.flow_kind;
      if (existingKind !== undefined && existingKind !== flowKind) {
        invalid(`flow ${flowId} is a ${existingKind} flow, not ${flowKind}`);
      }
      const head = this.sql(JOURNAL_SQL.head).get() as Head;
      const seq = head.seq + 1;
      const hash = entryHash(head.hash, { seq, at, flow_id: flowId, flow_kind: flowKind, step, payload });
      this.sql(JOURNAL_SQL.insert).run(seq, at, flowId, flowKind, step, payloadText, head.hash, hash);
      return { seq, at, flowId, flowKind, step, payload, prevHash: head.hash, hash };
    });
    return withDbErrors('journal append', () => write.immediate());
  }

  /** Every entry of one flow, in order (empty for an unknown flow). */
  entriesForFlow(flowId: string): JournalRecord[] {
    const rows = this.sql(JOURNAL_SQL.entriesForFlow).all(flowId) as Row[];
    return rows.map(toRecord);
  }

  /** One page of the log, newest first, with the seq to ask for the next (older) page. */
  page(query: PageQuery): JournalPage {
    const { beforeSeq, limit, search } = query;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      invalid(`page limit must be 1..${MAX_PAGE}`);
    }
    if (beforeSeq !== undefined && (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1)) {
      invalid('beforeSeq must be a positive integer');
    }
    const where: string[] = [];
    const params: unknown[] = [];
    if (beforeSeq !== undefined) {
      where.push('seq < ?');
      params.push(beforeSeq);
    }
    if (search !== undefined && search !== '') {
      const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const columns = ['flow_id', 'flow_kind', 'step', 'payload'];
      where.push(`(${columns.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`);
      params.push(...columns.map(() => pattern));
    }
    const sql = `SELECT * FROM journal ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY seq DESC LIMIT ?`;
    const records = (this.sql(sql).all(...params, limit) as Row[]).map(toRecord);
    const last = records.at(-1);
    return { records, nextBeforeSeq: records.length === limit && last !== undefined ? last.seq : undefined };
  }

  /**
   * Walks the whole chain in one read snapshot. Detects edited rows (hash-mismatch), deleted rows
   * (gap, or prev-mismatch), and a deleted tail (gap against journal_head). It cannot detect an
   * attacker who rewrites every later hash and the head too: that needs an anchor outside the file.
   */
  verify(): VerifyResult {
    const check = this.db.transaction((): VerifyResult => {
      const head = (this.db.prepare(JOURNAL_SQL.head).get() as Head | undefined) ?? GENESIS_HEAD;
      let expectedSeq = 1;
      let prevHash = GENESIS_HASH;
      for (const row of this.db.prepare(JOURNAL_SQL.all).iterate() as IterableIterator<Row>) {
        if (row.seq !== expectedSeq) return broken(expectedSeq, 'gap');
        if (row.prev_hash !== prevHash) return broken(row.seq, 'prev-mismatch');
        if (recomputeHash(row) !== row.hash) return broken(row.seq, 'hash-mismatch');
        prevHash = row.hash;
        expectedSeq += 1;
      }
      const lastSeq = expectedSeq - 1;
      if (lastSeq < head.seq) return broken(lastSeq + 1, 'gap');
      if (lastSeq > head.seq) return broken(head.seq + 1, 'head-mismatch');
      if (prevHash !== head.hash) return broken(lastSeq, 'head-mismatch');
      return { ok: true, count: lastSeq };
    });
    return withDbErrors('journal verify', () => check.deferred());
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

function broken(firstBadSeq: number, reason: Extract<VerifyResult, { ok: false }>['reason']): VerifyResult {
  return { ok: false, firstBadSeq, reason };
}

function recomputeHash(row: Row): string | undefined {
  try {
    const payload: unknown = JSON.parse(row.payload);
    const { seq, at, flow_id, flow_kind, step } = row;
    return entryHash(row.prev_hash, { seq, at, flow_id, flow_kind, step, payload });
  } catch {
    return undefined; // stored payload no longer parses or is not canonical-able: it was edited
  }
}

function toRecord(row: Row): JournalRecord {
  return {
    seq: row.seq,
    at: row.at,
    flowId: row.flow_id,
    flowKind: row.flow_kind as FlowKind,
    step: row.step,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
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
