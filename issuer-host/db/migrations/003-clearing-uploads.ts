import type { HostMigration } from './types.js';

// Clearing, first step: the terminals' journals as uploaded (docs/issuer-host.md, "Clearing").
//
// clearing_chains   per terminal, how far the host holds its chain: the last seq and its full hash.
//                   Created with the first upload; the only change is moving forward (by trigger),
//                   so a chain never goes back or is rewritten; never deleted.
// clearing_uploads  every upload that added entries: its range, when, which chain hash it ended on.
//                   Append-only.
// clearing_entries  every journal entry uploaded, exactly as the chain hashed it (flow number; on a
//                   flow's first entry its ID and kind code; the record) with the full chain hash the
//                   host computed, and what the host read of it (flow ID, kind, step, time) for its
//                   queries. Append-only; one row per (terminal, seq), so no entry is held twice.
const SQL = `
CREATE TABLE clearing_chains (
  terminal_id text PRIMARY KEY REFERENCES terminals (terminal_id),
  last_seq bigint NOT NULL CHECK (last_seq >= 0),
  head_hash bytea NOT NULL CHECK (length(head_hash) = 32),
  updated_at timestamptz NOT NULL
);
CREATE FUNCTION clearing_chains_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.terminal_id IS DISTINCT FROM OLD.terminal_id OR NEW.last_seq <= OLD.last_seq THEN
    RAISE EXCEPTION 'the clearing chain of % only moves forward', OLD.terminal_id USING ERRCODE = 'HS003';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER clearing_chains_forward_only BEFORE UPDATE ON clearing_chains
  FOR EACH ROW EXECUTE FUNCTION clearing_chains_forward_only();
CREATE TRIGGER clearing_chains_no_delete BEFORE DELETE ON clearing_chains
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER clearing_chains_no_truncate BEFORE TRUNCATE ON clearing_chains
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE clearing_uploads (
  upload_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  terminal_id text NOT NULL REFERENCES terminals (terminal_id),
  first_seq bigint NOT NULL CHECK (first_seq >= 1),
  last_seq bigint NOT NULL CHECK (last_seq >= first_seq),
  head_hash bytea NOT NULL CHECK (length(head_hash) = 32),
  received_at timestamptz NOT NULL,
  UNIQUE (terminal_id, first_seq)
);
CREATE TRIGGER clearing_uploads_append_only BEFORE UPDATE OR DELETE ON clearing_uploads
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER clearing_uploads_no_truncate BEFORE TRUNCATE ON clearing_uploads
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE clearing_entries (
  terminal_id text NOT NULL REFERENCES terminals (terminal_id),
  seq bigint NOT NULL CHECK (seq >= 1),
  upload_id bigint NOT NULL REFERENCES clearing_uploads (upload_id),
  flow_no bigint NOT NULL CHECK (flow_no BETWEEN 1 AND seq),
  -- As hashed: only on a flow's first entry (text, or a UUID's 16 bytes), and the kind's code.
  link_flow_id bytea,
  link_flow_text text,
  link_kind smallint CHECK (link_kind BETWEEN 0 AND 255),
  record bytea NOT NULL CHECK (length(record) BETWEEN 3 AND 65664),
  chain_hash bytea NOT NULL CHECK (length(chain_hash) = 32),
  -- As read: the flow's ID (text), kind and the step, and the entry's time.
  flow_id text NOT NULL CHECK (length(flow_id) BETWEEN 1 AND 128),
  flow_kind text NOT NULL CHECK (length(flow_kind) BETWEEN 1 AND 64),
  step text NOT NULL CHECK (length(step) BETWEEN 1 AND 64),
  at timestamptz NOT NULL,
  PRIMARY KEY (terminal_id, seq),
  CHECK ((flow_no = seq) = (link_kind IS NOT NULL)),
  CHECK ((flow_no = seq) = ((link_flow_id IS NULL) <> (link_flow_text IS NULL))),
  CHECK (link_flow_id IS NULL OR length(link_flow_id) = 16)
);
CREATE INDEX clearing_entries_flow ON clearing_entries (flow_id, terminal_id, seq);
CREATE TRIGGER clearing_entries_append_only BEFORE UPDATE OR DELETE ON clearing_entries
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER clearing_entries_no_truncate BEFORE TRUNCATE ON clearing_entries
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();
`;

export const migration003ClearingUploads: HostMigration = {
  version: 3,
  name: 'clearing-uploads',
  sql: SQL,
};
