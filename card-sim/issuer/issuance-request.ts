// A card's issuance as the issuer's staff tools send it to the issuer host (protocol/host-link/
// issuance-wire.ts): the card's certificate, currency and the value issued on it. Only public data
// leaves the card file: the host never sees a key, a PIN or the card's memory.
import type { IssuanceRequest } from '../../protocol/host-link/issuance-wire.js';
import type { SettlementState } from '../applets/settlement/state.js';

export function issuanceRequestOf(card: SettlementState, amount: number): IssuanceRequest {
  return { certificate: card.certificate, currency: card.currency, amount };
}
