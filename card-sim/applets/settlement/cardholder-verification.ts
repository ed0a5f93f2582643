// The card's side of the cardholder verification policy (docs/protocol.md §4.6): which payments may
// leave without the owner's PIN, the refusal for the others (9403, or 6983 with a blocked PIN) before
// any balance is compared, the no-PIN counters, and the PIN state GET CARD INFO reports.
import {
  countNoPinPayment,
  NO_LIMIT_AMOUNT,
  NO_LIMIT_COUNT,
  type NoPinLimits,
  needsPin,
  noPinAllowance,
  PIN_STATE,
  type PinStatus,
} from '../../../protocol/settlement/cardholder-policy.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import type { SettlementContext } from './applet-context.js';
import type { CardholderPolicy, SettlementState } from './state.js';

export function limitsOf(p: CardholderPolicy): NoPinLimits {
  return { perPayment: p.perPayment, cumulative: p.cumulative, consecutive: p.consecutive };
}

function refuseWithoutPin(s: SettlementState): never {
  if (s.owner?.tries === 0)
    throw new CardStatusError(SW.AUTH_METHOD_BLOCKED, 'this payment needs the PIN, which is blocked');
  throw new CardStatusError(SW.CARDHOLDER_VERIFICATION_REQUIRED, 'this payment needs the owner’s PIN');
}

/**
 * A value-transfer payment of `amount`: allowed with the owner level, or within the no-PIN allowance
 * (then `withoutPin`, and DEBIT counts it); otherwise refused. A card without PIN has no policy.
 */
export function authorisePayment(
  ctx: SettlementContext,
  s: SettlementState,
  amount: number,
): { withoutPin: boolean } {
  const policy = s.cardholderPolicy;
  if (!policy || ctx.transient.ownerVerified) return { withoutPin: false };
  const counters = { total: policy.noPinTotal, count: policy.noPinCount };
  if (needsPin(limitsOf(policy), counters, amount)) refuseWithoutPin(s);
  return { withoutPin: true };
}

/** Value paid in an exchange always needs the owner level (§6). */
export function requireOwnerToPay(ctx: SettlementContext, s: SettlementState): void {
  if (!ctx.transient.ownerVerified) refuseWithoutPin(s);
}

/** Counts a payment made without the PIN, in the DEBIT's own atomic write. */
export function countPaymentWithoutPin(draft: SettlementState, amount: number): void {
  const policy = draft.cardholderPolicy;
  if (!policy) return;
  const next = countNoPinPayment({ total: policy.noPinTotal, count: policy.noPinCount }, amount);
  policy.noPinTotal = next.total;
  policy.noPinCount = next.count;
}

/** A successful VERIFY starts the count again, in the same write as its retry counter. */
export function resetNoPinCounters(draft: SettlementState): void {
  if (!draft.cardholderPolicy) return;
  draft.cardholderPolicy.noPinTotal = 0;
  draft.cardholderPolicy.noPinCount = 0;
}

/** GET CARD INFO tag CB. */
export function pinStatusOf(ctx: SettlementContext, s: SettlementState): PinStatus {
  if (!s.owner || !s.cardholderPolicy) {
    return {
      state: PIN_STATE.NONE,
      triesLeft: 0,
      noPinPaymentsLeft: NO_LIMIT_COUNT,
      noPinAmountLeft: NO_LIMIT_AMOUNT,
    };
  }
  const policy = s.cardholderPolicy;
  const allowance = noPinAllowance(limitsOf(policy), { total: policy.noPinTotal, count: policy.noPinCount });
  let state: PinStatus['state'] = PIN_STATE.SET;
  if (s.owner.tries === 0) state = PIN_STATE.BLOCKED;
  else if (ctx.transient.ownerVerified) state = PIN_STATE.VERIFIED;
  return {
    state,
    triesLeft: s.owner.tries,
    noPinPaymentsLeft: allowance.payments,
    noPinAmountLeft: allowance.amount,
  };
}
