import { convertLegacyJournal, setAsideLegacyJournal } from '../legacy-journal.js';
import type { Migration } from './types.js';

// The compact journal (docs/journal.md): binary IDs and hashes, integer times, CBOR payloads, one
// chain hash kept per CHECKPOINT_INTERVAL entries plus an 8-byte tag per entry, and a per-flow row
// that holds the flow's state and its facts (the index of searches and of the end of day).
//
// journal_entry        one row per step: its seq, its flow's number (the seq of the flow's first entry)
//                      and its body (chain tag and record). Append-only (triggers); an INSERT must be
//                      the head's next seq and belong to a flow that exists (the flow row comes first,
//                      in the same transaction).
// journal_head         the one mutable row: the last seq and its full chain hash. It advances one
//                      entry at a time, only to an entry that exists and whose tag is the hash's start.
// journal_checkpoint   chain hashes at some seqs: every CHECKPOINT_INTERVAL entries and at each verify.
//                      A checkpoint can only copy the head as it is; never updated or deleted.
// journal_verification which checkpoint a verify reached (full or incremental): where the next
//                      incremental verify starts.
// flow                 each flow: its ID (16 bytes for a UUID), kind, first/last entry, last step,
//                      closed or not, and its facts (db/flow-facts.ts). ID, kind and opening are
//                      immutable; the state columns are a cache of the journal.
// card, card_label     the cards flows name: holder ID (bytes) and label (the certificate's CN), with a
//                      full-text index of the label's words (FTS5, prefix queries).
// flow_item            the item labels of a flow (content flows, issuing).
//
// The version-1 tables (journal with hex hashes and JSON payloads, flow_state) are converted entry
// by entry into these and dropped; the anchor entry that closes the conversion records the old head
// so the old chain can still be recomputed (db/legacy-journal.ts).
const SQL = `
CREATE TABLE card (
  card_no INTEGER PRIMARY KEY,
  holder_id BLOB NOT NULL UNIQUE CHECK (length(holder_id) BETWEEN 1 AND 64),
  label TEXT CHECK (length(label) <= 64)
) STRICT;

CREATE VIRTUAL TABLE card_label USING fts5(
  label, content = 'card', content_rowid = 'card_no', tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER card_label_insert AFTER INSERT ON card WHEN NEW.label IS NOT NULL
BEGIN INSERT INTO card_label (rowid, label) VALUES (NEW.card_no, NEW.label); END;

CREATE TRIGGER card_label_update AFTER UPDATE OF label ON card
BEGIN
  INSERT INTO card_label (card_label, rowid, label)
    SELECT 'delete', OLD.card_no, OLD.label WHERE OLD.label IS NOT NULL;
  INSERT INTO card_label (rowid, label) SELECT NEW.card_no, NEW.label WHERE NEW.label IS NOT NULL;
END;

CREATE TRIGGER card_no_delete BEFORE DELETE ON card
BEGIN SELECT RAISE(ABORT, 'cards named by the journal cannot be deleted'); END;

CREATE TRIGGER card_holder_fixed BEFORE UPDATE OF card_no, holder_id ON card
BEGIN SELECT RAISE(ABORT, 'a card keeps its number and holder ID'); END;

CREATE TABLE flow (
  flow_no INTEGER PRIMARY KEY,
  flow_id ANY NOT NULL UNIQUE
    CHECK ((typeof(flow_id) = 'blob' AND length(flow_id) = 16) OR typeof(flow_id) = 'text'),
  kind INTEGER NOT NULL CHECK (kind >= 0),
  opened_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL CHECK (last_seq >= flow_no),
  updated_at INTEGER NOT NULL,
  last_step ANY NOT NULL CHECK (typeof(last_step) IN ('integer', 'text')),
  closed INTEGER NOT NULL CHECK (closed IN (0, 1)),
  amount INTEGER CHECK (amount > 0),
  currency INTEGER CHECK (currency BETWEEN 0 AND 999),
  card_1 INTEGER REFERENCES card (card_no),
  card_2 INTEGER REFERENCES card (card_no),
  operator_id TEXT CHECK (length(operator_id) BETWEEN 1 AND 32),
  refund_of ANY CHECK (refund_of IS NULL OR typeof(refund_of) IN ('blob', 'text')),
  direction INTEGER CHECK (direction IN (-1, 1))
) STRICT;

-- Recovery's work list at start-up: open flows only, so it never grows with the log.
CREATE INDEX flow_open ON flow (flow_no) WHERE closed = 0;
-- The end of day: closed flows by the time of their last step.
CREATE INDEX flow_closed_at ON flow (updated_at) WHERE closed = 1;
CREATE INDEX flow_amount ON flow (amount) WHERE amount IS NOT NULL;
CREATE INDEX flow_kind ON flow (kind);
CREATE INDEX flow_card_1 ON flow (card_1) WHERE card_1 IS NOT NULL;
CREATE INDEX flow_card_2 ON flow (card_2) WHERE card_2 IS NOT NULL;
CREATE INDEX flow_refund_of ON flow (refund_of) WHERE refund_of IS NOT NULL;

CREATE TRIGGER flow_no_delete BEFORE DELETE ON flow
BEGIN SELECT RAISE(ABORT, 'flows of the journal cannot be deleted'); END;

CREATE TRIGGER flow_identity_fixed BEFORE UPDATE OF flow_no, flow_id, kind, opened_at ON flow
BEGIN SELECT RAISE(ABORT, 'a flow keeps its number, ID, kind and opening time'); END;

CREATE TABLE flow_item (
  flow_no INTEGER NOT NULL REFERENCES flow (flow_no),
  position INTEGER NOT NULL CHECK (position BETWEEN 0 AND 15),
  label TEXT NOT NULL CHECK (length(label) <= 200),
  type TEXT CHECK (length(type) <= 20),
  PRIMARY KEY (flow_no, position)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER flow_item_no_update BEFORE UPDATE ON flow_item
BEGIN SELECT RAISE(ABORT, 'flow items are written once'); END;

CREATE TRIGGER flow_item_no_delete BEFORE DELETE ON flow_item
BEGIN SELECT RAISE(ABORT, 'flow items are written once'); END;

-- body = the first 8 bytes of the entry's chain hash ‖ its record (at, step, payload: db/journal-codec.ts).
CREATE TABLE journal_entry (
  seq INTEGER PRIMARY KEY,
  flow_no INTEGER NOT NULL REFERENCES flow (flow_no) CHECK (flow_no <= seq),
  body BLOB NOT NULL CHECK (length(body) > 10)
) STRICT;

-- Entries are (flow_no, seq) in this index: a flow's entries come back in order without a sort.
CREATE INDEX journal_entry_flow ON journal_entry (flow_no);

CREATE TABLE journal_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

INSERT INTO journal_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

CREATE TABLE journal_checkpoint (
  seq INTEGER PRIMARY KEY,
  hash BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE TABLE journal_verification (
  id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL REFERENCES journal_checkpoint (seq),
  at INTEGER NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('full', 'incremental'))
) STRICT;

CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_entry
BEGIN SELECT RAISE(ABORT, 'journal is append-only: UPDATE refused'); END;

CREATE TRIGGER journal_entry_no_delete BEFORE DELETE ON journal_entry
BEGIN SELECT RAISE(ABORT, 'journal is append-only: DELETE refused'); END;

-- Also stops INSERT OR REPLACE over an existing seq (its implicit delete fires no delete trigger).
CREATE TRIGGER journal_entry_extends_head BEFORE INSERT ON journal_entry
WHEN NEW.seq IS NOT (SELECT seq + 1 FROM journal_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'journal append must extend the head'); END;

CREATE TRIGGER journal_head_advance_only BEFORE UPDATE ON journal_head
WHEN NEW.id IS NOT OLD.id OR NEW.seq IS NOT OLD.seq + 1
  OR substr(NEW.hash, 1, 8) IS NOT (SELECT substr(body, 1, 8) FROM journal_entry WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'journal_head only advances one entry at a time, to that entry'); END;

CREATE TRIGGER journal_head_no_delete BEFORE DELETE ON journal_head
BEGIN SELECT RAISE(ABORT, 'journal_head cannot be deleted'); END;

CREATE TRIGGER journal_checkpoint_is_head BEFORE INSERT ON journal_checkpoint
WHEN NEW.seq IS NOT (SELECT seq FROM journal_head WHERE id = 1)
  OR NEW.hash IS NOT (SELECT hash FROM journal_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'a checkpoint copies the journal head'); END;

CREATE TRIGGER journal_checkpoint_no_update BEFORE UPDATE ON journal_checkpoint
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

CREATE TRIGGER journal_checkpoint_no_delete BEFORE DELETE ON journal_checkpoint
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

CREATE TRIGGER journal_verification_no_update BEFORE UPDATE ON journal_verification
BEGIN SELECT RAISE(ABORT, 'verifications are append-only'); END;

CREATE TRIGGER journal_verification_no_delete BEFORE DELETE ON journal_verification
BEGIN SELECT RAISE(ABORT, 'verifications are append-only'); END;
`;

export const migration004CompactJournal: Migration = {
  version: 4,
  name: 'compact-journal',
  up(db) {
    const legacyHead = setAsideLegacyJournal(db);
    db.exec(SQL);
    if (legacyHead) convertLegacyJournal(db, legacyHead, () => new Date());
  },
};
