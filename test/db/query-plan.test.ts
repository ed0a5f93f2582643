// Proves the hot lookups are index seeks, not table scans, by asking SQLite for its plan.

import { describe, expect, it } from 'vitest';
import { openDatabase, type TerminalDatabase } from '../../db/connection.js';
import { CRL_SQL } from '../../db/crl-store.js';
import { FLOW_SQL } from '../../db/flows.js';
import { JOURNAL_SQL } from '../../db/journal.js';
import { useTempDir } from './helpers.js';

const tmp = useTempDir();

function plan(db: TerminalDatabase, sql: string): string[] {
  const params = Array.from(sql.matchAll(/\?/g), () => 'x');
  const rows = db.handle.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
  return rows.map((r) => r.detail);
}

describe('query plans', () => {
  it('looks up a revoked serial with two index seeks', () => {
    const db = tmp.track(openDatabase(tmp.path()));
    const steps = plan(db, CRL_SQL.isRevoked);
    expect(steps).toEqual([
      expect.stringMatching(/^SEARCH c USING (COVERING )?INDEX crl_issuer \(issuer_key_id=\?\)$/),
      expect.stringMatching(/^SEARCH r USING PRIMARY KEY \(crl_id=\? AND serial_hex=\?\)$/),
    ]);
  });

  it('finds the current CRL of an issuer through its unique index', () => {
    const db = tmp.track(openDatabase(tmp.path()));
    expect(plan(db, CRL_SQL.current)).toEqual(['SEARCH crl USING INDEX crl_issuer (issuer_key_id=?)']);
  });

  it('reads a flow from the journal through the flow_id index, already in seq order', () => {
    const db = tmp.track(openDatabase(tmp.path()));
    expect(plan(db, JOURNAL_SQL.entriesForFlow)).toEqual([
      'SEARCH journal USING INDEX journal_flow_id (flow_id=?)',
    ]);
    expect(plan(db, JOURNAL_SQL.flowKind)).toEqual([
      'SEARCH journal USING INDEX journal_flow_id (flow_id=?)',
    ]);
  });

  it('lists open flows from the partial index, without scanning closed ones', () => {
    const db = tmp.track(openDatabase(tmp.path()));
    expect(plan(db, FLOW_SQL.open)).toEqual(['SCAN flow_state USING INDEX flow_state_open']);
    expect(plan(db, FLOW_SQL.byId)).toEqual(['SEARCH flow_state USING PRIMARY KEY (flow_id=?)']);
  });

  it('reads one day of closed flows from the partial index (the end-of-day summary)', () => {
    const db = tmp.track(openDatabase(tmp.path()));
    expect(plan(db, FLOW_SQL.closedOn).join()).toMatch(
      /SEARCH flow_state USING INDEX flow_state_closed \(flow_kind=\? AND updated_at>\? AND updated_at<\?\)/,
    );
  });
});
