// Issue 13 through the terminal, the payer's side: a hostile terminal runs a real payment up to CREDIT
// and keeps the acknowledgement (INITIATE DEBIT, INITIATE CREDIT, DEBIT, CREDIT, never ACKNOWLEDGE
// DEBIT). The payer card's record stays debited and takes one of its 8 log slots; eight such visits
// block every payment (6A84). An honest terminal's recovery adopts each such record
// (foreign-records.ts) and settles it with the payee's record: acknowledged when the payee credited,
// credited then acknowledged when it is still pending. With the payee absent it stays open, in doubt,
// and nothing moves; an acknowledgement the payer refuses (a payee card that lies) changes nothing,
// is not sent again, and leaves the flow in doubt.
import { describe, expect, it } from 'vitest';
import type { TerminalRecovery } from '../../electron/services/recovery/terminal-recovery.js';
import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { LOG_CAPACITY } from '../../protocol/settlement/commands.js';
import { hostileReader, makeCard, TEST_CURRENCY, TEST_PIN, type TestCard } from '../support/card-fixtures.js';
import { shopTerminal, TERMINAL_DATE, termsWith } from '../support/terminal-fixtures.js';

const DATE = TERMINAL_DATE;
const terms = termsWith;

/**
 * The hostile sequence: a real payment from `payer` to `payee`, stopped before ACKNOWLEDGE DEBIT
 * (`upTo: 'credit'`, the acknowledgement withheld) or before CREDIT (`upTo: 'debit'`).
 */
async function hostilePayment(payer: TestCard, payee: TestCard, amount: number, upTo: 'debit' | 'credit') {
  const p = await hostileReader(payer);
  const q = await hostileReader(payee);
  await p.verifyPin(TEST_PIN);
  const debit = await p.initiateDebit(terms(payee, amount));
  const credit = await q.initiateCredit(terms(payer, amount), debit);
  const reception = await p.debit(debit.txRandom, credit.rxRandom, credit.challenge);
  const ack = upTo === 'credit' ? await q.credit(debit.txRandom, reception) : undefined;
  return { txRandom: debit.txRandom, rxRandom: credit.rxRandom, reception, ack };
}

const balance = (c: TestCard) => c.state().balance;
const debited = (c: TestCard) => c.state().debitLog.filter((r) => r.status === 'debited');
const nothingOpen = (r: TerminalRecovery) =>
  expect(r.inDoubt()).toEqual({ transfers: [], deliveries: [], contents: [] });

