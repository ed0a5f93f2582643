// Seed 002 Fig. 4 on the card: the happy path, then every refusal, each checked to leave both
// cards' balances (and, where the protocol says so, their whole state) unchanged.
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { RECORD_STATUS } from '../../protocol/settlement/commands.js';
import { MAC_LABEL, transferMac } from '../../protocol/settlement/mac-input.js';
import { makePair, NOW, TEST_CURRENCY, TEST_PIN, type TestCard, transfer } from '../support/card-fixtures.js';
import { refusedWith } from '../support/refusals.js';

const terms = (counterpart: TestCard, amount: number, date = NOW) => ({
  counterpartId: counterpart.holderId,
  currency: TEST_CURRENCY,
  amount,
  date,
});

describe('value transfer (Fig. 4)', () => {
  it('moves the amount, settles both records and keeps the total', async () => {
    const { a, b } = await makePair({ balance: 5000 }, { balance: 700 });
    await a.client.verifyPin(TEST_PIN);
    await b.client.verifyPin(TEST_PIN);
    const before = await a.client.getBalance();
    expect(before).toMatchObject({ balance: 5000, availableBalance: 5000, currency: TEST_CURRENCY });
    const t = await transfer(a, b, 1234);
    expect((await a.client.getBalance()).balance).toBe(5000 - 1234);
    expect((await b.client.getBalance()).balance).toBe(700 + 1234);
    expect((await a.client.transactionStatus(t.txRandom)).status).toBe(RECORD_STATUS.DEBIT_ACKNOWLEDGED);
    const credit = await b.client.transactionStatus(t.txRandom);
    expect(credit).toMatchObject({ role: 'credit', status: RECORD_STATUS.CREDIT_CREDITED, amount: 1234 });
    expect(credit.proof).toEqual(t.ack);
    expect(await a.client.unsettledTransactions()).toEqual([]);
  });

  it('shows tentative balances while a transfer is in flight', async () => {
    const { a, b } = await makePair({ balance: 5000 }, { balance: 0 });
    await a.client.verifyPin(TEST_PIN);
    await b.client.verifyPin(TEST_PIN);
    const debit = await a.client.initiateDebit(terms(b, 300));
    expect(await a.client.getBalance()).toMatchObject({ balance: 5000, availableBalance: 4700 });
    await b.client.initiateCredit(terms(a, 300), debit);
    expect(await b.client.getBalance()).toMatchObject({ balance: 0, balanceWithPendingCredits: 300 });
    expect((await b.client.getCardInfo()).pendingCredits).toBe(1);
  });

  it('refuses zero, over-balance, over-maximum, foreign-currency and self-payment amounts, changing nothing', async () => {
    const { a, b } = await makePair({ balance: 1000 }, { balance: 99_900, maxBalance: 100_000 });
    // The owner's PIN, so that the amounts above the no-PIN limit reach the balance comparison.
    await a.client.verifyPin(TEST_PIN);
    const sa = a.state();
    const sb = b.state();
    await refusedWith(a.client.initiateDebit(terms(b, 0)), 0x6a80);
    await refusedWith(a.client.initiateDebit(terms(b, 1001)), 0x9401);
    await refusedWith(a.client.initiateDebit({ ...terms(b, 10), currency: 392 }), 0x6a80);
    await refusedWith(a.client.initiateDebit(terms(a, 10)), 0x6a80);
    await refusedWith(a.client.initiateDebit(terms(b, 0xffffffff)), 0x9401);
    expect(a.state()).toEqual(sa);
    // Over the payee's maximum, with the payer's genuine debit proof: only the headroom refuses.
    for (const amount of [101, 1000]) {
      const debit = await a.client.initiateDebit(terms(b, amount));
      await refusedWith(b.client.initiateCredit(terms(a, amount), debit), 0x9402);
    }
    expect(b.state()).toEqual(sb);
  });

  it('refuses an expired card for any transfer step', async () => {
    const { a, b } = await makePair({ validity: '20261120' }, {});
    const sa = a.state();
    await refusedWith(a.client.initiateDebit(terms(b, 10)), 0x6985);
    await refusedWith(b.client.initiateDebit(terms(a, 10, NOW + 10 * 365 * 86400)), 0x6985);
    expect(a.state()).toEqual(sa);
  });

  it('refuses a wrong transmission challenge, and that random can never be debited afterwards', async () => {
    const { a, b } = await makePair();
    const debit = await a.client.initiateDebit(terms(b, 100));
    const { txRandom } = debit;
    const { rxRandom, challenge } = await b.client.initiateCredit(terms(a, 100), debit);
    const bad = challenge.slice();
    bad[0]! ^= 1;
    await refusedWith(a.client.debit(txRandom, rxRandom, bad), 0x6982);
    await refusedWith(a.client.debit(txRandom, rxRandom, challenge), 0x6985); // random consumed
    expect(a.state().balance).toBe(10_000);
    expect((await a.client.transactionStatus(txRandom)).status).toBe(RECORD_STATUS.DEBIT_ABORTED);
  });

  it('refuses a challenge computed for other terms (amount, payee, reception random)', async () => {
    const { a, b } = await makePair();
    for (const variant of ['amount', 'rx'] as const) {
      const debit = await a.client.initiateDebit(terms(b, 100));
      const { txRandom } = debit;
      // The payee's challenge for other terms: a card holding the key made it (the debit proof would
      // not let another amount through INITIATE CREDIT, so it is computed here).
      const key = fromHex(b.state().transferKeys['1']!);
      const rxRandom = randomBytes(16);
      const challenge = transferMac(key, MAC_LABEL.TRANSMISSION_CHALLENGE, {
        transferKeyId: 1,
        payerId: a.holderId,
        payeeId: b.holderId,
        currency: TEST_CURRENCY,
        amount: variant === 'amount' ? 101 : 100,
        date: NOW,
        txRandom,
        rxRandom: variant === 'rx' ? randomBytes(16) : rxRandom,
      });
      await refusedWith(a.client.debit(txRandom, rxRandom, challenge), 0x6982);
    }
    expect(a.state().balance).toBe(10_000);
    expect(b.state().balance).toBe(10_000);
  });

  it('refuses a reflected challenge: the transmission challenge is no reception challenge', async () => {
    const { a, b } = await makePair();
    const debit = await a.client.initiateDebit(terms(b, 100));
    const { txRandom } = debit;
    const { challenge } = await b.client.initiateCredit(terms(a, 100), debit);
    const sb = b.state();
    await refusedWith(b.client.credit(txRandom, challenge), 0x6982);
    expect(b.state()).toEqual(sb);
  });

  it('refuses a wrong reception challenge and keeps the pending credit for the real one', async () => {
    const { a, b } = await makePair();
    const debit = await a.client.initiateDebit(terms(b, 100));
    const { txRandom } = debit;
    const { rxRandom, challenge } = await b.client.initiateCredit(terms(a, 100), debit);
    const reception = await a.client.debit(txRandom, rxRandom, challenge);
    const sb = b.state();
    await refusedWith(b.client.credit(txRandom, randomBytes(16)), 0x6982);
    expect(b.state()).toEqual(sb);
    await b.client.credit(txRandom, reception);
    expect(b.state().balance).toBe(10_100);
  });

  it('refuses replays: a second credit, a reused transmission random, a second debit', async () => {
    const { a, b } = await makePair();
    const t = await transfer(a, b, 100);
    const sa = a.state();
    const sb = b.state();
    await refusedWith(b.client.credit(t.txRandom, t.reception), 0x6985);
    await refusedWith(b.client.initiateCredit(terms(a, 100), t), 0x6985);
    await refusedWith(a.client.debit(t.txRandom, t.rxRandom, t.challenge), 0x6985);
    await refusedWith(a.client.acknowledgeDebit(t.txRandom, t.ack), 0x6985);
    expect(a.state()).toEqual(sa);
    expect(b.state()).toEqual(sb);
  });

  it('refuses commands out of order', async () => {
    const { a, b } = await makePair();
    const sa = a.state();
    const sb = b.state();
    const unknown = randomBytes(16);
    await refusedWith(a.client.debit(unknown, randomBytes(16), randomBytes(16)), 0x6985);
    await refusedWith(b.client.credit(unknown, randomBytes(16)), 0x6985);
    await refusedWith(a.client.acknowledgeDebit(unknown, randomBytes(16)), 0x6985);
    await refusedWith(a.client.abortDebit(unknown), 0x6a88);
    await refusedWith(b.client.cancelCredit(unknown, randomBytes(16)), 0x6985);
    await refusedWith(a.client.transactionStatus(unknown), 0x6a88);
    expect(a.state()).toEqual(sa);
    expect(b.state()).toEqual(sb);
  });

  it('refuses bad lengths and parameters with 6700 / 6A86', async () => {
    const { a } = await makePair();
    const sa = a.state();
    await refusedWith(a.client.command(0x30, 0, new Uint8Array(25)), 0x6700);
    await refusedWith(a.client.command(0x32, 0, new Uint8Array(42)), 0x6700); // the version-1 length
    await refusedWith(a.client.command(0x42, 0, new Uint8Array(47)), 0x6700);
    await refusedWith(a.client.command(0x34, 0, new Uint8Array(49)), 0x6700);
    await refusedWith(a.client.command(0x10, 1), 0x6a86);
    await refusedWith(a.client.command(0x10, 0, new Uint8Array(1)), 0x6700);
    await refusedWith(a.client.command(0x77), 0x6d00);
    await refusedWith(a.client.command(0x10, 0, undefined, 0x90), 0x6e00);
    await refusedWith(a.client.command(0x10, 0, undefined, 0x00), 0x6e00); // GET CARD INFO under the ISO class
    await refusedWith(a.client.command(0xa4, 4, undefined, 0x80), 0x6e00); // SELECT under the proprietary class
    await refusedWith(a.client.command(0x20, 0, undefined, 0x00, 0x01), 0x6a86); // VERIFY: ISO class, its own checks
    await refusedWith(a.client.command(0x77, 0, undefined, 0x00), 0x6d00);
    await refusedWith(a.client.command(0x60), 0x6d00); // version 1's LIST CONTENTS: INS 6X is invalid
    await refusedWith(a.client.command(0x10, 0, undefined, 0x01), 0x6881);
    expect(a.state()).toEqual(sa);
  });

  it('recovers an interrupted transfer exactly once: the reception challenge is re-issued by the payer', async () => {
    const { a, b } = await makePair();
    const debit = await a.client.initiateDebit(terms(b, 250));
    const { txRandom } = debit;
    const { rxRandom, challenge } = await b.client.initiateCredit(terms(a, 250), debit);
    await a.client.debit(txRandom, rxRandom, challenge);
    // The terminal lost the reception challenge and both cards lost power.
    await a.reinsert();
    await b.reinsert();
    expect((await b.client.getCardInfo()).pendingCredits).toBe(1);
    const record = await a.client.transactionStatus(txRandom);
    expect(record.status).toBe(RECORD_STATUS.DEBIT_DEBITED);
    const ack = await b.client.credit(txRandom, record.proof);
    await refusedWith(b.client.credit(txRandom, record.proof), 0x6985);
    await a.client.acknowledgeDebit(txRandom, ack);
    expect(a.state().balance + b.state().balance).toBe(20_000);
    expect(b.state().balance).toBe(10_250);
  });

  it('cancels a pending credit only with the payer’s abort proof, and then the payer can never debit', async () => {
    const { a, b } = await makePair();
    const debit = await a.client.initiateDebit(terms(b, 250));
    const { txRandom } = debit;
    const { rxRandom, challenge } = await b.client.initiateCredit(terms(a, 250), debit);
    const sb = b.state();
    await refusedWith(b.client.cancelCredit(txRandom, randomBytes(16)), 0x6982);
    expect(b.state()).toEqual(sb);
    const proof = await a.client.abortDebit(txRandom);
    expect(await a.client.abortDebit(txRandom)).toEqual(proof); // idempotent
    await refusedWith(a.client.debit(txRandom, rxRandom, challenge), 0x6985);
    await b.client.cancelCredit(txRandom, proof);
    expect((await b.client.transactionStatus(txRandom)).status).toBe(RECORD_STATUS.CREDIT_CANCELLED);
    expect(a.state().balance).toBe(10_000);
    expect(b.state().balance).toBe(10_000);
  });

  it('never aborts a committed debit', async () => {
    const { a, b } = await makePair();
    const debit = await a.client.initiateDebit(terms(b, 250));
    const { txRandom } = debit;
    const { rxRandom, challenge } = await b.client.initiateCredit(terms(a, 250), debit);
    await a.client.debit(txRandom, rxRandom, challenge);
    const sa = a.state();
    await refusedWith(a.client.abortDebit(txRandom), 0x6985);
    expect(a.state()).toEqual(sa);
  });

  it('a new transfer abandons an open one, whose abort proof the payee accepts', async () => {
    const { a, b } = await makePair();
    const first = await a.client.initiateDebit(terms(b, 10));
    await b.client.initiateCredit(terms(a, 10), first);
    await a.client.initiateDebit(terms(b, 20));
    const record = await a.client.transactionStatus(first.txRandom);
    expect(record.status).toBe(RECORD_STATUS.DEBIT_ABORTED);
    await b.client.cancelCredit(first.txRandom, record.proof);
    expect((await b.client.getCardInfo()).pendingCredits).toBe(0);
  });

  it('fills its log only with settled records; unsettled ones block new transfers with 6A84', async () => {
    const { a, b } = await makePair({ balance: 100_000 }, { balance: 0, maxBalance: 1_000_000 });
    await a.client.verifyPin(TEST_PIN); // twenty payments: beyond the no-PIN count
    for (let i = 0; i < 12; i++) await transfer(a, b, 1); // settled records get evicted
    expect(a.state().debitLog).toHaveLength(8);
    for (let i = 0; i < 8; i++) {
      const debit = await a.client.initiateDebit(terms(b, 1));
      await b.client.initiateCredit(terms(a, 1), debit); // pending credits on B
    }
    const sb = b.state();
    const debit = await a.client.initiateDebit(terms(b, 1));
    await refusedWith(b.client.initiateCredit(terms(a, 1), debit), 0x6a84);
    expect(b.state()).toEqual(sb);
  });

  it('computes the challenges exactly as docs/protocol.md specifies', async () => {
    const { a, b } = await makePair();
    const t = await transfer(a, b, 42);
    const key = fromHex(a.state().transferKeys['1']!);
    const macTerms = {
      transferKeyId: 1,
      payerId: a.holderId,
      payeeId: b.holderId,
      currency: TEST_CURRENCY,
      amount: 42,
      date: NOW,
      txRandom: t.txRandom,
      rxRandom: t.rxRandom,
    };
    const beforeRr = { ...macTerms, rxRandom: new Uint8Array(16) }; // made before the payer sees Rr
    expect(t.debitProof).toEqual(transferMac(key, MAC_LABEL.DEBIT_PROOF, beforeRr));
    expect(t.challenge).toEqual(transferMac(key, MAC_LABEL.TRANSMISSION_CHALLENGE, macTerms));
    expect(t.reception).toEqual(transferMac(key, MAC_LABEL.RECEPTION_CHALLENGE, macTerms));
    expect(t.ack).toEqual(transferMac(key, MAC_LABEL.CREDIT_ACKNOWLEDGEMENT, macTerms));
  });
});
