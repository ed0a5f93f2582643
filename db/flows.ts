// Flows of the journal: each flow's state (its first and last entry, last step, open or closed) and
// its facts, kept in the flow table by the journal writer in the same transaction as each entry
// (db/journal-writer.ts). Reads here go through indexes only: the open flows (recovery's work list),
// one flow by ID, searches (db/flow-search.ts) and the end of day by an instant range.
import type Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';
import type { DatabaseOwner } from './connection.js';
import { withDbErrors } from './db-errors.js';
import type { ValueDirection } from './flow-facts.js';
import { type FlowCriteria, searchFlows } from './flow-search.js';
import { TAG_LENGTH } from './journal-chain.js';
import {
  decodeRecord,
  flowIdOf,
  kindOf,
  stepOf,
  storedFlowId,
  storedKind,
  storedStep,
} from './journal-codec.js';
import type { FlowKind } from './journal-vocabulary.js';
import { TERMINAL_STEPS } from './journal-writer.js';
import { statementCache } from './statement-cache.js';

export type { FlowCriteria } from './flow-search.js';
export { TERMINAL_STEPS } from './journal-writer.js';

/** One flow's state: its kind, first and last entries, and whether it is closed. */
export interface FlowState {
  readonly flowId: string;
  readonly flowKind: FlowKind;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** ISO 8601 UTC: the first entry's time. */
  readonly openedAt: string;
  /** ISO 8601 UTC: the last entry's time (for a closed flow, when it closed). */
  readonly updatedAt: string;
  readonly lastStep: string;
  readonly terminal: boolean;
}

/** A flow with its facts (db/flow-facts.ts), cards with their labels. */
export interface FlowView extends FlowState {
  readonly amount?: number;
  readonly currency?: number;
  readonly cards: { holderId: string; label?: string }[];
  readonly operatorId?: string;
  readonly refundOf?: string;
  readonly direction?: ValueDirection;
  readonly items: { label: string; type?: string }[];
}

export interface FlowPage {
  /** Newest first. */
  readonly flows: FlowView[];
  /** Pass as beforeFlowNo for the next (older) page; undefined when nothing older matches. */
  readonly nextBeforeFlowNo: number | undefined;
}

/** An instant range [from, to): the caller computes a business day's bounds in its time zone. */
export interface InstantRange {
  readonly from: Date;
  readonly to: Date;
}

/** Counts and totals of the flows of one kind, outcome, refund or not, way of the value, operator. */
export interface SummaryLine {
  readonly kind: FlowKind;
  /** The closing step (completed, rolled-back, failed-no-value-moved, refunded), or 'open'. */
  readonly outcome: string;
  /** A value transfer that names the flow it pays back. */
  readonly refund: boolean;
  readonly direction?: ValueDirection;
  readonly operatorId?: string;
  readonly count: number;
  /** Sum of the flows' amounts, minor units. */
  readonly amount: number;
  /** Items the flows moved or issued. */
  readonly items: number;
}

export interface RangeSummary {
  readonly from: string;
  readonly to: string;
  /** Flows that closed in the range, and flows still open that started in it (outcome 'open'). */
  readonly lines: SummaryLine[];
  /** Every flow still open, whenever it started: the work of recovery, and the in-doubt candidates. */
  readonly open: FlowView[];
}

const FLOW_COLUMNS = `f.flow_no, f.flow_id, f.kind, f.opened_at, f.last_seq, f.updated_at, f.last_step, f.closed,
  f.amount, f.currency, f.operator_id, f.refund_of, f.direction,
  c1.holder_id AS holder_1, c1.label AS label_1, c2.holder_id AS holder_2, c2.label AS label_2`;
const FROM_FLOW = `flow AS f LEFT JOIN card AS c1 ON c1.card_no = f.card_1 LEFT JOIN card AS c2 ON c2.card_no = f.card_2`;
const ITEMS = '(SELECT count(*) FROM flow_item AS i WHERE i.flow_no = f.flow_no)';
const GROUPS = `f.kind AS kind, f.last_step AS last_step, f.refund_of IS NOT NULL AS refund,
  f.direction AS direction, f.operator_id AS operator_id`;
// Open flows are one line whatever step they stopped at.
const OPEN_GROUPS = `f.kind AS kind, NULL AS last_step, f.refund_of IS NOT NULL AS refund,
  f.direction AS direction, f.operator_id AS operator_id`;
