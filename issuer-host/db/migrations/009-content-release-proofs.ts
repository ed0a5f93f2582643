import type { HostMigration } from './types.js';

// Clearing, seventh step: content release proofs travel through the host (docs/issuer-host.md,
// "Release proofs"; docs/content-clearing.md), like the release proofs of value transfers.
//
// content_release_proofs  a receiver card's release proof (CONTENT RELEASE's answer, protocol §9.1) of
//                         a send or of an exchange's first half, kept only once it verified under the
//                         receiver's certificate in the uploading terminal's flow, with what a terminal
//                         needs to journal its delivery to the sender card (CONTENT RETURN): served to
//                         any terminal that asks for the sender card's proofs. Named like a content
//                         leg: sender holder ID : transfer ID. A value half carries its amount and
//                         currency, an item half its item ID; never both. Append-only, one per transfer.
// content_returns         the sender's record of that transfer is settled for good, as an upload said:
//                         given back (a 'refunded' step, CONTENT RETURN taken) or aborted (the sender's
//                         verified abort proof). A proof with such a row is served no more. Append-only,
//                         the first upload that said so.
const KEY = `'^[0-9A-F]{32}:[0-9A-F]{32}$'`;
const SQL = `
CREATE TABLE content_release_proofs (
  transfer_key text PRIMARY KEY CHECK (transfer_key ~ ${KEY}),
  flow_kind text NOT NULL CHECK (flow_kind IN ('content-transfer', 'content-exchange')),
  sender_id text NOT NULL CHECK (sender_id ~ '^[0-9A-F]{32}$'),
  receiver_id text NOT NULL CHECK (receiver_id ~ '^[0-9A-F]{32}$' AND receiver_id <> sender_id),
  tx_id text NOT NULL CHECK (tx_id ~ '^[0-9A-F]{32}$'),
  release_proof text NOT NULL CHECK (release_proof ~ '^([0-9A-F]{2}){8,80}$'),
  amount bigint CHECK (amount BETWEEN 1 AND 4294967295),
  currency smallint CHECK (currency BETWEEN 1 AND 999),
  item_id text CHECK (item_id ~ '^([0-9A-F]{2}){0,64}$'),
  digest text CHECK (digest ~ '^[0-9A-F]{64}$'),
  terminal_id text NOT NULL,
  seq bigint NOT NULL,
  FOREIGN KEY (terminal_id, seq) REFERENCES clearing_entries (terminal_id, seq),
  CHECK (transfer_key = sender_id || ':' || tx_id),
  CHECK ((amount IS NULL) = (currency IS NULL)),
  CHECK ((amount IS NULL) <> (item_id IS NULL))
);
CREATE INDEX content_release_proofs_sender ON content_release_proofs (sender_id);
CREATE TRIGGER content_release_proofs_append_only BEFORE UPDATE OR DELETE ON content_release_proofs
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER content_release_proofs_no_truncate BEFORE TRUNCATE ON content_release_proofs
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE content_returns (
  transfer_key text PRIMARY KEY CHECK (transfer_key ~ ${KEY}),
  how text NOT NULL CHECK (how IN ('returned', 'aborted')),
  terminal_id text NOT NULL,
  flow_id text NOT NULL CHECK (length(flow_id) BETWEEN 1 AND 128),
  seq bigint NOT NULL,
  FOREIGN KEY (terminal_id, seq) REFERENCES clearing_entries (terminal_id, seq)
);
CREATE TRIGGER content_returns_append_only BEFORE UPDATE OR DELETE ON content_returns
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER content_returns_no_truncate BEFORE TRUNCATE ON content_returns
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();
`;

export const migration009ContentReleaseProofs: HostMigration = {
  version: 9,
  name: 'content-release-proofs',
  sql: SQL,
};
