// Protocol version 2 on the card (docs/protocol.md §4.3, §4.5): no pending credit without a genuine
// payer's debit proof, and the payee's release with the payer's refund, so that for each transaction
// at most one of {acknowledgement, release proof} exists. Every refusal is checked to leave the card's
// memory byte for byte as it was. The defects of issue 13 §1 are performed as the issue describes them.
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex, u16, u32 } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { RECORD_STATUS } from '../../protocol/settlement/commands.js';
import { MAC_LABEL, type TransferTerms, transferMac } from '../../protocol/settlement/mac-input.js';
import {
  makeCard,
  makePair,
  NOW,
  openTransfer,
  TEST_CURRENCY,
  TEST_PIN,
  type TestCard,
  transfer,
  transferUpToDebit,
} from '../support/card-fixtures.js';
import { refusedWith } from '../support/refusals.js';

const terms = (counterpart: TestCard, amount: number) => ({
  counterpartId: counterpart.holderId,
  currency: TEST_CURRENCY,
  amount,
  date: NOW,
});

/** The card's persistent memory exactly as stored. */
const image = (card: TestCard) => card.backend.load()!;

/** What a card holding the transfer key computes (a compromised card, or the issuer). */
function macWithKey(card: TestCard, label: (typeof MAC_LABEL)[keyof typeof MAC_LABEL], t: TransferTerms) {
  return transferMac(fromHex(card.state().transferKeys[String(t.transferKeyId)]!), label, t);
}

const macTerms = (
  payer: TestCard,
  payee: TestCard,
  amount: number,
  txRandom: Uint8Array,
  rxRandom?: Uint8Array,
) => ({
  transferKeyId: 1,
  payerId: payer.holderId,
  payeeId: payee.holderId,
  currency: TEST_CURRENCY,
  amount,
  date: NOW,
  txRandom,
  rxRandom: rxRandom ?? new Uint8Array(16),
});

describe('no pending credit without a genuine payer (issue 13 §1)', () => {
  it('refuses the one-APDU strand of a shop card with balance 50.00 and maximum 100.00, and the shop can still be paid', async () => {
    const shop = await makeCard({ balance: 5000, maxBalance: 10_000 });
    const customer = await makeCard({ balance: 10_000 });
    const before = image(shop);
    // 80 32 00 00 2A ‖ any 16-byte payer ID ‖ currency ‖ amount 50.00 ‖ date ‖ any 16-byte Rt ‖ 00
    const strand = concat(
      fromHex('8032 0000 2A'),
      randomBytes(16),
      u16(TEST_CURRENCY),
      u32(5000),
      u32(NOW),
      randomBytes(16),
      fromHex('00'),
    );
    expect(toHex(shop.sim.os.transmit(strand))).toBe('6700'); // version 2 needs the debit proof
    // The same with a debit proof of 16 random bytes: no genuine card made it.
    const forged = concat(
      fromHex('8032 0000 3A'),
      customer.holderId,
      u16(TEST_CURRENCY),
      u32(5000),
      u32(NOW),
      randomBytes(16),
      randomBytes(16),
      fromHex('00'),
    );
    expect(toHex(shop.sim.os.transmit(forged))).toBe('6982');
    expect(image(shop)).toBe(before);
    await customer.client.verifyPin(TEST_PIN); // 50.00 is above the no-PIN limit
    await transfer(customer, shop, 5000);
    expect(shop.state().balance).toBe(10_000);
  });

  it('refuses eight forged credits of 0.01: the log never fills, and nothing is stored', async () => {
    const { a, b } = await makePair();
    const before = image(b);
    for (let i = 0; i < 8; i++) {
      await refusedWith(
        b.client.initiateCredit(terms(a, 1), { txRandom: randomBytes(16), debitProof: randomBytes(16) }),
        0x6982,
      );
    }
    expect(image(b)).toBe(before);
    expect((await b.client.getCardInfo()).pendingCredits).toBe(0);
    await transfer(a, b, 1);
  });

  it('refuses a debit proof for other terms, a corrupted random (a hostile payer), or under another key', async () => {
    const { a, b } = await makePair();
    const debit = await a.client.initiateDebit(terms(b, 100));
    const before = image(b);
    await refusedWith(b.client.initiateCredit(terms(a, 101), debit), 0x6982); // another amount
    await refusedWith(b.client.initiateCredit({ ...terms(a, 100), date: NOW + 1 }, debit), 0x6982);
    const otherPayer = await makeCard();
    await refusedWith(b.client.initiateCredit(terms(otherPayer, 100), debit), 0x6982);
    // A hostile payer card answering INITIATE DEBIT with a random that is not its record's.
    const wrongRandom = debit.txRandom.slice();
    wrongRandom[0]! ^= 1;
    await refusedWith(b.client.initiateCredit(terms(a, 100), { ...debit, txRandom: wrongRandom }), 0x6982);
    // The debit proof is no abort proof, though both leave the reception random zero.
    await refusedWith(
      b.client.initiateCredit(terms(a, 100), { ...debit, debitProof: randomBytes(16) }),
      0x6982,
    );
    const newer = await makeCard({ transferKeyId: 2 });
    await refusedWith(newer.client.initiateCredit(terms(a, 100), debit), 0x6982);
    expect(image(b)).toBe(before);
    await b.client.initiateCredit(terms(a, 100), debit); // the genuine one still goes through
  });

  it('a payee full of pending credits (6A84) is freed by releasing them, and can then be paid', async () => {
    const { a, b } = await makePair({ balance: 100_000 }, { balance: 0 });
    const pending = [];
    for (let i = 0; i < 8; i++) pending.push(await openTransfer(a, b, 1));
    const debit = await a.client.initiateDebit(terms(b, 1));
    const before = image(b);
    await refusedWith(b.client.initiateCredit(terms(a, 1), debit), 0x6a84);
    expect(image(b)).toBe(before);
    for (const p of pending) await b.client.releaseCredit(p.txRandom);
    expect((await b.client.getCardInfo()).pendingCredits).toBe(0);
    await transfer(a, b, 1); // released records are settled: evicted for the new one
    expect(b.state().creditLog).toHaveLength(8);
    expect(b.state().balance).toBe(1);
  });
});

