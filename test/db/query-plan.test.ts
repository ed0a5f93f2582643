// Proves the hot lookups are index seeks, not table scans, by asking SQLite for its plan: every
// statement that must stay fast at a million transfers (start-up, log pages, searches, end of day,
// appends, verify) is listed here with the index it must use.

import { describe, expect, it } from 'vitest';
import { openDatabase, type TerminalDatabase } from '../../db/connection.js';
import { CRL_SQL } from '../../db/crl-store.js';
import { SEARCH_SQL } from '../../db/flow-search.js';
import { FLOW_SQL } from '../../db/flows.js';
import { JOURNAL_SQL } from '../../db/journal.js';
import { VERIFY_SQL } from '../../db/journal-verify.js';
import { SEGMENT_SQL } from '../../db/journal-verify-segment.js';
import { WRITER_SQL } from '../../db/journal-writer.js';
import { useTempDir } from './helpers.js';

const tmp = useTempDir();

function plan(sql: string): string[] {
  const db: TerminalDatabase = tmp.track(openDatabase(tmp.path()));
  const params = Array.from(sql.matchAll(/\?/g), () => 1);
  const rows = db.handle.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
  return rows.map((r) => r.detail);
}

/** No step of the plan reads a whole table or index ("SCAN x" without a bounding index). */
function expectNoScan(steps: string[], allowed: RegExp[] = []): void {
  for (const s of steps) {
    if (/^SCAN /.test(s) && !allowed.some((a) => a.test(s)))
      throw new Error(`scans: ${s}\n${steps.join('\n')}`);
  }
}

