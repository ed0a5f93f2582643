import type { Migration } from './types.js';

// The outbox of uploads to the issuer host (docs/journal.md, "Uploads"): the journal itself is the
// outbox, and this one row says how far the host has acknowledged it (the seq and the chain hash the
// host answered) and how the last attempt went, for the screen's host status. The entries after
// `acked_seq` are what waits. The host's answer is the truth: when the host says it holds less (its
// database restored), the uploader moves the cursor back to it and sends again.
const SQL = `
CREATE TABLE upload_cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  acked_seq INTEGER NOT NULL CHECK (acked_seq >= 0),
  acked_hash BLOB CHECK (acked_hash IS NULL OR length(acked_hash) = 32),
  acked_at INTEGER,
  last_attempt_at INTEGER,
  last_error_code TEXT CHECK (last_error_code IS NULL OR length(last_error_code) <= 64),
  last_error_message TEXT CHECK (last_error_message IS NULL OR length(last_error_message) <= 500)
) STRICT;
INSERT INTO upload_cursor (id, acked_seq) VALUES (1, 0);
CREATE TRIGGER upload_cursor_keep BEFORE DELETE ON upload_cursor
BEGIN
  SELECT RAISE(ABORT, 'upload_cursor: the row stays');
END;
`;

export const migration006UploadOutbox: Migration = {
  version: 6,
  name: 'upload-outbox',
  up(db) {
    db.exec(SQL);
  },
};