describe('RELEASE CREDIT and REFUND DEBIT', () => {
  it('pays back a debit whose payee gives up its credit, exactly once', async () => {
    const { a, b } = await makePair({ balance: 1000 }, { balance: 500 });
    const t = await transferUpToDebit(a, b, 300);
    expect(a.state().balance).toBe(700);
    const rp = await b.client.releaseCredit(t.txRandom);
    expect(rp).toEqual(macWithKey(b, MAC_LABEL.RELEASE_PROOF, macTerms(a, b, 300, t.txRandom, t.rxRandom)));
    expect(await b.client.releaseCredit(t.txRandom)).toEqual(rp); // repeatable: the same proof
    const released = await b.client.transactionStatus(t.txRandom);
    expect(released).toMatchObject({ role: 'credit', status: RECORD_STATUS.CREDIT_RELEASED, amount: 300 });
    expect(released.proof).toEqual(rp);
    expect(released.rxRandom).toEqual(t.rxRandom);
    // Released: the payer's reception challenge can no longer credit it.
    const payee = image(b);
    await refusedWith(b.client.credit(t.txRandom, t.reception), 0x6985);
    expect(image(b)).toBe(payee);

    await a.client.refundDebit(t.txRandom, t.rxRandom, rp);
    expect(a.state().balance).toBe(1000);
    const refunded = await a.client.transactionStatus(t.txRandom);
    expect(refunded).toMatchObject({ role: 'debit', status: RECORD_STATUS.DEBIT_REFUNDED });
    expect(refunded.proof).toEqual(rp);
    const payer = image(a);
    await a.client.refundDebit(t.txRandom, t.rxRandom, rp); // idempotent: nothing changes
    await refusedWith(a.client.acknowledgeDebit(t.txRandom, randomBytes(16)), 0x6985);
    await refusedWith(a.client.abortDebit(t.txRandom), 0x6985);
    expect(image(a)).toBe(payer);
    expect(a.state().balance + b.state().balance).toBe(1500);
    expect(await a.client.unsettledTransactions()).toEqual([]);
    expect(await b.client.unsettledTransactions()).toEqual([]);
  });

  it('a release before the payer debited aborts the open debit: it can never be debited', async () => {
    const { a, b } = await makePair();
    const t = await openTransfer(a, b, 250);
    const rp = await b.client.releaseCredit(t.txRandom);
    await a.client.refundDebit(t.txRandom, t.rxRandom, rp);
    const record = await a.client.transactionStatus(t.txRandom);
    expect(record.status).toBe(RECORD_STATUS.DEBIT_ABORTED);
    expect(record.proof).toEqual(macWithKey(a, MAC_LABEL.ABORT_PROOF, macTerms(a, b, 250, t.txRandom)));
    const before = image(a);
    await refusedWith(a.client.debit(t.txRandom, t.rxRandom, t.challenge), 0x6985);
    await a.client.refundDebit(t.txRandom, t.rxRandom, rp); // an aborted record: nothing changes
    expect(image(a)).toBe(before);
    expect(a.state().balance).toBe(10_000);
  });

  it('never releases a credited or cancelled credit, and never refunds an acknowledged debit', async () => {
    const { a, b } = await makePair();
    const paid = await transfer(a, b, 100);
    const cancelled = await openTransfer(a, b, 50);
    await b.client.cancelCredit(cancelled.txRandom, await a.client.abortDebit(cancelled.txRandom));
    const [sa, sb] = [image(a), image(b)];
    await refusedWith(b.client.releaseCredit(paid.txRandom), 0x6985);
    await refusedWith(b.client.releaseCredit(cancelled.txRandom), 0x6985);
    await refusedWith(b.client.releaseCredit(randomBytes(16)), 0x6a88);
    // A release proof for the paid transaction, made with the key (as only a compromised card could).
    const forgedRp = macWithKey(
      b,
      MAC_LABEL.RELEASE_PROOF,
      macTerms(a, b, 100, paid.txRandom, paid.rxRandom),
    );
    await refusedWith(a.client.refundDebit(paid.txRandom, paid.rxRandom, forgedRp), 0x6985);
    await refusedWith(a.client.refundDebit(randomBytes(16), paid.rxRandom, forgedRp), 0x6a88);
    expect([image(a), image(b)]).toEqual([sa, sb]);
  });

  it('refuses a release proof that does not verify, and one for other terms, changing nothing', async () => {
    const { a, b } = await makePair();
    const t = await transferUpToDebit(a, b, 300);
    const rp = await b.client.releaseCredit(t.txRandom);
    const before = image(a);
    const bad = rp.slice();
    bad[15]! ^= 1;
    await refusedWith(a.client.refundDebit(t.txRandom, t.rxRandom, bad), 0x6982);
    await refusedWith(a.client.refundDebit(t.txRandom, t.rxRandom, t.reception), 0x6982); // RC is no RP
    await refusedWith(a.client.refundDebit(t.txRandom, randomBytes(16), rp), 0x6982); // another Rr
    const otherAmount = macWithKey(b, MAC_LABEL.RELEASE_PROOF, macTerms(a, b, 301, t.txRandom, t.rxRandom));
    await refusedWith(a.client.refundDebit(t.txRandom, t.rxRandom, otherAmount), 0x6982);
    expect(image(a)).toBe(before);
    await a.client.refundDebit(t.txRandom, t.rxRandom, rp);
    expect(a.state().balance).toBe(10_000);
  });

  it('refuses bad lengths and parameters', async () => {
    const { a } = await makePair();
    const before = image(a);
    await refusedWith(a.client.command(0x40, 0, new Uint8Array(15)), 0x6700);
    await refusedWith(a.client.command(0x40, 1, new Uint8Array(16)), 0x6a86);
    await refusedWith(a.client.command(0x42, 0, new Uint8Array(49)), 0x6700);
    await refusedWith(a.client.command(0x42, 0, new Uint8Array(48), 0x80, 1), 0x6a86);
    expect(image(a)).toBe(before);
  });
});

