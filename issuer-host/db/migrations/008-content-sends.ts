import type { HostMigration } from './types.js';

// Clearing, sixth step: e-money sent as a one-way content transfer (a send) is booked too
// (docs/content-clearing.md), so a card's ledger balance stays its own balance.
//
// ledger_transfers   `kind` may also be 'content-send': the value a card sent in a content
//                    transmission, named like an exchange leg by its sender's holder ID and the
//                    transfer ID (both cards' signatures bind it), pending from the sender card into
//                    the shop's value in flight, then posted to the receiver card or voided back.
//                    Only the CHECK changes: a resolution is still of its pending's kind (the trigger
//                    of migration 007), the one-pending-per-key index and append-only rules unchanged.
const SQL = `
ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_transfers_kind_check;
ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_transfers_kind_check
  CHECK (kind IN ('value-transfer', 'exchange-leg', 'content-send'));
`;

export const migration008ContentSends: HostMigration = {
  version: 8,
  name: 'content-sends',
  sql: SQL,
};