describe('query plans', () => {
  it('looks up a revoked serial with two index seeks', () => {
    expect(plan(CRL_SQL.isRevoked)).toEqual([
      expect.stringMatching(/^SEARCH c USING (COVERING )?INDEX crl_issuer \(issuer_key_id=\?\)$/),
      expect.stringMatching(/^SEARCH r USING PRIMARY KEY \(crl_id=\? AND serial_hex=\?\)$/),
    ]);
  });

  it('appends through seeks only: the flow by its ID, the card by its holder ID, rowid inserts', () => {
    expect(plan(WRITER_SQL.flowById)).toEqual([
      expect.stringMatching(/^SEARCH flow USING (COVERING )?INDEX sqlite_autoindex_flow_1 \(flow_id=\?\)$/),
    ]);
    expect(plan(WRITER_SQL.cardByHolder)).toEqual([
      expect.stringMatching(/^SEARCH card USING INDEX sqlite_autoindex_card_1 \(holder_id=\?\)$/),
    ]);
    expect(plan(WRITER_SQL.head)).toEqual(['SEARCH journal_head USING INTEGER PRIMARY KEY (rowid=?)']);
    expect(plan(WRITER_SQL.advanceFlow)).toEqual(['SEARCH flow USING INTEGER PRIMARY KEY (rowid=?)']);
  });

  it('reads a flow’s entries through the flow ID index and journal_entry_flow, already in seq order', () => {
    const steps = plan(JOURNAL_SQL.entriesForFlow);
    expect(steps.join('\n')).toMatch(
      /SEARCH f USING (COVERING )?INDEX sqlite_autoindex_flow_1 \(flow_id=\?\)/,
    );
    expect(steps.join('\n')).toMatch(/SEARCH e USING (COVERING )?INDEX journal_entry_flow \(flow_no=\?\)/);
    expect(steps.join('\n')).not.toMatch(/TEMP B-TREE/);
  });

  it('pages the log backwards along the rowid, each entry’s flow by its number', () => {
    const steps = plan(JOURNAL_SQL.page);
    expect(steps).toEqual([
      'SEARCH e USING INTEGER PRIMARY KEY (rowid<?)',
      'SEARCH f USING INTEGER PRIMARY KEY (rowid=?)',
    ]);
  });

  it('lists open flows from the partial index, without scanning closed ones (start-up)', () => {
    const steps = plan(FLOW_SQL.open);
    expect(steps[0]).toMatch(/^SCAN f USING INDEX flow_open$/);
    expectNoScan(steps, [/^SCAN f USING INDEX flow_open$/]);
  });

  it('reads one day of closed flows from flow_closed_at (end of day, its summary and its list)', () => {
    for (const sql of [FLOW_SQL.summaryClosed, FLOW_SQL.closedIn]) {
      const steps = plan(sql);
      expect(steps.join('\n')).toMatch(
        /SEARCH f USING INDEX flow_closed_at \(updated_at>\? AND updated_at<\?\)/,
      );
      expectNoScan(steps);
    }
    // Open flows of the day: only the open ones are read.
    expect(plan(FLOW_SQL.summaryOpen).join('\n')).toMatch(/flow_open/);
  });

  it('searches through indexes: flow ID range, holder ID range, the label index, card and amount indexes', () => {
    expect(plan(SEARCH_SQL.flowIdRange)).toEqual([
      expect.stringMatching(
        /^SEARCH flow USING COVERING INDEX sqlite_autoindex_flow_1 \(flow_id>\? AND flow_id<\?\)$/,
      ),
    ]);
    expect(plan(SEARCH_SQL.holderRange)).toEqual([
      expect.stringMatching(
        /^SEARCH card USING COVERING INDEX sqlite_autoindex_card_1 \(holder_id>\? AND holder_id<\?\)$/,
      ),
    ]);
    expect(plan(SEARCH_SQL.labelWords)).toEqual([
      expect.stringMatching(/^SCAN card_label VIRTUAL TABLE INDEX 0:M/),
    ]);
    expect(plan(SEARCH_SQL.byCard1)).toEqual([
      'SEARCH flow USING COVERING INDEX flow_card_1 (card_1=? AND rowid<?)',
    ]);
    expect(plan(SEARCH_SQL.byCard2)).toEqual([
      'SEARCH flow USING COVERING INDEX flow_card_2 (card_2=? AND rowid<?)',
    ]);
    expect(plan(SEARCH_SQL.byAmount)).toEqual([
      'SEARCH flow USING COVERING INDEX flow_amount (amount=? AND rowid<?)',
    ]);
  });

  it('finds refunds, item words and the first flow through indexes (the shop’s log, refunds, Z report)', () => {
    expect(plan(SEARCH_SQL.refundOfExact)).toEqual([
      'SEARCH flow USING COVERING INDEX flow_refund_of (refund_of=?)',
    ]);
    expect(plan(SEARCH_SQL.refundOfRange)).toEqual([
      'SEARCH flow USING COVERING INDEX flow_refund_of (refund_of>? AND refund_of<?)',
    ]);
    expect(plan(SEARCH_SQL.refunds)).toEqual(['SEARCH flow USING INDEX flow_refunds (flow_no<?)']);
    // The item words' index in rowid order, newest first, below the cursor: no sort.
    expect(plan(SEARCH_SQL.itemWords)).toEqual([
      expect.stringMatching(/^SCAN item_label VIRTUAL TABLE INDEX \d+:M1<$/),
    ]);
    expect(plan(FLOW_SQL.refundsOfAny)[0]).toMatch(/^SEARCH f USING INDEX flow_refund_of \(refund_of=\?\)$/);
    const refunds = plan(FLOW_SQL.refundsOf);
    expect(refunds[0]).toBe('SEARCH f USING INDEX flow_refund_of (refund_of=?)');
    expectNoScan(refunds);
    // The first flow: along the rowid from its start, stopping at the first business flow; no sort.
    expect(plan(FLOW_SQL.firstOpened)).toEqual(['SCAN f']);
  });

  it('verifies along rowid ranges, and starts from the last verification without a scan', () => {
    expect(plan(SEGMENT_SQL.chunk)).toEqual([
      'SEARCH journal_entry USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)',
    ]);
    expect(plan(SEGMENT_SQL.seqs)).toEqual([
      'SEARCH journal_entry USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)',
    ]);
    expect(plan(SEGMENT_SQL.flowsOpened)).toEqual([
      'SEARCH flow USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)',
    ]);
    expect(plan(SEGMENT_SQL.textFlowIds)).toEqual([
      'SEARCH flow USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)',
    ]);
    expect(plan(VERIFY_SQL.checkpointsAfter)).toEqual([
      'SEARCH journal_checkpoint USING INTEGER PRIMARY KEY (rowid>?)',
    ]);
    expectNoScan(plan(VERIFY_SQL.lastVerified), [/^SCAN v$/]);
    expect(plan(VERIFY_SQL.lastEntry)).toEqual(['SEARCH journal_entry']);
  });
});
