// The cardholder verification policy (docs/protocol.md §4.6), anchored on EMV's CVM limit and
// consecutive offline limits: a payment may leave the card without the owner's PIN only within a
// per-payment limit, a cumulative limit and a number of payments since the PIN was last verified.
// The card enforces it; the terminal reads the same figures in GET CARD INFO (tags CA, CB) and uses
// the same rule to know, before sending anything, whether to ask the holder for the PIN.
import { concat, readU32, u32 } from '../bytes.js';

export interface NoPinLimits {
  /** Largest amount of one payment without the PIN (minor units); all ones: no limit. */
  perPayment: number;
  /** Largest total without the PIN since the PIN was last verified; all ones: no limit. */
  cumulative: number;
  /** Largest number of payments without the PIN since the PIN was last verified; FF: no limit. */
  consecutive: number;
}

/** What was paid without the PIN since the last successful VERIFY. */
export interface NoPinCounters {
  total: number;
  count: number;
}

export const NO_LIMIT_AMOUNT = 0xffffffff;
export const NO_LIMIT_COUNT = 0xff;

/** The demo cards' and `card personalize`'s default: 25.00 a payment, 50.00 and three payments in all. */
export const DEFAULT_NO_PIN_LIMITS: NoPinLimits = { perPayment: 2500, cumulative: 5000, consecutive: 3 };
/** Every payment needs the PIN: what a migrated card gets unless its issuer chooses otherwise. */
export const PIN_FOR_EVERY_PAYMENT: NoPinLimits = { perPayment: 0, cumulative: 0, consecutive: 0 };
/** No limit at all: test fixtures whose flows do not ask for the PIN. */
export const NO_PIN_LIMITS_OFF: NoPinLimits = {
  perPayment: NO_LIMIT_AMOUNT,
  cumulative: NO_LIMIT_AMOUNT,
  consecutive: NO_LIMIT_COUNT,
};

export const PIN_STATE = { NONE: 0x00, SET: 0x01, VERIFIED: 0x02, BLOCKED: 0x03 } as const;
export type PinState = (typeof PIN_STATE)[keyof typeof PIN_STATE];

/** How many payments, and up to what amount each, may still leave without the PIN. */
export function noPinAllowance(
  limits: NoPinLimits,
  counters: NoPinCounters,
): { payments: number; amount: number } {
  const payments =
    limits.consecutive === NO_LIMIT_COUNT ? NO_LIMIT_COUNT : Math.max(0, limits.consecutive - counters.count);
  if (payments === 0) return { payments, amount: 0 };
  const cumulativeLeft =
    limits.cumulative === NO_LIMIT_AMOUNT ? NO_LIMIT_AMOUNT : Math.max(0, limits.cumulative - counters.total);
  return { payments, amount: Math.min(limits.perPayment, cumulativeLeft) };
}

/** The rule of §4.6: `a ≤ P and T + a ≤ C and N < K`, each skipped when its limit is all ones. */
export function needsPin(limits: NoPinLimits, counters: NoPinCounters, amount: number): boolean {
  const allowance = noPinAllowance(limits, counters);
  return allowance.payments === 0 || amount > allowance.amount;
}

/** The counters after a payment made without the PIN (saturating). */
export function countNoPinPayment(counters: NoPinCounters, amount: number): NoPinCounters {
  return {
    total: Math.min(NO_LIMIT_AMOUNT, counters.total + amount),
    count: Math.min(NO_LIMIT_COUNT, counters.count + 1),
  };
}

export function validNoPinLimits(l: NoPinLimits): boolean {
  const amount = (n: number) => Number.isInteger(n) && n >= 0 && n <= NO_LIMIT_AMOUNT;
  return (
    amount(l.perPayment) &&
    amount(l.cumulative) &&
    Number.isInteger(l.consecutive) &&
    l.consecutive >= 0 &&
    l.consecutive <= NO_LIMIT_COUNT
  );
}

/** GET CARD INFO tag CA: per payment 4 ‖ cumulative 4 ‖ consecutive 1. */
export function encodeNoPinLimits(l: NoPinLimits): Uint8Array {
  return concat(u32(l.perPayment), u32(l.cumulative), Uint8Array.of(l.consecutive));
}

export function decodeNoPinLimits(v: Uint8Array): NoPinLimits {
  if (v.length !== 9) throw new RangeError('no-PIN limits are 9 bytes');
  return { perPayment: readU32(v, 0), cumulative: readU32(v, 4), consecutive: v[8]! };
}

export interface PinStatus {
  state: PinState;
  triesLeft: number;
  /** What may still be paid without the PIN: every payment up to `amount`, `payments` times. */
  noPinPaymentsLeft: number;
  noPinAmountLeft: number;
}

/** GET CARD INFO tag CB: PIN state 1 ‖ tries left 1 ‖ no-PIN payments left 1 ‖ no-PIN amount left 4. */
export function encodePinStatus(p: PinStatus): Uint8Array {
  return concat(Uint8Array.of(p.state, p.triesLeft, p.noPinPaymentsLeft), u32(p.noPinAmountLeft));
}

export function decodePinStatus(v: Uint8Array): PinStatus {
  if (v.length !== 7 || v[0]! > PIN_STATE.BLOCKED) throw new RangeError('PIN state is 7 bytes, state 00–03');
  return {
    state: v[0] as PinState,
    triesLeft: v[1]!,
    noPinPaymentsLeft: v[2]!,
    noPinAmountLeft: readU32(v, 3),
  };
}

/** The terminal's question: does this card need its PIN verified before paying `amount`? */
export function pinNeededFor(status: PinStatus, amount: number): boolean {
  if (status.state === PIN_STATE.NONE || status.state === PIN_STATE.VERIFIED) return false;
  return status.noPinPaymentsLeft === 0 || amount > status.noPinAmountLeft;
}
