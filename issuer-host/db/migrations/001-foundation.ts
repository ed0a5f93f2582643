import type { HostMigration } from './types.js';

// The host's foundation: who may talk to it (shops, terminals and their keys, staff tokens), the
// CRLs it distributes, replay protection of signed requests, and the audit log.
//
// shops            the issuer's shops; a terminal belongs to one. Never deleted, ID never changed.
// terminals        a terminal's ID, shop and P-256 public key (65-byte uncompressed point, unique:
//                  one key is one terminal). The only change allowed is active → revoked; never
//                  deleted, so every signature a terminal ever made can still be attributed.
// staff_tokens     the issuer's staff: SHA-256 of a random bearer token (the token itself is never
//                  stored), its role, expiry; the only change allowed is setting the revocation.
// crl_versions     every CRL published for a CA key (by its key identifier): append-only, and each
//                  cRLNumber strictly above the previous one for its CA (checked under a lock per CA,
//                  so two host instances cannot interleave). der_sha256 is computed by the database
//                  (the ETag).
// request_nonces   nonces of accepted terminal requests while their timestamp is within the window;
//                  the primary key makes a replay fail in any host instance. Pruned, not a record.
// audit_events     staff actions and security alerts (refused signatures, replays, revoked
//                  credentials): append-only.
//
// Tables that record facts refuse UPDATE, DELETE and TRUNCATE by trigger (SQLSTATE HS001); state
// changes a table does allow are checked by trigger (HS003). Money, when later migrations add it,
// is bigint minor units.
const SQL = String.raw`
CREATE FUNCTION host_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'HS001';
END $$;

CREATE TABLE shops (
  shop_id text PRIMARY KEY CHECK (shop_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL CHECK (length(created_by) BETWEEN 1 AND 200)
);
CREATE TRIGGER shops_append_only BEFORE UPDATE OR DELETE ON shops
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER shops_no_truncate BEFORE TRUNCATE ON shops
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE terminals (
  terminal_id text PRIMARY KEY CHECK (terminal_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  shop_id text NOT NULL REFERENCES shops (shop_id),
  public_key bytea NOT NULL UNIQUE CHECK (length(public_key) = 65 AND get_byte(public_key, 0) = 4),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  registered_at timestamptz NOT NULL DEFAULT now(),
  registered_by text NOT NULL CHECK (length(registered_by) BETWEEN 1 AND 200),
  revoked_at timestamptz,
  revoked_by text CHECK (length(revoked_by) BETWEEN 1 AND 200),
  CHECK (CASE status
           WHEN 'active' THEN revoked_at IS NULL AND revoked_by IS NULL
           ELSE revoked_at IS NOT NULL AND revoked_by IS NOT NULL END)
);
CREATE INDEX terminals_shop ON terminals (shop_id);

CREATE FUNCTION terminals_revoke_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.terminal_id, NEW.shop_id, NEW.public_key, NEW.registered_at, NEW.registered_by)
       IS DISTINCT FROM (OLD.terminal_id, OLD.shop_id, OLD.public_key, OLD.registered_at, OLD.registered_by)
     OR OLD.status <> 'active' OR NEW.status <> 'revoked' THEN
    RAISE EXCEPTION 'terminal %: the only change allowed is active to revoked', OLD.terminal_id
      USING ERRCODE = 'HS003';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER terminals_revoke_only BEFORE UPDATE ON terminals
  FOR EACH ROW EXECUTE FUNCTION terminals_revoke_only();
CREATE TRIGGER terminals_no_delete BEFORE DELETE ON terminals
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER terminals_no_truncate BEFORE TRUNCATE ON terminals
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE staff_tokens (
  token_id text PRIMARY KEY CHECK (token_id ~ '^tok-[0-9a-f]{12}$'),
  token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  role text NOT NULL CHECK (role IN ('issuer-admin', 'crl-publisher', 'auditor')),
  label text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL CHECK (length(created_by) BETWEEN 1 AND 200),
  expires_at timestamptz CHECK (expires_at > created_at),
  revoked_at timestamptz,
  revoked_by text CHECK (length(revoked_by) BETWEEN 1 AND 200),
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);

CREATE FUNCTION staff_tokens_revoke_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.token_id, NEW.token_hash, NEW.role, NEW.label, NEW.created_at, NEW.created_by, NEW.expires_at)
       IS DISTINCT FROM (OLD.token_id, OLD.token_hash, OLD.role, OLD.label, OLD.created_at, OLD.created_by, OLD.expires_at)
     OR OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL THEN
    RAISE EXCEPTION 'staff token %: the only change allowed is its revocation', OLD.token_id
      USING ERRCODE = 'HS003';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER staff_tokens_revoke_only BEFORE UPDATE ON staff_tokens
  FOR EACH ROW EXECUTE FUNCTION staff_tokens_revoke_only();
CREATE TRIGGER staff_tokens_no_delete BEFORE DELETE ON staff_tokens
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER staff_tokens_no_truncate BEFORE TRUNCATE ON staff_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE crl_versions (
  issuer_key_id text NOT NULL CHECK (issuer_key_id ~ '^[0-9A-F]{2,128}$'),
  crl_number numeric(50, 0) NOT NULL CHECK (crl_number >= 0),
  this_update timestamptz NOT NULL,
  next_update timestamptz NOT NULL CHECK (next_update >= this_update),
  revoked_count integer NOT NULL CHECK (revoked_count >= 0),
  der bytea NOT NULL CHECK (length(der) > 0),
  der_sha256 bytea GENERATED ALWAYS AS (sha256(der)) STORED,
  published_at timestamptz NOT NULL DEFAULT now(),
  published_by text NOT NULL CHECK (length(published_by) BETWEEN 1 AND 200),
  PRIMARY KEY (issuer_key_id, crl_number)
);

CREATE FUNCTION crl_versions_strictly_increasing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- One publisher per CA at a time; under READ COMMITTED the check below then sees every CRL
  -- committed before the lock was granted.
  PERFORM pg_advisory_xact_lock(hashtextextended('issuer-host:crl:' || NEW.issuer_key_id, 0));
  IF EXISTS (SELECT 1 FROM crl_versions
              WHERE issuer_key_id = NEW.issuer_key_id AND crl_number >= NEW.crl_number) THEN
    RAISE EXCEPTION 'CRL number % is not above the current CRL number of CA %',
      NEW.crl_number, NEW.issuer_key_id USING ERRCODE = 'HS002';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER crl_versions_strictly_increasing BEFORE INSERT ON crl_versions
  FOR EACH ROW EXECUTE FUNCTION crl_versions_strictly_increasing();
CREATE TRIGGER crl_versions_append_only BEFORE UPDATE OR DELETE ON crl_versions
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER crl_versions_no_truncate BEFORE TRUNCATE ON crl_versions
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE request_nonces (
  terminal_id text NOT NULL REFERENCES terminals (terminal_id),
  nonce bytea NOT NULL CHECK (length(nonce) = 16),
  request_at timestamptz NOT NULL,
  PRIMARY KEY (terminal_id, nonce)
);
CREATE INDEX request_nonces_by_age ON request_nonces (terminal_id, request_at);

CREATE TABLE audit_events (
  event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL CHECK (kind ~ '^[a-z]+(\.[a-z-]+)+$'),
  severity text NOT NULL CHECK (severity IN ('info', 'alert')),
  actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  subject text CHECK (length(subject) BETWEEN 1 AND 200),
  detail jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX audit_events_kind_subject ON audit_events (kind, subject, at);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();
`;

export const migration001Foundation: HostMigration = {
  version: 1,
  name: 'foundation',
  sql: SQL,
};
