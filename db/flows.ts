// Flow state, derived from the journal. flow_state is a cache, not a record: the journal trigger
// journal_flow_state (db/migrations/001-journal.ts) keeps it current in the same transaction as each
// append, and rebuildFlowState() recomputes it from the journal alone. Money facts (participants,
// amounts) stay in the append-only journal payloads; read them with Journal.entriesForFlow().

import type Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';
import type { DatabaseOwner } from './connection.js';
import { withDbErrors } from './db-errors.js';
import type { FlowKind } from './journal.js';
import { statementCache } from './statement-cache.js';

/**
 * A flow whose last step is one of these is closed; any other last step means open or in doubt.
 * Frozen copy in the journal_flow_state trigger; test/db/flows.test.ts keeps them in step.
 */
export const TERMINAL_STEPS = ['completed', 'rolled-back', 'refunded', 'failed-no-value-moved'] as const;

/** One flow's row of the flow-state cache: its kind, first and last entries, and whether it is closed. */
export interface FlowState {
  readonly flowId: string;
  readonly flowKind: FlowKind;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly openedAt: string;
  readonly updatedAt: string;
  readonly lastStep: string;
  readonly terminal: boolean;
}

const TERMINAL_LIST = TERMINAL_STEPS.map((s) => `'${s}'`).join(', ');

/** Exported so test/db can EXPLAIN the exact statements. */
export const FLOW_SQL = {
  open: 'SELECT * FROM flow_state WHERE terminal = 0 ORDER BY first_seq',
  byId: 'SELECT * FROM flow_state WHERE flow_id = ?',
  all: 'SELECT * FROM flow_state ORDER BY first_seq',
  /** Timestamps are ISO 8601 UTC ("2026-11-21T10:00:00.000Z"): one day is [day, day || 'U'). */
  closedOn: `SELECT * FROM flow_state WHERE flow_kind = ? AND terminal = 1
             AND updated_at >= ? AND updated_at < ? ORDER BY first_seq`,
  rebuild: `
    INSERT INTO flow_state (flow_id, flow_kind, first_seq, last_seq, opened_at, updated_at, last_step, terminal)
    SELECT f.flow_id, opener.flow_kind, f.first_seq, f.last_seq, opener.at, latest.at, latest.step,
           latest.step IN (${TERMINAL_LIST})
    FROM (SELECT flow_id, min(seq) AS first_seq, max(seq) AS last_seq FROM journal GROUP BY flow_id) AS f
    JOIN journal AS opener ON opener.seq = f.first_seq
    JOIN journal AS latest ON latest.seq = f.last_seq`,
} as const;

interface Row {
  flow_id: string;
  flow_kind: string;
  first_seq: number;
  last_seq: number;
  opened_at: string;
  updated_at: string;
  last_step: string;
  terminal: number;
}

/**
 * The flow-state cache of the journal (kept by a trigger, rebuildable from the journal): the
 * work list of recovery and the index of the end-of-day summary.
 */
export class Flows {
  private readonly db: Database.Database;
  private readonly sql: (text: string) => Database.Statement;

  constructor(owner: DatabaseOwner) {
    this.db = owner.handle;
    this.sql = statementCache(this.db);
  }

  /** Flows not yet closed, oldest first: the work list for start-up recovery. */
  openFlows(): FlowState[] {
    return (this.sql(FLOW_SQL.open).all() as Row[]).map(toState);
  }

  /** One flow's state, or undefined for an unknown flow. */
  flow(flowId: string): FlowState | undefined {
    const row = this.sql(FLOW_SQL.byId).get(flowId) as Row | undefined;
    return row === undefined ? undefined : toState(row);
  }

  /** Every flow, oldest first. */
  all(): FlowState[] {
    return (this.db.prepare(FLOW_SQL.all).all() as Row[]).map(toState);
  }

  /** Flows of `kind` closed on `day` (YYYY-MM-DD, UTC), oldest first: the end-of-day summary's input. */
  closedOn(kind: FlowKind, day: string): FlowState[] {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      throw new TerminalError('E_INPUT_INVALID', `day must be YYYY-MM-DD, not ${JSON.stringify(day)}`);
    }
    return (this.sql(FLOW_SQL.closedOn).all(kind, day, `${day}U`) as Row[]).map(toState);
  }

  /** Throws the cache away and recomputes it from the journal, in one transaction. */
  rebuildFlowState(): { flows: number } {
    const rebuild = this.db.transaction(() => {
      this.db.exec('DELETE FROM flow_state');
      return { flows: this.db.prepare(FLOW_SQL.rebuild).run().changes };
    });
    return withDbErrors('flow state rebuild', () => rebuild.immediate());
  }
}

function toState(row: Row): FlowState {
  return {
    flowId: row.flow_id,
    flowKind: row.flow_kind as FlowKind,
    firstSeq: row.first_seq,
    lastSeq: row.last_seq,
    openedAt: row.opened_at,
    updatedAt: row.updated_at,
    lastStep: row.last_step,
    terminal: row.terminal !== 0,
  };
}
