// Spending under the cardholder's PIN (docs/protocol.md §4.6): the card enforces its policy; the
// terminal reads the same figures in GET CARD INFO (the PIN state and the no-PIN allowance, tag CB)
// and asks for the PIN before it sends anything, so a payment that needs it changes nothing until
// the holder has typed it (E_PIN_REQUIRED, naming the slot), and one with a blocked PIN is refused
// at once (E_PIN_BLOCKED). No APDU is added: the card info is read for every payment anyway.
import { TerminalError } from '../../../protocol/errors.js';
import { PIN_STATE, pinNeededFor } from '../../../protocol/settlement/cardholder-policy.js';
import type { CardSession } from './card-session.js';

/** Throws E_PIN_REQUIRED or E_PIN_BLOCKED when the card in `payer` would refuse `amount` without its PIN. */
export function requirePinFor(payer: CardSession, amount: number): void {
  const pin = payer.info.pin;
  if (!pinNeededFor(pin, amount)) return;
  const details = {
    slot: payer.slot,
    amount,
    noPinPaymentsLeft: pin.noPinPaymentsLeft,
    noPinAmountLeft: pin.noPinAmountLeft,
  };
  if (pin.state === PIN_STATE.BLOCKED) {
    throw new TerminalError(
      'E_PIN_BLOCKED',
      `the ${payer.slot} card needs its PIN for this payment, and the PIN is blocked: the issuer can unblock it`,
      details,
    );
  }
  throw new TerminalError(
    'E_PIN_REQUIRED',
    `the ${payer.slot} card needs its holder’s PIN for this payment: log in with the PIN, then pay again`,
    details,
  );
}