/** The journal's own housekeeping flows (the legacy anchor) are no business of the day. */
const BUSINESS = `f.kind <> ${storedKind('journal')}`;
const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STEPS);
const FLOW_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Flow IDs per refundsOfAny statement. */
const REFUND_BATCH = 100;

/** Exported so test/db can EXPLAIN the exact statements. */
export const FLOW_SQL = {
  open: `SELECT ${FLOW_COLUMNS} FROM ${FROM_FLOW} WHERE f.closed = 0 ORDER BY f.flow_no`,
  all: `SELECT ${FLOW_COLUMNS} FROM ${FROM_FLOW} ORDER BY f.flow_no`,
  byId: `SELECT ${FLOW_COLUMNS} FROM ${FROM_FLOW} WHERE f.flow_id = ?`,
  byNo: `SELECT ${FLOW_COLUMNS} FROM ${FROM_FLOW} WHERE f.flow_no = ?`,
  newest: `SELECT ${FLOW_COLUMNS} FROM ${FROM_FLOW} WHERE f.flow_no < ? ORDER BY f.flow_no DESC LIMIT ?`,
  closedIn: `SELECT ${FLOW_COLUMNS} FROM ${FROM_FLOW} WHERE f.closed = 1 AND f.updated_at >= ? AND f.updated_at < ?
             ORDER BY f.updated_at`,
  openedIn: `SELECT ${FLOW_COLUMNS} FROM ${FROM_FLOW} WHERE f.closed = 0 AND f.opened_at >= ? AND f.opened_at < ?
             ORDER BY f.flow_no`,
  refundsOf: `SELECT ${FLOW_COLUMNS} FROM ${FROM_FLOW} WHERE f.refund_of = ? ORDER BY f.flow_no`,
  refundsOfAny: `SELECT ${FLOW_COLUMNS} FROM ${FROM_FLOW}
                 WHERE f.refund_of IN (${Array.from({ length: REFUND_BATCH }, () => '?').join(', ')})`,
  firstOpened: `SELECT f.opened_at FROM flow AS f WHERE ${BUSINESS} ORDER BY f.flow_no LIMIT 1`,
  items: 'SELECT label, type FROM flow_item WHERE flow_no = ? ORDER BY position',
  summaryClosed: `SELECT ${GROUPS}, count(*) AS n, coalesce(sum(f.amount), 0) AS amount, sum(${ITEMS}) AS items
                  FROM flow AS f WHERE f.closed = 1 AND f.updated_at >= ? AND f.updated_at < ? AND ${BUSINESS}
                  GROUP BY 1, 2, 3, 4, 5`,
  summaryOpen: `SELECT ${OPEN_GROUPS}, count(*) AS n, coalesce(sum(f.amount), 0) AS amount, sum(${ITEMS}) AS items
                FROM flow AS f WHERE f.closed = 0 AND f.opened_at >= ? AND f.opened_at < ? AND ${BUSINESS}
                GROUP BY 1, 3, 4, 5`,
  lastEntries: `SELECT e.flow_no, e.seq, e.body, f.kind FROM journal_entry AS e JOIN flow AS f ON f.flow_no = e.flow_no
                WHERE e.seq = (SELECT max(seq) FROM journal_entry AS l WHERE l.flow_no = e.flow_no)`,
  setState: 'UPDATE flow SET last_seq = ?, updated_at = ?, last_step = ?, closed = ? WHERE flow_no = ?',
} as const;

interface Row {
  flow_no: number;
  flow_id: Uint8Array | string;
  kind: number;
  opened_at: number;
  last_seq: number;
  updated_at: number;
  last_step: number | string;
  closed: number;
  amount: number | null;
  currency: number | null;
  operator_id: string | null;
  refund_of: Uint8Array | string | null;
  direction: number | null;
  holder_1: Uint8Array | null;
  label_1: string | null;
  holder_2: Uint8Array | null;
  label_2: string | null;
}

interface SummaryRow {
  kind: number;
  last_step: number | string | null;
  refund: number;
  direction: number | null;
  operator_id: string | null;
  n: number;
  amount: number;
  items: number;
}

/** The journal's flows over a borrowed connection. */
export class Flows {
  private readonly db: Database.Database;
  private readonly sql: (text: string) => Database.Statement;

  constructor(owner: DatabaseOwner) {
    this.db = owner.handle;
    this.sql = statementCache(this.db);
  }