describe('a debited payer record a hostile terminal left (the acknowledgement withheld)', () => {
  it('eight of them block the payer (6A84); one recovery pass acknowledges all eight, value conserved, the payer pays again', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const total = balance(customer) + balance(shop);
    const { t, recovery } = await shopTerminal({ payer: customer, payee: shop });
    t.slots.remove('payer');
    t.slots.remove('payee');
    for (let i = 0; i < LOG_CAPACITY; i++) await hostilePayment(customer, shop, 100, 'credit');
    expect(debited(customer)).toHaveLength(LOG_CAPACITY);
    expect(balance(shop)).toBe(800);
    t.slots.insert('payer', customer.sim.os);
    t.slots.insert('payee', shop.sim.os);
    const refused = await t.engine.transfer({ amount: 1 });
    expect(refused).toMatchObject({ status: 'refused', error: { details: { sw: 0x6a84 } } });

    const run = await recovery.run();
    expect(run.adopted).toBe(LOG_CAPACITY);
    expect(run.transfers.map((r) => r.outcome)).toEqual(Array(LOG_CAPACITY).fill('completed'));
    expect(debited(customer)).toEqual([]);
    expect(customer.state().debitLog.filter((r) => r.status === 'acknowledged')).toHaveLength(LOG_CAPACITY);
    expect([balance(customer), balance(shop)]).toEqual([9200, 800]);
    nothingOpen(recovery);
    const flow = t.journal.entriesForFlow(run.transfers[0]!.flowId);
    expect(flow.map((e) => e.step)).toEqual(['started', 'debited', 'credited', 'completed']);
    expect(flow[0]!.payload).toMatchObject({ origin: 'found-on-card', amount: 100, date: DATE });

    // A second pass finds nothing to adopt: each record was adopted once, and is settled.
    expect(await recovery.run()).toMatchObject({ adopted: 0, transfers: [] });
    expect(await t.engine.transfer({ amount: 1 })).toMatchObject({ status: 'completed' });
    expect(balance(customer) + balance(shop)).toBe(total);
    expect(t.journal.verify()).toMatchObject({ ok: true });
  });

  it('withheld before CREDIT: the payee is credited with the payer’s re-issued challenge, then the payer acknowledged', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const { t, recovery } = await shopTerminal({ payer: customer, payee: shop });
    t.slots.remove('payer');
    t.slots.remove('payee');
    await hostilePayment(customer, shop, 700, 'debit');
    t.slots.insert('payer', customer.sim.os);
    t.slots.insert('payee', shop.sim.os);
    const run = await recovery.run();
    // The payer's debited record and the payee's pending credit are one transfer: one flow.
    expect(run.adopted).toBe(1);
    expect(run.transfers.map((r) => r.outcome)).toEqual(['completed']);
    expect([balance(customer), balance(shop)]).toEqual([9300, 700]);
    expect(customer.state().debitLog.at(-1)).toMatchObject({ status: 'acknowledged' });
    expect(shop.state().creditLog.at(-1)).toMatchObject({ status: 'credited' });
    nothingOpen(recovery);
  });

  it('with the payee absent: adopted once, listed in doubt with what an issuer needs, nothing moved; settled when the payee comes', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const other = await makeCard({ balance: 0 });
    const { t, recovery, place } = await shopTerminal({ payer: customer, payee: other });
    t.slots.remove('payer');
    const hostile = await hostilePayment(customer, shop, 500, 'credit');
    t.slots.insert('payer', customer.sim.os);
    const before = [customer.backend.load(), other.backend.load()];

    const first = await recovery.run();
    expect(first.adopted).toBe(1);
    expect(first.transfers.map((r) => r.outcome)).toEqual(['waiting-for-payee']);
    const [doubt] = recovery.inDoubt().transfers;
    expect(doubt).toMatchObject({
      origin: 'found-on-card',
      payerId: toHex(customer.holderId),
      payeeId: toHex(shop.holderId),
      payerSerial: expect.stringMatching(/^\d+$/),
      amount: 500,
      currency: TEST_CURRENCY,
      date: DATE,
      txRandom: toHex(hostile.txRandom),
      rxRandom: toHex(hostile.rxRandom),
      receptionChallenge: toHex(hostile.reception),
      valueState: 'in-doubt',
    });
    // Nothing moved: the cards' memories are as they were (status queries only).
    expect([customer.backend.load(), other.backend.load()]).toEqual(before);
    expect(debited(customer)).toHaveLength(1);

    // Another pass: not adopted again, nothing journaled.
    const entries = t.journal.entriesForFlow(doubt!.flowId).length;
    expect(await recovery.run()).toMatchObject({ adopted: 0 });
    expect(t.journal.entriesForFlow(doubt!.flowId)).toHaveLength(entries);
    expect(recovery.inDoubt().transfers).toHaveLength(1);

    await place('payee', shop);
    const last = await recovery.run();
    expect(last).toMatchObject({ adopted: 0, transfers: [{ flowId: doubt!.flowId, outcome: 'completed' }] });
    expect(debited(customer)).toEqual([]);
    expect([balance(customer), balance(shop)]).toEqual([9500, 500]);
    nothingOpen(recovery);
  });

  it('acknowledged elsewhere while adopted here, the payee’s record of it evicted since: the payer’s record closes it completed', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const other = await makeCard({ balance: 10_000 });
    const { t, recovery, place } = await shopTerminal({ payer: customer, payee: other });
    t.slots.remove('payer');
    const hostile = await hostilePayment(customer, shop, 500, 'credit');
    t.slots.insert('payer', customer.sim.os);
    expect((await recovery.run()).transfers.map((r) => r.outcome)).toEqual(['waiting-for-payee']);
    const [doubt] = recovery.inDoubt().transfers;

    // Elsewhere: the acknowledgement reaches the customer's card (the terminal that withheld it, or
    // another that holds it), and eight later payments to the shop card evict its record of this one.
    const c = await hostileReader(customer);
    await c.acknowledgeDebit(hostile.txRandom, hostile.ack!);
    for (let i = 0; i < LOG_CAPACITY; i++) {
      const paid = await hostilePayment(other, shop, 1, 'credit');
      await (await hostileReader(other)).acknowledgeDebit(paid.txRandom, paid.ack!);
    }
    expect(shop.state().creditLog.some((r) => r.txRandom === toHex(hostile.txRandom))).toBe(false);
    const before = [customer.backend.load(), shop.backend.load()];

    // Both cards here: the payee has no record of it, the payer's says it was credited.
    await place('payer', customer);
    await place('payee', shop);
    expect(await recovery.run()).toMatchObject({
      adopted: 0,
      transfers: [{ flowId: doubt!.flowId, outcome: 'completed' }],
    });
    nothingOpen(recovery);
    expect([customer.backend.load(), shop.backend.load()]).toEqual(before);
    const steps = t.journal.entriesForFlow(doubt!.flowId);
    expect(steps.map((e) => e.step)).toEqual(['started', 'debited', 'completed']);
    expect(steps.at(-1)!.payload).toMatchObject({ payerSettled: true, payeeSettled: true });
  });

  it('acknowledged elsewhere, the payee absent: the payer’s record closes it completed too', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const { t, recovery } = await shopTerminal({ payer: customer, payee: await makeCard({ balance: 0 }) });
    t.slots.remove('payer');
    const hostile = await hostilePayment(customer, shop, 500, 'credit');
    t.slots.insert('payer', customer.sim.os);
    expect((await recovery.run()).transfers.map((r) => r.outcome)).toEqual(['waiting-for-payee']);
    t.slots.remove('payer');
    await (await hostileReader(customer)).acknowledgeDebit(hostile.txRandom, hostile.ack!);
    t.slots.insert('payer', customer.sim.os);
    expect((await recovery.run()).transfers.map((r) => r.outcome)).toEqual(['completed']);
    nothingOpen(recovery);
    expect([balance(customer), balance(shop)]).toEqual([9500, 500]);
  });

  it('a payee card that lies (its credited record with a forged acknowledgement): refused by the payer, nothing changes, not sent again, in doubt', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const { t, recovery } = await shopTerminal({ payer: customer, payee: shop });
    t.slots.remove('payer');
    t.slots.remove('payee');
    await hostilePayment(customer, shop, 400, 'credit');
    const forged = toHex(randomBytes(16));
    shop.sim.store.transaction((s) => {
      s.creditLog.at(-1)!.proof = forged;
    });
    t.slots.insert('payer', customer.sim.os);
    t.slots.insert('payee', shop.sim.os);
    const before = [customer.backend.load(), shop.backend.load()];

    const first = await recovery.run();
    expect(first.adopted).toBe(1);
    expect(first.transfers.map((r) => r.outcome)).toEqual(['waiting-for-payee']);
    expect([customer.backend.load(), shop.backend.load()]).toEqual(before);
    expect(debited(customer)).toHaveLength(1);
    const [doubt] = recovery.inDoubt().transfers;
    expect(doubt).toMatchObject({ origin: 'found-on-card', amount: 400, refusedAck: forged });
    expect(doubt!.ack).toBeUndefined();
    const steps = t.journal.entriesForFlow(doubt!.flowId).map((e) => e.step);
    expect(steps).toEqual(['started', 'debited', 'credited', 'ack-refused']);

    // The next passes neither adopt it again nor send the refused acknowledgement again.
    const acks: number[] = [];
    const sent = customer.sim.os.transmit.bind(customer.sim.os);
    customer.sim.os.transmit = (apdu: Uint8Array) => {
      if (apdu[1] === 0x38) acks.push(apdu.length);
      return sent(apdu);
    };
    for (let i = 0; i < 2; i++) expect(await recovery.run()).toMatchObject({ adopted: 0 });
    expect(acks).toEqual([]);
    expect(t.journal.entriesForFlow(doubt!.flowId).map((e) => e.step)).toEqual(steps);
    expect([customer.backend.load(), shop.backend.load()]).toEqual(before);
    expect(recovery.inDoubt().transfers.map((r) => r.flowId)).toEqual([doubt!.flowId]);
  });
});
