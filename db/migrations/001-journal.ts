import type { Migration } from './types.js';

// The append-only, hash-chained transaction journal.
//
// journal       one row per flow step; UPDATE and DELETE are refused by triggers, and an INSERT must
//               extend the head (next seq, prev_hash = head hash). The hash itself is computed by the
//               application (SQLite has no sha256), see db/journal-hash.ts.
// journal_head  the single mutable row: seq and hash of the last entry, advanced by trigger in the
//               same transaction as the insert. It is what makes a deleted tail detectable.
// flow_state    a cache of each flow's first/last step, maintained by trigger and rebuildable from the
//               journal (db/flows.ts rebuildFlowState). It is not a money table; the journal is.
//
// The terminal step list in journal_flow_state is a frozen copy of TERMINAL_STEPS in db/flows.ts;
// test/db/flows.test.ts checks they agree. Changing it needs a new migration plus a rebuild.
const SQL = `
CREATE TABLE journal (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  flow_id TEXT NOT NULL,
  flow_kind TEXT NOT NULL,
  step TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;

-- Entries are (flow_id, rowid) in this index, so lookups by flow come back in seq order without a sort.
CREATE INDEX journal_flow_id ON journal (flow_id);

CREATE TABLE journal_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
) STRICT;

INSERT INTO journal_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');

CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only: UPDATE refused'); END;

CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only: DELETE refused'); END;

-- Also stops INSERT OR REPLACE over an existing seq, whose implicit delete would not fire
-- journal_no_delete (delete triggers fire on REPLACE only with recursive_triggers on).
CREATE TRIGGER journal_extends_head BEFORE INSERT ON journal
WHEN NEW.seq IS NOT (SELECT seq + 1 FROM journal_head WHERE id = 1)
  OR NEW.prev_hash IS NOT (SELECT hash FROM journal_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'journal append must extend the head'); END;

CREATE TRIGGER journal_advance_head AFTER INSERT ON journal
BEGIN UPDATE journal_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END;

CREATE TRIGGER journal_head_advance_only BEFORE UPDATE ON journal_head
WHEN NEW.id IS NOT OLD.id OR NEW.seq IS NOT OLD.seq + 1
BEGIN SELECT RAISE(ABORT, 'journal_head only advances one entry at a time'); END;

CREATE TRIGGER journal_head_no_delete BEFORE DELETE ON journal_head
BEGIN SELECT RAISE(ABORT, 'journal_head cannot be deleted'); END;

CREATE TABLE flow_state (
  flow_id TEXT PRIMARY KEY,
  flow_kind TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  opened_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_step TEXT NOT NULL,
  terminal INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Only open (in-doubt) flows are indexed: that is the lookup recovery needs at start-up.
CREATE INDEX flow_state_open ON flow_state (first_seq) WHERE terminal = 0;

CREATE TRIGGER journal_flow_state AFTER INSERT ON journal
BEGIN
  INSERT INTO flow_state (flow_id, flow_kind, first_seq, last_seq, opened_at, updated_at, last_step, terminal)
  VALUES (NEW.flow_id, NEW.flow_kind, NEW.seq, NEW.seq, NEW.at, NEW.at, NEW.step,
          NEW.step IN ('completed', 'rolled-back', 'refunded', 'failed-no-value-moved'))
  ON CONFLICT (flow_id) DO UPDATE SET
    last_seq = excluded.last_seq,
    updated_at = excluded.updated_at,
    last_step = excluded.last_step,
    terminal = excluded.terminal;
END;
`;

export const migration001Journal: Migration = {
  version: 1,
  name: 'journal',
  up(db) {
    db.exec(SQL);
  },
};
