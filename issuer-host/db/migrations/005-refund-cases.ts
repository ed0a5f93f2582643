import type { HostMigration } from './types.js';

// Clearing, third step: value in doubt becomes the issuer's refund case, and release proofs travel
// through the host (docs/issuer-host.md, "Refund cases", "Release proofs").
//
// ledger_transfer_flows  which terminals' flows journaled each transfer (payer ID : Rt): where the
//                        journal's proofs of a transfer are. Append-only.
// release_proofs         a payee card's release proof (RELEASE CREDIT's answer, protocol v2) as one
//                        terminal journaled it, with the terms its payer card needs (REFUND DEBIT):
//                        served to any terminal that asks for the payer card's proofs. Append-only, one
//                        per transfer.
// refund_cases           a transfer whose value stayed in flight longer than the configured age: the
//                        issuer's case, carrying the journal's proofs (the entries of every flow of it).
//                        The only change: open → settled, once, with who settled it; settling books the
//                        refund (a void of the pending transfer, source 'refund-case') in the same
//                        transaction. Never deleted.
const KEY = `'^[0-9A-F]{32}:[0-9A-F]{2,64}$'`;
const SQL = `
CREATE TABLE ledger_transfer_flows (
  transfer_key text NOT NULL CHECK (transfer_key ~ ${KEY}),
  terminal_id text NOT NULL REFERENCES terminals (terminal_id),
  flow_id text NOT NULL CHECK (length(flow_id) BETWEEN 1 AND 128),
  PRIMARY KEY (transfer_key, terminal_id, flow_id)
);
CREATE TRIGGER ledger_transfer_flows_append_only BEFORE UPDATE OR DELETE ON ledger_transfer_flows
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER ledger_transfer_flows_no_truncate BEFORE TRUNCATE ON ledger_transfer_flows
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE release_proofs (
  transfer_key text PRIMARY KEY CHECK (transfer_key ~ ${KEY}),
  payer_id text NOT NULL CHECK (payer_id ~ '^[0-9A-F]{32}$'),
  payee_id text NOT NULL CHECK (payee_id ~ '^[0-9A-F]{32}$'),
  amount bigint NOT NULL CHECK (amount > 0),
  currency smallint NOT NULL CHECK (currency BETWEEN 0 AND 999),
  date bigint NOT NULL CHECK (date >= 0),
  tx_random text NOT NULL CHECK (tx_random ~ '^[0-9A-F]{2,64}$'),
  rx_random text NOT NULL CHECK (rx_random ~ '^[0-9A-F]{2,64}$'),
  release_proof text NOT NULL CHECK (release_proof ~ '^[0-9A-F]{2,128}$'),
  terminal_id text NOT NULL,
  seq bigint NOT NULL,
  FOREIGN KEY (terminal_id, seq) REFERENCES clearing_entries (terminal_id, seq),
  CHECK (transfer_key = payer_id || ':' || tx_random)
);
CREATE INDEX release_proofs_payer ON release_proofs (payer_id);
CREATE TRIGGER release_proofs_append_only BEFORE UPDATE OR DELETE ON release_proofs
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER release_proofs_no_truncate BEFORE TRUNCATE ON release_proofs
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE refund_cases (
  case_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transfer_key text NOT NULL UNIQUE CHECK (transfer_key ~ ${KEY}),
  pending_id bigint NOT NULL UNIQUE REFERENCES ledger_transfers (transfer_id),
  payer_id text NOT NULL CHECK (payer_id ~ '^[0-9A-F]{32}$'),
  amount bigint NOT NULL CHECK (amount > 0),
  currency smallint NOT NULL,
  in_doubt_since timestamptz NOT NULL,
  proofs jsonb NOT NULL CHECK (jsonb_typeof(proofs) = 'array'),
  opened_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'settled')),
  settled_at timestamptz,
  settled_by text CHECK (length(settled_by) BETWEEN 1 AND 200),
  note text CHECK (length(note) <= 500),
  CHECK ((status = 'settled') = (settled_at IS NOT NULL AND settled_by IS NOT NULL))
);
CREATE INDEX refund_cases_open ON refund_cases (case_id) WHERE status = 'open';
CREATE FUNCTION refund_cases_settle_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'open' OR NEW.status <> 'settled'
     OR (NEW.case_id, NEW.transfer_key, NEW.pending_id, NEW.payer_id, NEW.amount, NEW.currency,
         NEW.in_doubt_since, NEW.proofs, NEW.opened_at)
        IS DISTINCT FROM (OLD.case_id, OLD.transfer_key, OLD.pending_id, OLD.payer_id, OLD.amount,
         OLD.currency, OLD.in_doubt_since, OLD.proofs, OLD.opened_at) THEN
    RAISE EXCEPTION 'refund case %: the only change is settling it, once', OLD.case_id USING ERRCODE = 'HS003';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refund_cases_settle_only BEFORE UPDATE ON refund_cases
  FOR EACH ROW EXECUTE FUNCTION refund_cases_settle_only();
CREATE TRIGGER refund_cases_no_delete BEFORE DELETE ON refund_cases
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER refund_cases_no_truncate BEFORE TRUNCATE ON refund_cases
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();
CREATE INDEX ledger_unresolved_pending ON ledger_transfers (entry_at) WHERE phase = 'pending';
`;

export const migration005RefundCases: HostMigration = {
  version: 5,
  name: 'refund-cases',
  sql: SQL,
};
