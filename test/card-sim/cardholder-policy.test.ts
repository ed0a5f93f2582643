// The cardholder verification policy on the card (docs/protocol.md §4.6; issue 13 §2): payments
// above the no-PIN limits need the owner's PIN, refused with 9403 (6983 when the PIN is blocked)
// before any balance comparison, so without the PIN the balance can be probed at most up to the
// no-PIN allowance; the counters change only when value leaves, and a verified PIN resets them.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NO_PIN_LIMITS,
  NO_PIN_LIMITS_OFF,
  type NoPinLimits,
  PIN_STATE,
} from '../../protocol/settlement/cardholder-policy.js';
import { SESSION_MODE } from '../../protocol/settlement/session-keys.js';
import { makeCard, NOW, TEST_CURRENCY, TEST_PIN, type TestCard, transfer } from '../support/card-fixtures.js';
import { issue, session, ticket } from '../support/content-fixtures.js';
import { refusedWith } from '../support/refusals.js';

const DEMO: NoPinLimits = DEFAULT_NO_PIN_LIMITS; // 25.00 a payment, 50.00 and three payments in all
const image = (card: TestCard) => card.backend.load()!;
const terms = (counterpart: TestCard, amount: number) => ({
  counterpartId: counterpart.holderId,
  currency: TEST_CURRENCY,
  amount,
  date: NOW,
});

async function pair(balance: number, limits: NoPinLimits = DEMO) {
  const payer = await makeCard({ balance, maxBalance: 1_000_000, noPinLimits: limits });
  const payee = await makeCard({ balance: 0, maxBalance: 1_000_000 });
  return { payer, payee };
}

/** Blocks the payer's PIN with wrong tries (the fixture's limit is 3). */
async function blockPin(card: TestCard) {
  for (let i = 0; i < 3; i++) await card.client.verifyPin('0000').catch(() => undefined);
  expect((await card.client.getCardInfo()).pin.state).toBe(PIN_STATE.BLOCKED);
}

