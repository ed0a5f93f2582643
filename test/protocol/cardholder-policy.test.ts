// The rule of docs/protocol.md §4.6 as card and terminal share it: a payment may go without the PIN iff
// a ≤ P and T + a ≤ C and N < K (all-ones limits: none), the allowance GET CARD INFO reports, and
// the terminal's question "does this payment need the PIN?" answered from that allowance alone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cardRefusal } from '../../protocol/card-refusal.js';
import { TerminalError } from '../../protocol/errors.js';
import {
  countNoPinPayment,
  decodeNoPinLimits,
  decodePinStatus,
  encodeNoPinLimits,
  encodePinStatus,
  NO_LIMIT_AMOUNT,
  NO_LIMIT_COUNT,
  type NoPinLimits,
  needsPin,
  noPinAllowance,
  PIN_STATE,
  pinNeededFor,
} from '../../protocol/settlement/cardholder-policy.js';
import { INS } from '../../protocol/settlement/commands.js';

const amount = fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.constant(NO_LIMIT_AMOUNT));
const limitsArb = fc.record({
  perPayment: amount,
  cumulative: amount,
  consecutive: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(NO_LIMIT_COUNT)),
});
const countersArb = fc.record({
  total: fc.integer({ min: 0, max: 30_000 }),
  count: fc.integer({ min: 0, max: 8 }),
});

/** The rule exactly as the document writes it. */
function byTheDocument(l: NoPinLimits, c: { total: number; count: number }, a: number): boolean {
  const perPayment = l.perPayment === NO_LIMIT_AMOUNT || a <= l.perPayment;
  const cumulative = l.cumulative === NO_LIMIT_AMOUNT || c.total + a <= l.cumulative;
  const consecutive = l.consecutive === NO_LIMIT_COUNT || c.count < l.consecutive;
  return !(perPayment && cumulative && consecutive);
}

describe('cardholder policy rule', () => {
  it('needsPin is the document’s rule, and the terminal reaches the same answer from the reported allowance', () => {
    fc.assert(
      fc.property(limitsArb, countersArb, fc.integer({ min: 1, max: 40_000 }), (l, c, a) => {
        const need = needsPin(l, c, a);
        expect(need).toBe(byTheDocument(l, c, a));
        const allowance = noPinAllowance(l, c);
        const status = {
          state: PIN_STATE.SET,
          triesLeft: 3,
          noPinPaymentsLeft: allowance.payments,
          noPinAmountLeft: allowance.amount,
        };
        expect(pinNeededFor(status, a)).toBe(need);
        expect(pinNeededFor({ ...status, state: PIN_STATE.VERIFIED }, a)).toBe(false);
        expect(pinNeededFor({ ...status, state: PIN_STATE.NONE }, a)).toBe(false);
      }),
    );
  });

  it('counts a payment without the PIN, saturating', () => {
    expect(countNoPinPayment({ total: 10, count: 1 }, 5)).toEqual({ total: 15, count: 2 });
    expect(countNoPinPayment({ total: NO_LIMIT_AMOUNT - 1, count: 255 }, 5)).toEqual({
      total: NO_LIMIT_AMOUNT,
      count: 255,
    });
  });

  it('encodes the GET CARD INFO tags CA and CB, and refuses malformed ones', () => {
    fc.assert(
      fc.property(limitsArb, (l) => {
        expect(decodeNoPinLimits(encodeNoPinLimits(l))).toEqual(l);
      }),
    );
    const status = { state: PIN_STATE.BLOCKED, triesLeft: 0, noPinPaymentsLeft: 2, noPinAmountLeft: 1234 };
    expect(encodePinStatus(status)).toHaveLength(7);
    expect(decodePinStatus(encodePinStatus(status))).toEqual(status);
    expect(() => decodeNoPinLimits(new Uint8Array(8))).toThrow(RangeError);
    expect(() => decodePinStatus(Uint8Array.of(4, 0, 0, 0, 0, 0, 0))).toThrow(RangeError);
  });
});

describe('a payment refused for want of the PIN, as the operator sees it (cardRefusal)', () => {
  const refusal = (sw: number, ins: number) =>
    new TerminalError('E_CARD_STATUS', `card refused INS ${ins.toString(16)}`, { sw, ins });

  it('9403 is E_PIN_REQUIRED; 6983 on a payment command is E_PIN_BLOCKED, elsewhere it stays a card status', () => {
    for (const ins of [INS.INITIATE_DEBIT, INS.DEBIT, INS.CONTENT_SEND]) {
      expect(cardRefusal(refusal(0x9403, ins), { slot: 'payer' })).toMatchObject({
        code: 'E_PIN_REQUIRED',
        details: { sw: 0x9403, slot: 'payer' },
      });
      expect(cardRefusal(refusal(0x6983, ins), { slot: 'payer' }).code).toBe('E_PIN_BLOCKED');
    }
    expect(cardRefusal(refusal(0x6983, INS.GET_BALANCE)).code).toBe('E_CARD_STATUS');
  });
});
