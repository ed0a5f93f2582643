// Writes one entry inside the caller's transaction: the flow's row (created by its first entry,
// advanced by every later one), the entry with its chain tag, the head, a checkpoint every
// CHECKPOINT_INTERVAL entries, and the facts that came with it. Journal.append() wraps it in its own
// committed transaction; the migration that converts a version-1 log and the benchmark's fill call
// it many times in one.
import type Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';
import { hasFacts, type StoredFacts } from './flow-facts.js';
import { CHECKPOINT_INTERVAL, ChainHasher, TAG_LENGTH } from './journal-chain.js';
import { encodeRecord, kindOf, type StoredFlowId, storedKind, storedStep } from './journal-codec.js';
import type { FlowKind } from './journal-vocabulary.js';
import { statementCache } from './statement-cache.js';

/** A flow whose last step is one of these is closed; any other last step means open or in doubt. */
export const TERMINAL_STEPS = ['completed', 'rolled-back', 'refunded', 'failed-no-value-moved'] as const;
const TERMINAL = new Set<string>(TERMINAL_STEPS);

/** One entry, ready to store: its payload already encoded. */
export interface EncodedEntry {
  readonly flowId: StoredFlowId;
  readonly flowKind: FlowKind;
  readonly step: string;
  /** Unix milliseconds. */
  readonly at: number;
  readonly payload: Uint8Array;
  readonly facts: StoredFacts;
}

export interface WrittenEntry {
  readonly seq: number;
  readonly flowNo: number;
  readonly prevHash: Uint8Array;
  readonly hash: Uint8Array;
}

/** Exported so test/db can EXPLAIN the exact statements the writer runs. */
export const WRITER_SQL = {
  head: 'SELECT seq, hash FROM journal_head WHERE id = 1',
  flowById: 'SELECT flow_no, kind FROM flow WHERE flow_id = ?',
  insertFlow: `INSERT INTO flow (flow_no, flow_id, kind, opened_at, last_seq, updated_at, last_step, closed)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  advanceFlow: 'UPDATE flow SET last_seq = ?, updated_at = ?, last_step = ?, closed = ? WHERE flow_no = ?',
  factsOfFlow: `UPDATE flow SET amount = coalesce(amount, ?), currency = coalesce(currency, ?),
                  card_1 = coalesce(card_1, ?), card_2 = coalesce(card_2, ?),
                  operator_id = coalesce(operator_id, ?), refund_of = coalesce(refund_of, ?),
                  direction = coalesce(direction, ?)
                WHERE flow_no = ?`,
  insertEntry: 'INSERT INTO journal_entry (seq, flow_no, body) VALUES (?, ?, ?)',
  advanceHead: 'UPDATE journal_head SET seq = ?, hash = ? WHERE id = 1',
  checkpoint: 'INSERT INTO journal_checkpoint (seq, hash) VALUES (?, ?)',
  cardByHolder: 'SELECT card_no, label FROM card WHERE holder_id = ?',
  insertCard: 'INSERT INTO card (holder_id, label) VALUES (?, ?)',
  labelCard: 'UPDATE card SET label = ? WHERE card_no = ?',
  insertItem: 'INSERT OR IGNORE INTO flow_item (flow_no, position, label, type) VALUES (?, ?, ?, ?)',
} as const;

export class JournalWriter {
  private readonly sql: (text: string) => Database.Statement;
  private readonly hasher = new ChainHasher();

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  /** Must run inside a transaction (the caller's): every table it touches moves together. */
  write(e: EncodedEntry): WrittenEntry {
    const head = this.sql(WRITER_SQL.head).get() as { seq: number; hash: Uint8Array };
    const seq = head.seq + 1;
    const kind = storedKind(e.flowKind);
    const step = storedStep(e.step);
    // An ANY column keeps a bound JS number as REAL (8 bytes); a bigint is stored as an INTEGER.
    const stepValue = typeof step === 'number' ? BigInt(step) : step;
    const closed = TERMINAL.has(e.step) || e.flowKind === 'journal' ? 1 : 0;
    const existing = this.sql(WRITER_SQL.flowById).get(e.flowId) as
      | { flow_no: number; kind: number }
      | undefined;
    let flowNo: number;
    if (existing) {
      if (existing.kind !== kind) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          `flow ${String(e.flowId)} is a ${kindOf(existing.kind)} flow, not ${e.flowKind}`,
        );
      }
      flowNo = existing.flow_no;
    } else {
      flowNo = seq;
      this.sql(WRITER_SQL.insertFlow).run(seq, e.flowId, kind, e.at, seq, e.at, stepValue, closed);
    }
    const record = encodeRecord(e.at, step, e.payload);
    const hash = this.hasher.link(head.hash, { seq, flowNo, flowId: e.flowId, kind }, record);
    const body = Buffer.allocUnsafe(TAG_LENGTH + record.length);
    body.set(hash.subarray(0, TAG_LENGTH), 0);
    body.set(record, TAG_LENGTH);
    this.sql(WRITER_SQL.insertEntry).run(seq, flowNo, body);
    this.sql(WRITER_SQL.advanceHead).run(seq, Buffer.from(hash));
    if (existing) this.sql(WRITER_SQL.advanceFlow).run(seq, e.at, stepValue, closed, flowNo);
    if (hasFacts(e.facts)) this.addFacts(flowNo, e.facts);
    if (seq % CHECKPOINT_INTERVAL === 0) this.sql(WRITER_SQL.checkpoint).run(seq, Buffer.from(hash));
    return { seq, flowNo, prevHash: new Uint8Array(head.hash), hash };
  }

  /** Each fact the flow does not hold yet (the first value wins), and its items. */
  private addFacts(flowNo: number, f: StoredFacts): void {
    const [card1, card2] = f.cards.map((c) => this.card(c.holderId, c.label));
    this.sql(WRITER_SQL.factsOfFlow).run(
      f.amount,
      f.currency,
      card1 ?? null,
      card2 ?? null,
      f.operatorId,
      f.refundOf,
      f.direction,
      flowNo,
    );
    f.items.forEach((item, position) => {
      this.sql(WRITER_SQL.insertItem).run(flowNo, position, item.label, item.type);
    });
  }

  /** The card's number, adding the card or its newer label. */
  private card(holderId: Buffer, label: string | null): number {
    const found = this.sql(WRITER_SQL.cardByHolder).get(holderId) as
      | { card_no: number; label: string | null }
      | undefined;
    if (!found) return Number(this.sql(WRITER_SQL.insertCard).run(holderId, label).lastInsertRowid);
    if (label !== null && label !== found.label) this.sql(WRITER_SQL.labelCard).run(label, found.card_no);
    return found.card_no;
  }
}