describe('cardholder verification policy (§4.6)', () => {
  it('pays within the no-PIN limits, counts them, and asks for the PIN beyond each limit', async () => {
    const { payer, payee } = await pair(100_000);
    const info = await payer.client.getCardInfo();
    expect(info.noPinLimits).toEqual(DEMO);
    expect(info.pin).toEqual({
      state: PIN_STATE.SET,
      triesLeft: 3,
      noPinPaymentsLeft: 3,
      noPinAmountLeft: 2500,
    });

    // Per payment: 25.00 goes, 25.01 needs the PIN.
    const before = image(payer);
    await refusedWith(payer.client.initiateDebit(terms(payee, 2501)), 0x9403);
    expect(image(payer)).toBe(before);
    await transfer(payer, payee, 2500);
    // Cumulative: 50.00 in all; 25.00 already paid, so 25.01 more needs the PIN, 25.00 goes.
    expect((await payer.client.getCardInfo()).pin).toMatchObject({
      noPinPaymentsLeft: 2,
      noPinAmountLeft: 2500,
    });
    await transfer(payer, payee, 2000);
    expect((await payer.client.getCardInfo()).pin).toMatchObject({
      noPinPaymentsLeft: 1,
      noPinAmountLeft: 500,
    });
    await refusedWith(payer.client.initiateDebit(terms(payee, 501)), 0x9403);
    await transfer(payer, payee, 500);
    // Consecutive: three payments; the fourth, however small, needs the PIN.
    expect((await payer.client.getCardInfo()).pin).toMatchObject({
      noPinPaymentsLeft: 0,
      noPinAmountLeft: 0,
    });
    await refusedWith(payer.client.initiateDebit(terms(payee, 1)), 0x9403);
    expect(payer.state().cardholderPolicy).toMatchObject({ noPinTotal: 5000, noPinCount: 3 });

    // The PIN: every payment goes, the counters start again, and a verified payment is not counted.
    await payer.client.verifyPin(TEST_PIN);
    expect(payer.state().cardholderPolicy).toMatchObject({ noPinTotal: 0, noPinCount: 0 });
    expect((await payer.client.getCardInfo()).pin.state).toBe(PIN_STATE.VERIFIED);
    await transfer(payer, payee, 60_000);
    expect(payer.state().cardholderPolicy).toMatchObject({ noPinTotal: 0, noPinCount: 0 });
    expect(payee.state().balance).toBe(65_000);
    // A reset ends owner mode: the allowance is back, not the owner level.
    await payer.reinsert();
    await refusedWith(payer.client.initiateDebit(terms(payee, 2501)), 0x9403);
    await transfer(payer, payee, 100);
    expect(payer.state().cardholderPolicy).toMatchObject({ noPinTotal: 100, noPinCount: 1 });
  });

  it('asks for the PIN before comparing the balance: 32 probes read it only up to the no-PIN allowance', async () => {
    // Binary search on INITIATE DEBIT (9000 vs 9401), as issue 13 §2 did on version 1.
    async function probe(card: TestCard, payee: TestCard): Promise<string[]> {
      const answers: string[] = [];
      let lo = 0;
      let hi = 0xffffffff;
      for (let i = 0; i < 32; i++) {
        const mid = Math.floor((lo + hi) / 2) + 1;
        const sw = await card.client.initiateDebit(terms(payee, mid)).then(
          () => '9000',
          (e: { details: { sw: number } }) => e.details.sw.toString(16),
        );
        answers.push(sw);
        if (sw === '9000') lo = mid;
        else hi = mid - 1;
      }
      return answers;
    }
    const rich = await pair(77_777);
    const richer = await pair(1_000_000);
    const poor = await pair(1234);
    const [a, b, c] = [
      await probe(rich.payer, rich.payee),
      await probe(richer.payer, richer.payee),
      await probe(poor.payer, poor.payee),
    ];
    // Above the allowance every answer is 9403: two very different balances answer the same.
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set(['9403', '9000']));
    // Below it the balance is learnt exactly: the bound the document states.
    expect(c).toContain('9401');
    for (const card of [rich.payer, richer.payer, poor.payer]) {
      expect(card.state().cardholderPolicy).toMatchObject({ noPinTotal: 0, noPinCount: 0 }); // probes never count
      expect(card.state().balance).toBe(
        card === poor.payer ? 1234 : card === rich.payer ? 77_777 : 1_000_000,
      );
    }
    // Nothing at all once the allowance is used up.
    const spent = await pair(77_777, { ...DEMO, consecutive: 0 });
    expect(new Set(await probe(spent.payer, spent.payee))).toEqual(new Set(['9403']));
  });

  it('a blocked PIN blocks every payment that needs it (6983), and only the no-PIN allowance stays', async () => {
    const { payer, payee } = await pair(10_000);
    await blockPin(payer);
    const before = image(payer);
    await refusedWith(payer.client.initiateDebit(terms(payee, 2501)), 0x6983);
    await refusedWith(payer.client.initiateDebit(terms(payee, 999_999)), 0x6983); // before the balance
    expect(image(payer)).toBe(before);
    await transfer(payer, payee, 100);
    expect(payee.state().balance).toBe(100);
    // The issuer's unblock code and a verified new PIN restore payments above the allowance.
    const puk = payer.state().puk!.puk;
    await payer.client.resetRetryCounter(puk, '8642');
    await refusedWith(payer.client.initiateDebit(terms(payee, 3000)), 0x9403);
    await payer.client.verifyPin('8642');
    await transfer(payer, payee, 3000);
  });

  it('checks again at DEBIT: the value leaves only in a session that holds the right level', async () => {
    const { payer, payee } = await pair(10_000);
    await payer.client.verifyPin(TEST_PIN);
    const debit = await payer.client.initiateDebit(terms(payee, 4000));
    const { rxRandom, challenge } = await payee.client.initiateCredit(terms(payer, 4000), debit);
    await payer.reinsert(); // owner mode gone; the open debit survives
    const before = image(payer);
    await refusedWith(payer.client.debit(debit.txRandom, rxRandom, challenge), 0x9403);
    expect(image(payer)).toBe(before); // not aborted: the PIN may still be given
    await payer.client.verifyPin(TEST_PIN);
    const rc = await payer.client.debit(debit.txRandom, rxRandom, challenge);
    await payee.client.credit(debit.txRandom, rc);
    expect(payee.state().balance).toBe(4000);
  });

  it('counts a payment at DEBIT only, not at INITIATE DEBIT nor for an aborted one', async () => {
    const { payer, payee } = await pair(10_000);
    const debit = await payer.client.initiateDebit(terms(payee, 2000));
    await payer.client.abortDebit(debit.txRandom);
    expect(payer.state().cardholderPolicy).toMatchObject({ noPinTotal: 0, noPinCount: 0 });
    await transfer(payer, payee, 2000);
    expect(payer.state().cardholderPolicy).toMatchObject({ noPinTotal: 2000, noPinCount: 1 });
  });

  it('value paid in an exchange always needs the owner level, refused before the balance', async () => {
    const customer = await makeCard({ balance: 5000, noPinLimits: NO_PIN_LIMITS_OFF });
    const shop = await makeCard({ balance: 0, issuerCard: true });
    await issue(shop, ticket());
    const ids = await session(customer, shop, { a: SESSION_MODE.ISSUER });
    const before = image(customer);
    await refusedWith(customer.client.contentSend(1, 1, ids.a, 100), 0x9403);
    await refusedWith(customer.client.contentSend(1, 1, ids.a, 999_999), 0x9403);
    expect(image(customer)).toBe(before);
  });

  it('a card without PIN has no policy: a bearer purse', async () => {
    const payer = await makeCard({ pin: undefined, balance: 100_000 });
    const payee = await makeCard({ balance: 0 });
    const info = await payer.client.getCardInfo();
    expect(info.noPinLimits).toBeUndefined();
    expect(info.pin).toEqual({
      state: PIN_STATE.NONE,
      triesLeft: 0,
      noPinPaymentsLeft: 255,
      noPinAmountLeft: 0xffffffff,
    });
    await transfer(payer, payee, 50_000);
    expect(payer.state().cardholderPolicy).toBeUndefined();
  });
});