  /** Flows not yet closed, oldest first: the work list for start-up recovery (an index of open flows only). */
  openFlows(): FlowView[] {
    return this.views(this.sql(FLOW_SQL.open).all() as Row[]);
  }

  /** One flow's state and facts, or undefined for an unknown flow. */
  flow(flowId: string): FlowView | undefined {
    if (typeof flowId !== 'string' || flowId.length === 0 || flowId.length > 128) return undefined;
    const row = this.sql(FLOW_SQL.byId).get(storedFlowId(flowId)) as Row | undefined;
    return row === undefined ? undefined : this.views([row])[0];
  }

  /** Flows newest first, all or those a search finds (db/flow-search.ts), a page at a time. */
  search(criteria: FlowCriteria | undefined, cursor: { beforeFlowNo?: number; limit: number }): FlowPage {
    const { beforeFlowNo, limit } = cursor;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) invalid('limit must be 1..1000');
    if (beforeFlowNo !== undefined && (!Number.isSafeInteger(beforeFlowNo) || beforeFlowNo < 1)) {
      invalid('beforeFlowNo must be a positive integer');
    }
    if (criteria === undefined) {
      const rows = this.sql(FLOW_SQL.newest).all(beforeFlowNo ?? Number.MAX_SAFE_INTEGER, limit + 1) as Row[];
      const flows = this.views(rows.slice(0, limit));
      return { flows, nextBeforeFlowNo: rows.length > limit ? flows.at(-1)?.firstSeq : undefined };
    }
    const found = searchFlows(this.sql, criteria, cursor);
    const flows = this.views(found.flowNos.map((n) => this.sql(FLOW_SQL.byNo).get(n) as Row));
    return { flows, nextBeforeFlowNo: found.nextBeforeFlowNo };
  }

  /** Every flow, oldest first. Reads the whole table: for tests and tools, never at start-up. */
  all(): FlowView[] {
    return this.views(this.db.prepare(FLOW_SQL.all).all() as Row[]);
  }

  /** The flows that name `flowId` as the flow they pay back (refunds of a sale), oldest first: flow_refund_of. */
  refundsOf(flowId: string): FlowView[] {
    if (typeof flowId !== 'string' || !FLOW_ID.test(flowId)) return [];
    return this.views(this.sql(FLOW_SQL.refundsOf).all(storedFlowId(flowId)) as Row[]);
  }

  /**
   * The refunds that name any of these flows, oldest first, through flow_refund_of: a day's sales in a
   * few statements (REFUND_BATCH IDs each) rather than one per sale.
   */
  refundsOfAny(flowIds: readonly string[]): FlowView[] {
    const ids = [...new Set(flowIds)].filter((id) => typeof id === 'string' && FLOW_ID.test(id));
    const rows: Row[] = [];
    for (let i = 0; i < ids.length; i += REFUND_BATCH) {
      const batch = ids.slice(i, i + REFUND_BATCH);
      // Always REFUND_BATCH parameters (the last batch repeats an ID): one statement to prepare.
      while (batch.length < REFUND_BATCH) batch.push(batch[0]!);
      rows.push(...(this.sql(FLOW_SQL.refundsOfAny).all(...batch.map(storedFlowId)) as Row[]));
    }
    return this.views(rows.sort((a, b) => a.flow_no - b.flow_no));
  }

  /** When the log's first business flow opened (ISO 8601 UTC), undefined for a log without one. */
  firstOpenedAt(): string | undefined {
    const at = this.sql(FLOW_SQL.firstOpened).pluck().get() as number | undefined;
    return at === undefined ? undefined : new Date(at).toISOString();
  }

  /** Flows of `kind` closed on `day` (YYYY-MM-DD, UTC), in the order they closed. */
  closedOn(kind: FlowKind, day: string): FlowView[] {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
      throw new TerminalError('E_INPUT_INVALID', `day must be YYYY-MM-DD, not ${JSON.stringify(day)}`);
    }
    const from = Date.parse(`${day}T00:00:00Z`);
    return this.closedIn({ from: new Date(from), to: new Date(from + 86_400_000) }).filter(
      (f) => f.flowKind === kind,
    );
  }

  /** Flows that closed in [from, to), in the order they closed, then those opened in it and still open. */
  inRange(range: InstantRange): FlowView[] {
    const [from, to] = checkRange(range);
    return [...this.closedIn(range), ...this.views(this.sql(FLOW_SQL.openedIn).all(from, to) as Row[])];
  }

  /**
   * The end of day: counts and totals of the flows that closed in [from, to) (and of those that
   * started in it and are still open), per kind, outcome, refund, value direction and operator;
   * and every open flow. Reads only the range's flows, through flow_closed_at.
   */
  summary(range: InstantRange): RangeSummary {
    const [from, to] = checkRange(range);
    const lines = [
      ...(this.sql(FLOW_SQL.summaryClosed).all(from, to) as SummaryRow[]).map((r) =>
        toLine(r, stepOf(r.last_step)),
      ),
      ...(this.sql(FLOW_SQL.summaryOpen).all(from, to) as SummaryRow[]).map((r) => toLine(r, 'open')),
    ];
    return {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      lines,
      open: this.openFlows(),
    };
  }

  /** Recomputes each flow's state (last entry, last step, closed) from the journal, in one transaction. */
  rebuildFlowState(): { flows: number } {
    const rebuild = this.db.transaction(() => {
      const last = this.db.prepare(FLOW_SQL.lastEntries).all() as {
        flow_no: number;
        seq: number;
        body: Uint8Array;
        kind: number;
      }[];
      const set = this.db.prepare(FLOW_SQL.setState);
      for (const r of last) {
        const { at, step } = decodeRecord(r.body.subarray(TAG_LENGTH));
        const closed = TERMINAL.has(step) || kindOf(r.kind) === 'journal' ? 1 : 0;
        const stored = storedStep(step);
        set.run(r.seq, at, typeof stored === 'number' ? BigInt(stored) : stored, closed, r.flow_no);
      }
      return { flows: last.length };
    });
    return withDbErrors('flow state rebuild', () => rebuild.immediate());
  }

  /** Flows that closed in [from, to), in the order they closed: flow_closed_at. */
  closedIn(range: InstantRange): FlowView[] {
    const [from, to] = checkRange(range);
    return this.views(this.sql(FLOW_SQL.closedIn).all(from, to) as Row[]);
  }

  private views(rows: Row[]): FlowView[] {
    return rows.map((r) => {
      const cards: { holderId: string; label?: string }[] = [];
      for (const [holder, label] of [
        [r.holder_1, r.label_1],
        [r.holder_2, r.label_2],
      ] as const) {
        if (holder) cards.push({ holderId: hex(holder), ...(label !== null ? { label } : {}) });
      }
      const kind = kindOf(r.kind);
      const items = KINDS_WITH_ITEMS.has(kind)
        ? (this.sql(FLOW_SQL.items).all(r.flow_no) as { label: string; type: string | null }[]).map((i) => ({
            label: i.label,
            ...(i.type !== null ? { type: i.type } : {}),
          }))
        : [];
      return {
        flowId: flowIdOf(r.flow_id),
        flowKind: kind,
        firstSeq: r.flow_no,
        lastSeq: r.last_seq,
        openedAt: new Date(r.opened_at).toISOString(),
        updatedAt: new Date(r.updated_at).toISOString(),
        lastStep: stepOf(r.last_step),
        terminal: r.closed !== 0,
        amount: r.amount ?? undefined,
        currency: r.currency ?? undefined,
        cards,
        operatorId: r.operator_id ?? undefined,
        refundOf: r.refund_of === null ? undefined : flowIdOf(r.refund_of),
        direction: r.direction === null ? undefined : r.direction > 0 ? 'in' : 'out',
        items,
      };
    });
  }
}

const KINDS_WITH_ITEMS: ReadonlySet<FlowKind> = new Set(['content-transfer', 'content-exchange', 'admin']);

function toLine(r: SummaryRow, outcome: string): SummaryLine {
  return {
    kind: kindOf(r.kind),
    outcome,
    refund: r.refund !== 0,
    direction: r.direction === null ? undefined : r.direction > 0 ? 'in' : 'out',
    operatorId: r.operator_id ?? undefined,
    count: r.n,
    amount: r.amount,
    items: r.items ?? 0,
  };
}

function checkRange(range: InstantRange): [number, number] {
  const from = range?.from?.getTime?.();
  const to = range?.to?.getTime?.();
  if (!Number.isFinite(from) || !Number.isFinite(to) || (to as number) <= (from as number)) {
    invalid('a range is two instants, from before to');
  }
  return [from as number, to as number];
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex').toUpperCase();
}

function invalid(message: string): never {
  throw new TerminalError('E_INPUT_INVALID', message);
}
