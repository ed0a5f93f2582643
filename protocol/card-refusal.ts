// The one mapping from a card's refusal (a status word, E_CARD_STATUS with `sw` and `ins` in its
// details) to the error code an operator can act on (docs/error-codes.md): a wrong or blocked PIN,
// a payment that needs the PIN, a purse too poor or too full, a level of access the card does not grant, an item it does not
// hold. Both of the terminal's engines, and anything else that shows a card's answer to a person,
// go through cardRefusal(); what a status word means per command is in docs/protocol.md.
import { TerminalError } from './errors.js';
import { INS } from './settlement/commands.js';
import { SW, verificationTriesLeft } from './status-words.js';

export interface RefusalContext {
  /** The slot of the card that refused ('payer', 'payee'): named in the message and the details. */
  slot?: string;
  /** The other card of a refused mutual authentication ('payer', 'payee'). */
  peer?: string;
  /** The refusing card required issuer mode of its peer (AUTH BEGIN mode 'issuer'). */
  peerMustBeIssuer?: boolean;
  /**
   * The refusal answered VERIFY or RESET RETRY COUNTER: what the card checked, 'PIN' or 'unblock
   * code' (INS 20 is also BEGIN KEY UPDATE under another class, so the caller says which it sent).
   */
  secret?: 'PIN' | 'unblock code';
}

const AUTHENTICATION: ReadonlySet<number> = new Set([INS.AUTH_BEGIN, INS.AUTH_PEER, INS.AUTH_CONFIRM]);
/** The commands by which value leaves a card: their 6983 is a payment refused for a blocked PIN. */
const PAYMENTS: ReadonlySet<number> = new Set([INS.INITIATE_DEBIT, INS.DEBIT, INS.CONTENT_SEND]);
/** The seed 000 contents commands: their 6982 is the access level, their 6A88 an unknown item. */
const CONTENTS: ReadonlySet<number> = new Set([
  INS.LIST_CONTENTS,
  INS.READ_CONTENT,
  INS.UPDATE_CONTENT,
  INS.CREATE_CONTENT,
  INS.CONTENT_SEND,
  INS.CONTENT_RECEIVE,
  INS.CONTENT_COMMIT,
  INS.CONTENT_ACCEPT,
  INS.CONTENT_ABORT,
  INS.CONTENT_CANCEL,
  INS.CONTENT_ACKNOWLEDGE,
  INS.CONTENT_STATUS,
  INS.CONTENT_RELEASE,
  INS.CONTENT_RETURN,
]);

/**
 * The operator's error for a card's refusal. Anything but E_CARD_STATUS is returned as it is; a
 * status word without a more precise meaning stays E_CARD_STATUS, naming the card when `slot` is given.
 */
export function cardRefusal(error: TerminalError, ctx: RefusalContext = {}): TerminalError {
  if (error.code !== 'E_CARD_STATUS') return error;
  const sw = Number(error.details.sw);
  const ins = Number(error.details.ins);
  const { slot, peer } = ctx;
  const card = slot ? `the ${slot} card` : 'the card';
  const details = slot ? { ...error.details, slot } : { ...error.details };
  const refused = (code: TerminalError['code'], message: string, extra: Record<string, unknown> = {}) =>
    new TerminalError(code, message, { ...details, ...extra });

  if (ctx.secret) {
    const triesLeft = verificationTriesLeft(sw);
    if (triesLeft !== undefined)
      return refused('E_PIN_WRONG', `wrong ${ctx.secret} on ${card}: ${triesLeft} tries left`, { triesLeft });
    if (sw === SW.AUTH_METHOD_BLOCKED)
      return refused('E_PIN_BLOCKED', `the ${ctx.secret} of ${card} is blocked`);
    if (sw === SW.REFERENCED_DATA_NOT_FOUND) return refused('E_INPUT_INVALID', `${card} has no owner PIN`);
  }
  // A payment that needs the cardholder's PIN (protocol §4.6): asked before any balance comparison.
  if (sw === SW.CARDHOLDER_VERIFICATION_REQUIRED)
    return refused(
      'E_PIN_REQUIRED',
      `${card} needs its holder’s PIN for this payment: verify the PIN and pay again`,
    );
  if (sw === SW.AUTH_METHOD_BLOCKED && PAYMENTS.has(ins))
    return refused('E_PIN_BLOCKED', `${card} needs its PIN for this payment, and the PIN is blocked`);
  if (sw === SW.INSUFFICIENT_FUNDS)
    return refused('E_INSUFFICIENT_FUNDS', `${card} does not hold enough for this amount`);
  if (sw === SW.MAXIMUM_BALANCE_EXCEEDED)
    return refused('E_BALANCE_LIMIT', `${card} would exceed its maximum balance`);
  if (AUTHENTICATION.has(ins)) {
    const other = peer ? `the ${peer} card` : 'the other card';
    if (sw === SW.SECURITY_STATUS_NOT_SATISFIED && ins === INS.AUTH_PEER && ctx.peerMustBeIssuer) {
      return refused('E_ACCESS_DENIED', `${card} requires issuer mode, and ${other} is not an issuer card`);
    }
    if (sw === SW.SECURITY_STATUS_NOT_SATISFIED) {
      return refused(
        'E_CARD_STATUS',
        `${card} does not accept ${other}’s certificate or confirmation: ${error.message}`,
      );
    }
    return refused('E_CARD_STATUS', `${card} refused the authentication: ${error.message}`);
  }
  if (CONTENTS.has(ins) && sw === SW.SECURITY_STATUS_NOT_SATISFIED) {
    return refused(
      'E_ACCESS_DENIED',
      `${card} refuses this at the current access level (log in as owner, or authenticate the issuer): ${error.message}`,
    );
  }
  if (CONTENTS.has(ins) && sw === SW.REFERENCED_DATA_NOT_FOUND)
    return refused('E_INPUT_INVALID', `${card} holds no such item`);
  return slot ? refused('E_CARD_STATUS', `${card}: ${error.message}`) : error;
}
