import type { HostMigration } from './types.js';

// Clearing, second step: the double-entry ledger the uploaded value transfers are booked into
// (docs/issuer-host.md, "Ledger"). Anchors: TigerBeetle's accounts and two-phase transfers
// (pending, then post or void, each at most once), Mondex's exception log.
//
// ledger_accounts    one per card (holder ID) and per shop's value in flight, per currency.
// ledger_transfers   every movement: one amount from one account to another, so no row can be
//                    unbalanced and every account's balance sums to zero over the ledger. A
//                    transfer is named by what the cards know, the payer's holder ID and the
//                    transaction random Rt (transfer_key), never by a terminal's flow: a transfer
//                    begun at one terminal and recovered at another is one transfer.
//                      pending  payer card → in flight (the shop's), when value may have left the payer
//                      post     in flight → payee card, when delivered
//                      void     in flight → payer card, when rolled back or refunded
//                    At most one pending per transfer and one resolution (post or void) per pending
//                    (unique indexes, whichever host instance books); a resolution moves exactly the
//                    pending's amount out of the account it went to, and a void back to the payer
//                    (trigger). Append-only.
// ledger_exceptions  what could not be booked because the fleet's journals disagree (a transfer
//                    posted by one terminal and voided by another, other terms for the same
//                    transfer): kept for the issuer, never silently dropped, once per flow that
//                    disagrees. Append-only.
const SHOP = `'^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'`;
const SQL = `
CREATE TABLE ledger_accounts (
  account_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('card', 'in-flight')),
  ref text NOT NULL,
  currency smallint NOT NULL CHECK (currency BETWEEN 1 AND 999),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, ref, currency),
  CHECK (CASE kind WHEN 'card' THEN ref ~ '^[0-9A-F]{32}$' ELSE ref ~ ${SHOP} END)
);
CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE ON ledger_accounts
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE ledger_transfers (
  transfer_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transfer_key text NOT NULL CHECK (transfer_key ~ '^[0-9A-F]{32}:[0-9A-F]{2,64}$'),
  phase text NOT NULL CHECK (phase IN ('pending', 'post', 'void')),
  pending_id bigint REFERENCES ledger_transfers (transfer_id),
  debit_account bigint NOT NULL REFERENCES ledger_accounts (account_id),
  credit_account bigint NOT NULL REFERENCES ledger_accounts (account_id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency smallint NOT NULL CHECK (currency BETWEEN 1 AND 999),
  -- What booked it: a terminal's journal entry, or the issuer settling a refund case (migration 005).
  source text NOT NULL DEFAULT 'journal' CHECK (source IN ('journal', 'refund-case')),
  terminal_id text,
  shop_id text NOT NULL REFERENCES shops (shop_id),
  seq bigint,
  flow_id text NOT NULL CHECK (length(flow_id) BETWEEN 1 AND 128),
  entry_at timestamptz NOT NULL,
  booked_at timestamptz NOT NULL,
  FOREIGN KEY (terminal_id, seq) REFERENCES clearing_entries (terminal_id, seq),
  CHECK ((source = 'journal') = (terminal_id IS NOT NULL AND seq IS NOT NULL)),
  CHECK (source = 'journal' OR phase = 'void'),
  CHECK (debit_account <> credit_account),
  CHECK ((phase = 'pending') = (pending_id IS NULL))
);
CREATE UNIQUE INDEX ledger_one_pending ON ledger_transfers (transfer_key) WHERE phase = 'pending';
CREATE UNIQUE INDEX ledger_one_resolution ON ledger_transfers (pending_id) WHERE phase <> 'pending';
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account);
CREATE INDEX ledger_transfers_terminal ON ledger_transfers (terminal_id, entry_at);
CREATE INDEX ledger_transfers_entry_at ON ledger_transfers (entry_at);

CREATE FUNCTION ledger_transfer_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  p ledger_transfers%ROWTYPE;
BEGIN
  IF EXISTS (SELECT 1 FROM ledger_accounts
              WHERE account_id IN (NEW.debit_account, NEW.credit_account) AND currency <> NEW.currency) THEN
    RAISE EXCEPTION 'ledger transfer %: an account of another currency', NEW.transfer_key
      USING ERRCODE = 'HS004';
  END IF;
  IF NEW.phase = 'pending' THEN
    RETURN NEW;
  END IF;
  SELECT * INTO p FROM ledger_transfers WHERE transfer_id = NEW.pending_id;
  IF NOT FOUND OR p.phase <> 'pending' OR p.transfer_key <> NEW.transfer_key
     OR p.amount <> NEW.amount OR p.currency <> NEW.currency
     OR NEW.debit_account <> p.credit_account
     OR (NEW.phase = 'void' AND NEW.credit_account <> p.debit_account) THEN
    RAISE EXCEPTION 'ledger transfer %: a % must move its pending transfer''s amount out of the account it went to',
      NEW.transfer_key, NEW.phase USING ERRCODE = 'HS004';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_transfer_check BEFORE INSERT ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_transfer_check();
CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

CREATE TABLE ledger_exceptions (
  exception_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transfer_key text NOT NULL CHECK (transfer_key ~ '^[0-9A-F]{32}:[0-9A-F]{2,64}$'),
  kind text NOT NULL CHECK (kind IN ('conflicting-resolution', 'terms-differ', 'after-refund-case')),
  terminal_id text NOT NULL,
  flow_id text NOT NULL CHECK (length(flow_id) BETWEEN 1 AND 128),
  seq bigint NOT NULL,
  detail jsonb NOT NULL CHECK (jsonb_typeof(detail) = 'object'),
  at timestamptz NOT NULL,
  FOREIGN KEY (terminal_id, seq) REFERENCES clearing_entries (terminal_id, seq),
  -- One per disagreement: a flow's later steps repeat it, they do not add to it.
  UNIQUE (transfer_key, kind, terminal_id, flow_id)
);
CREATE TRIGGER ledger_exceptions_append_only BEFORE UPDATE OR DELETE ON ledger_exceptions
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER ledger_exceptions_no_truncate BEFORE TRUNCATE ON ledger_exceptions
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

-- Each account's balance: what was credited to it less what was debited from it.
CREATE VIEW ledger_balances AS
  SELECT a.account_id, a.kind, a.ref, a.currency,
         COALESCE((SELECT sum(amount) FROM ledger_transfers WHERE credit_account = a.account_id), 0)
       - COALESCE((SELECT sum(amount) FROM ledger_transfers WHERE debit_account = a.account_id), 0)
         AS balance
    FROM ledger_accounts a;
`;

export const migration004Ledger: HostMigration = {
  version: 4,
  name: 'ledger',
  sql: SQL,
};