describe('replays of INITIATE CREDIT (issue 13 §1)', () => {
  it('a replayed random after its record was evicted makes a pending credit that can never be credited, only released', async () => {
    const { a, b } = await makePair({ balance: 100_000 }, { balance: 0, maxBalance: 1_000_000 });
    const third = await makeCard({ balance: 100_000 });
    await third.client.verifyPin(TEST_PIN); // eight payments: beyond the no-PIN count
    const original = await transfer(a, b, 100);
    // Eight more credits from another payer evict the payee's record of the original.
    for (let i = 0; i < 8; i++) await transfer(third, b, 1);
    expect(b.state().creditLog.some((r) => r.txRandom === toHex(original.txRandom))).toBe(false);
    const replay = await b.client.initiateCredit(terms(a, 100), original);
    expect(replay.rxRandom).not.toEqual(original.rxRandom); // a fresh reception random
    // No card can credit it: the payer's record is no longer open, and the old RC binds the old Rr.
    const payer = image(a);
    await refusedWith(a.client.debit(original.txRandom, replay.rxRandom, replay.challenge), 0x6985);
    await refusedWith(b.client.credit(original.txRandom, original.reception), 0x6982);
    expect(image(a)).toBe(payer);
    // It can be released, and its release proof moves nothing: the payer acknowledged this transaction.
    const rp = await b.client.releaseCredit(original.txRandom);
    await refusedWith(a.client.refundDebit(original.txRandom, replay.rxRandom, rp), 0x6985);
    expect(image(a)).toBe(payer);
    expect((await b.client.getCardInfo()).pendingCredits).toBe(0);
    expect(a.state().balance + b.state().balance + third.state().balance).toBe(200_000);
  });

  it('the release of a replay is refused by a payer that debited the original: only the original’s release pays back', async () => {
    const { a, b } = await makePair({ balance: 10_000 }, { balance: 0 });
    const third = await makeCard({ balance: 100_000 });
    await third.client.verifyPin(TEST_PIN); // eight payments: beyond the no-PIN count
    const t = await transferUpToDebit(a, b, 700);
    const rp = await b.client.releaseCredit(t.txRandom); // kept by the terminal, not yet delivered
    for (let i = 0; i < 8; i++) await transfer(third, b, 1); // the released record is evicted
    const replay = await b.client.initiateCredit(terms(a, 700), t.debit);
    const rpReplay = await b.client.releaseCredit(t.txRandom);
    const before = image(a);
    await refusedWith(a.client.refundDebit(t.txRandom, replay.rxRandom, rpReplay), 0x6985);
    expect(image(a)).toBe(before);
    await a.client.refundDebit(t.txRandom, t.rxRandom, rp);
    expect(a.state().balance).toBe(10_000);
  });

  it('a card that holds the key (compromised) can make a pending credit with no payer record: it is released, and nothing moves', async () => {
    const { a, b } = await makePair();
    const txRandom = randomBytes(16);
    const debitProof = macWithKey(a, MAC_LABEL.DEBIT_PROOF, macTerms(a, b, 900, txRandom));
    const credit = await b.client.initiateCredit(terms(a, 900), { txRandom, debitProof });
    await refusedWith(a.client.debit(txRandom, credit.rxRandom, credit.challenge), 0x6985);
    const rp = await b.client.releaseCredit(txRandom);
    await refusedWith(a.client.refundDebit(txRandom, credit.rxRandom, rp), 0x6a88);
    expect([a.state().balance, b.state().balance]).toEqual([10_000, 10_000]);
    expect(await b.client.unsettledTransactions()).toEqual([]);
  });
});

describe('headroom (§4.4): every refund fits under the maximum balance', () => {
  it('reserves room for a debit that may come back, so a credit cannot take it', async () => {
    const a = await makeCard({ balance: 10_000, maxBalance: 10_000 });
    const b = await makeCard({ balance: 0 });
    const c = await makeCard({ balance: 10_000 });
    await a.client.verifyPin(TEST_PIN); // 30.00 is above the no-PIN limit
    const t = await transferUpToDebit(a, b, 3000); // a: balance 7000, 3000 may come back
    const debit = await c.client.initiateDebit(terms(a, 1));
    const before = image(a);
    await refusedWith(a.client.initiateCredit(terms(c, 1), debit), 0x9402);
    expect(image(a)).toBe(before);
    await a.client.refundDebit(t.txRandom, t.rxRandom, await b.client.releaseCredit(t.txRandom));
    expect(a.state().balance).toBe(10_000);
  });
});
