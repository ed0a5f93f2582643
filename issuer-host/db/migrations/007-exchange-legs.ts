import type { HostMigration } from './types.js';

// Clearing, fifth step: the e-money leg of a content exchange is booked too (docs/issuer-host.md,
// "Exchanges at clearing", now docs/content-clearing.md), so a card's ledger balance is its own balance.
//
// ledger_transfers   gains `kind`: 'value-transfer' (every row before, the default) or
//                    'exchange-leg', the value half of a content exchange, named by its sender's
//                    holder ID and the half's transfer ID (both cards' signatures bind it), pending
//                    from the sender card into the shop's value in flight, then posted to the
//                    receiver card or voided back. A resolution is of its pending's kind (the
//                    trigger, HS004), so a value transfer and an exchange leg can never resolve each
//                    other; the one-pending-per-key index is unchanged. Append-only as before.
const SQL = `
ALTER TABLE ledger_transfers ADD COLUMN kind text NOT NULL DEFAULT 'value-transfer'
  CHECK (kind IN ('value-transfer', 'exchange-leg'));
CREATE INDEX ledger_transfers_kind_entry_at ON ledger_transfers (kind, entry_at);

CREATE OR REPLACE FUNCTION ledger_transfer_check() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF NOT FOUND OR p.phase <> 'pending' OR p.transfer_key <> NEW.transfer_key OR p.kind <> NEW.kind
     OR p.amount <> NEW.amount OR p.currency <> NEW.currency
     OR NEW.debit_account <> p.credit_account
     OR (NEW.phase = 'void' AND NEW.credit_account <> p.debit_account) THEN
    RAISE EXCEPTION 'ledger transfer %: a % must move its pending transfer''s amount out of the account it went to',
      NEW.transfer_key, NEW.phase USING ERRCODE = 'HS004';
  END IF;
  RETURN NEW;
END $$;
`;

export const migration007ExchangeLegs: HostMigration = {
  version: 7,
  name: 'exchange-legs',
  sql: SQL,
};
