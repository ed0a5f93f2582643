import type { Migration } from '../../../../db/migrations/types.js';

/**
 * The command-generating authority's own database (seed 000, second embodiment): a different party
 * from the terminal, so a different file with its own migration registry (store/migrations).
 *
 * authority_identity  the one issuer this database serves (issuer ID and authority public key);
 *                     fixed at first open, so the file cannot silently change hands.
 * allowed_servers     eligibility: which issuing servers may register, and what the create command
 *                     issued to each allows (content types, issuance limit, validity).
 * registered_servers  the registered server list (31a): server information as signed, and the key.
 * create_commands     the create command issued to each registered server; history is kept, at most
 *                     one current (not superseded) command per server.
 * authorizations      every registration and authentication request with its ack (ok/reject) and
 *                     reason. Append-only: UPDATE and DELETE are refused by triggers. The number of
 *                     create rights granted under a command is counted here, not kept in a counter.
 */
export const AUTHORITY_APPLICATION_ID = 0x53544c41; // 'STLA'

const SQL = `
CREATE TABLE authority_identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  issuer_id TEXT NOT NULL,
  authority_public_key TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TRIGGER authority_identity_no_update BEFORE UPDATE ON authority_identity
BEGIN SELECT RAISE(ABORT, 'the authority identity is fixed: UPDATE refused'); END;

CREATE TRIGGER authority_identity_no_delete BEFORE DELETE ON authority_identity
BEGIN SELECT RAISE(ABORT, 'the authority identity is fixed: DELETE refused'); END;

CREATE TABLE allowed_servers (
  terminal_id TEXT PRIMARY KEY,
  public_key TEXT,
  content_types TEXT NOT NULL,
  max_issuances INTEGER CHECK (max_issuances IS NULL OR max_issuances > 0),
  validity_seconds INTEGER NOT NULL CHECK (validity_seconds > 0),
  added_at TEXT NOT NULL
) STRICT;

CREATE TABLE registered_servers (
  terminal_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  server_info TEXT NOT NULL,
  public_key TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE create_commands (
  command_id TEXT PRIMARY KEY,
  terminal_id TEXT NOT NULL REFERENCES registered_servers (terminal_id),
  server_public_key TEXT NOT NULL,
  issuer_id TEXT NOT NULL,
  content_types TEXT NOT NULL,
  max_issuances INTEGER CHECK (max_issuances IS NULL OR max_issuances > 0),
  not_after INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  superseded_at TEXT
) STRICT;

CREATE UNIQUE INDEX create_commands_current ON create_commands (terminal_id) WHERE superseded_at IS NULL;

CREATE TABLE authorizations (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('register', 'authorize')),
  result TEXT NOT NULL CHECK (result IN ('ok', 'reject')),
  reason TEXT NOT NULL,
  message TEXT NOT NULL,
  terminal_id TEXT,
  command_id TEXT,
  server_public_key TEXT,
  card_holder_id TEXT,
  item_id TEXT,
  item_type TEXT,
  item_issuer_id TEXT,
  item_digest TEXT,
  nonce TEXT,
  grant_id TEXT,
  right_not_after INTEGER
) STRICT;

-- Rights granted under a command (the issuance limit) and replayed nonces: both look up ok rows.
CREATE INDEX authorizations_granted ON authorizations (command_id, nonce)
WHERE kind = 'authorize' AND result = 'ok';

CREATE INDEX authorizations_terminal ON authorizations (terminal_id);

CREATE TRIGGER authorizations_no_update BEFORE UPDATE ON authorizations
BEGIN SELECT RAISE(ABORT, 'authorizations log is append-only: UPDATE refused'); END;

CREATE TRIGGER authorizations_no_delete BEFORE DELETE ON authorizations
BEGIN SELECT RAISE(ABORT, 'authorizations log is append-only: DELETE refused'); END;

-- INSERT OR REPLACE over an existing row deletes it without firing the delete trigger.
CREATE TRIGGER authorizations_no_replace BEFORE INSERT ON authorizations
WHEN EXISTS (SELECT 1 FROM authorizations WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'authorizations log is append-only: REPLACE refused'); END;
`;

export const authorityMigration001: Migration = {
  version: 1,
  name: 'authority',
  up(db) {
    db.exec(SQL);
    db.pragma(`application_id = ${AUTHORITY_APPLICATION_ID}`);
  },
};
