import type { HostMigration } from './types.js';

// Clearing, fourth step: the issuer's value creation is a ledger event, so a card's ledger balance is
// its whole balance (docs/issuer-host.md, "Issuance").
//
// ledger_accounts    gains the kind 'issuer' (ref 'e-money'), one per currency: the issuer's float,
//                    the account issued value comes from. Its balance is minus the e-money
//                    outstanding in that currency; the ledger still sums to zero.
// ledger_issuances   a card's issuance: its holder ID, currency and amount, and, when the card's
//                    certificate was shown, its serial and notAfter; who recorded it, when. The row is
//                    itself a movement: one amount from the issuer account of its currency to the
//                    card's account of that currency (trigger HS004), so it cannot unbalance the
//                    ledger. A card is issued once (unique holder ID; one certificate, one card).
//                    Append-only.
// ledger_balances    (view) counts issuances beside transfers.
const HEX_ID = `'^[0-9A-F]{32}$'`;
const SHOP = `'^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'`;
const SQL = `
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_check;
ALTER TABLE ledger_accounts
  ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('card', 'in-flight', 'issuer')),
  ADD CONSTRAINT ledger_accounts_ref_check CHECK (CASE kind
    WHEN 'card' THEN ref ~ ${HEX_ID}
    WHEN 'issuer' THEN ref = 'e-money'
    ELSE ref ~ ${SHOP} END);

CREATE TABLE ledger_issuances (
  issuance_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  holder_id text NOT NULL UNIQUE CHECK (holder_id ~ ${HEX_ID}),
  currency smallint NOT NULL CHECK (currency BETWEEN 1 AND 999),
  amount bigint NOT NULL CHECK (amount > 0),
  certificate_serial numeric(50, 0) UNIQUE CHECK (certificate_serial >= 0),
  not_after timestamptz,
  issuer_account bigint NOT NULL REFERENCES ledger_accounts (account_id),
  card_account bigint NOT NULL REFERENCES ledger_accounts (account_id),
  recorded_by text NOT NULL CHECK (length(recorded_by) BETWEEN 1 AND 200),
  recorded_at timestamptz NOT NULL,
  CHECK (issuer_account <> card_account)
);
CREATE INDEX ledger_issuances_recorded_at ON ledger_issuances (recorded_at);
CREATE INDEX ledger_issuances_issuer_account ON ledger_issuances (issuer_account);
CREATE INDEX ledger_issuances_card_account ON ledger_issuances (card_account);

CREATE FUNCTION ledger_issuance_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE account_id = NEW.issuer_account
                    AND kind = 'issuer' AND currency = NEW.currency)
     OR NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE account_id = NEW.card_account
                    AND kind = 'card' AND ref = NEW.holder_id AND currency = NEW.currency) THEN
    RAISE EXCEPTION 'issuance of card %: value moves from the issuer account of its currency to that card''s account of it',
      NEW.holder_id USING ERRCODE = 'HS004';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_issuance_check BEFORE INSERT ON ledger_issuances
  FOR EACH ROW EXECUTE FUNCTION ledger_issuance_check();
CREATE TRIGGER ledger_issuances_append_only BEFORE UPDATE OR DELETE ON ledger_issuances
  FOR EACH ROW EXECUTE FUNCTION host_refuse_change();
CREATE TRIGGER ledger_issuances_no_truncate BEFORE TRUNCATE ON ledger_issuances
  FOR EACH STATEMENT EXECUTE FUNCTION host_refuse_change();

-- Each account's balance: credited less debited, by transfers and by issuances.
CREATE OR REPLACE VIEW ledger_balances AS
  SELECT a.account_id, a.kind, a.ref, a.currency,
         COALESCE((SELECT sum(amount) FROM ledger_transfers WHERE credit_account = a.account_id), 0)
       - COALESCE((SELECT sum(amount) FROM ledger_transfers WHERE debit_account = a.account_id), 0)
       + COALESCE((SELECT sum(amount) FROM ledger_issuances WHERE card_account = a.account_id), 0)
       - COALESCE((SELECT sum(amount) FROM ledger_issuances WHERE issuer_account = a.account_id), 0)
         AS balance
    FROM ledger_accounts a;
`;

export const migration006Issuance: HostMigration = {
  version: 6,
  name: 'issuance',
  sql: SQL,
};
