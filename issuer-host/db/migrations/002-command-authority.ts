import type { HostMigration } from './types.js';

// The command-generating server of seed 000 (second embodiment, modification 1) on the host: who may
// register as an issuing server, the registered servers with their create commands, and the log of
// every request it answered. It sits on the foundation's terminals: only a terminal registered at
// the host can be allow-listed or register, and its registered key is the issuing server's key.
//
// authority_identity    the one authority this database serves (issuer ID, authority public key),
//                       fixed at the host's first start with its authority key: a host configured
//                       with another issuer's key refuses to serve the database.
// authority_allow_list  eligibility: which terminals may register, and what the create command issued
//                       to each allows (content types, issuance limit, validity). Configuration, so
//                       rows change and go (each change is an audit event of the same transaction).
// authority_servers     the registered server list (31a): server information exactly as signed
//                       (canonical JSON) and the server key; updated when a server registers again.
// authority_commands    every create command issued, never deleted; the only change allowed is
//                       marking one superseded, and at most one per server is current.
// authority_log         every registration and authentication request with its ack (ok or reject) and
//                       reason, and the terminal that sent it: append-only. A create right granted is
//                       an ok 'authorize' row; the unique index below makes a second right for the
//                       same request nonce under a command impossible, whichever instance answers.
//
// Hex values are stored as the protocol writes them (upper-case hex), checked by pattern.
const HEX16 = `'^[0-9A-F]{32}$'`;
const KEY = `'^04[0-9A-F]{128}$'`;
const TYPES = `content_types <@ ARRAY['ticket', 'coupon', 'personal-data', 'key']::text[]
    AND cardinality(content_types) BETWEEN 1 AND 4`;

const SQL = `
CREATE TABLE authority_identity (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  issuer_id text NOT NULL CHECK (issuer_id ~ ${HEX16}),
  authority_public_key text NOT NULL CHECK (authority_public_key ~ ${KEY}),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER authority_identity_fixed BEFORE UPDATE OR DELETE ON authority_identity
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER authority_identity_no_truncate BEFORE TRUNCATE ON authority_identity
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE authority_allow_list (
  terminal_id text PRIMARY KEY REFERENCES terminals (terminal_id),
  content_types text[] NOT NULL CHECK (${TYPES}),
  max_issuances integer CHECK (max_issuances IS NULL OR max_issuances > 0),
  validity_seconds integer NOT NULL CHECK (validity_seconds > 0),
  changed_at timestamptz NOT NULL,
  changed_by text NOT NULL CHECK (length(changed_by) BETWEEN 1 AND 200)
);

CREATE TABLE authority_servers (
  terminal_id text PRIMARY KEY REFERENCES terminals (terminal_id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  server_info text NOT NULL CHECK (length(server_info) BETWEEN 2 AND 2000),
  public_key text NOT NULL CHECK (public_key ~ ${KEY}),
  registered_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL CHECK (updated_at >= registered_at)
);
CREATE TRIGGER authority_servers_no_delete BEFORE DELETE ON authority_servers
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER authority_servers_no_truncate BEFORE TRUNCATE ON authority_servers
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE authority_commands (
  command_id text PRIMARY KEY CHECK (command_id ~ ${HEX16}),
  terminal_id text NOT NULL REFERENCES authority_servers (terminal_id),
  server_public_key text NOT NULL CHECK (server_public_key ~ ${KEY}),
  issuer_id text NOT NULL CHECK (issuer_id ~ ${HEX16}),
  content_types text[] NOT NULL CHECK (${TYPES}),
  max_issuances integer CHECK (max_issuances IS NULL OR max_issuances > 0),
  not_after bigint NOT NULL CHECK (not_after > 0),
  created_at timestamptz NOT NULL,
  superseded_at timestamptz CHECK (superseded_at >= created_at)
);
CREATE UNIQUE INDEX authority_commands_current ON authority_commands (terminal_id)
  WHERE superseded_at IS NULL;

CREATE FUNCTION authority_commands_supersede_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.command_id, NEW.terminal_id, NEW.server_public_key, NEW.issuer_id, NEW.content_types,
      NEW.max_issuances, NEW.not_after, NEW.created_at)
       IS DISTINCT FROM (OLD.command_id, OLD.terminal_id, OLD.server_public_key, OLD.issuer_id,
      OLD.content_types, OLD.max_issuances, OLD.not_after, OLD.created_at)
     OR OLD.superseded_at IS NOT NULL OR NEW.superseded_at IS NULL THEN
    RAISE EXCEPTION 'create command %: the only change allowed is superseding it', OLD.command_id
      USING ERRCODE = 'HS003';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER authority_commands_supersede_only BEFORE UPDATE ON authority_commands
  FOR EACH ROW EXECUTE FUNCTION authority_commands_supersede_only();
CREATE TRIGGER authority_commands_no_delete BEFORE DELETE ON authority_commands
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER authority_commands_no_truncate BEFORE TRUNCATE ON authority_commands
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE authority_log (
  entry_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  sender_terminal_id text NOT NULL REFERENCES terminals (terminal_id),
  kind text NOT NULL CHECK (kind IN ('register', 'authorize')),
  result text NOT NULL CHECK (result IN ('ok', 'reject')),
  reason text NOT NULL CHECK (reason ~ '^[a-z][a-z-]{1,31}$' AND (result = 'ok') = (reason = 'ok')),
  message text NOT NULL CHECK (length(message) BETWEEN 1 AND 500),
  terminal_id text CHECK (terminal_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
  command_id text CHECK (command_id ~ ${HEX16}),
  server_public_key text CHECK (server_public_key ~ ${KEY}),
  card_holder_id text CHECK (card_holder_id ~ ${HEX16}),
  item_id text CHECK (item_id ~ ${HEX16}),
  item_type text CHECK (item_type IN ('ticket', 'coupon', 'personal-data', 'key')),
  item_issuer_id text CHECK (item_issuer_id ~ ${HEX16}),
  item_digest text CHECK (item_digest ~ '^[0-9A-F]{64}$'),
  nonce text CHECK (nonce ~ ${HEX16}),
  grant_id text CHECK (grant_id ~ ${HEX16}),
  right_not_after bigint CHECK (right_not_after > 0),
  -- A create right is granted exactly by an ok authorization, and names what it was granted for.
  CHECK ((grant_id IS NOT NULL) = (kind = 'authorize' AND result = 'ok')),
  CHECK ((grant_id IS NULL) = (right_not_after IS NULL)),
  CHECK (grant_id IS NULL OR (command_id IS NOT NULL AND nonce IS NOT NULL AND card_holder_id IS NOT NULL
                              AND item_id IS NOT NULL AND item_digest IS NOT NULL)),
  CHECK (kind <> 'register' OR result <> 'ok' OR command_id IS NOT NULL)
);
CREATE UNIQUE INDEX authority_log_one_right_per_request ON authority_log (command_id, nonce)
  WHERE grant_id IS NOT NULL;
CREATE INDEX authority_log_terminal ON authority_log (terminal_id, entry_id);
CREATE INDEX authority_log_sender ON authority_log (sender_terminal_id, entry_id);
CREATE TRIGGER authority_log_append_only BEFORE UPDATE OR DELETE ON authority_log
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER authority_log_no_truncate BEFORE TRUNCATE ON authority_log
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();
`;

export const migration002CommandAuthority: HostMigration = {
  version: 2,
  name: 'command-authority',
  sql: SQL,
};
