// Issue 13 §1 through the terminal: the one-APDU strand of version 1 is refused by the card, and the
// strands a hostile terminal can still make with a genuine card of its own (a pending credit that
// takes a shop card's headroom, eight that fill its credit log) are released by the terminal's
// recovery when the shop card is presented: the shop can be paid again at once, the release proof is
// journaled and listed with what a delivering party needs, and the paying card gets back what it
// debited when it is presented, here or at another terminal (deliver()). Never released: what this
// terminal can still complete itself.
import { describe, expect, it } from 'vitest';
import type { TerminalRecovery } from '../../electron/services/recovery/terminal-recovery.js';
import { concat, fromHex, toHex, u16, u32 } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { INS, LOG_CAPACITY } from '../../protocol/settlement/commands.js';
import type { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import {
  hostileReader,
  makeCard,
  NOW,
  TEST_CURRENCY,
  TEST_PIN,
  type TestCard,
} from '../support/card-fixtures.js';
import { shopTerminal, TERMINAL_DATE, termsWith } from '../support/terminal-fixtures.js';

const DATE = TERMINAL_DATE;
const terms = termsWith;

/** Mallory's genuine card opens a debit to `payee` and the payee takes the pending credit; nothing more. */
async function strand(
  mallory: SettlementClient,
  malloryCard: TestCard,
  payee: SettlementClient,
  payeeCard: TestCard,
  amount: number,
) {
  const debit = await mallory.initiateDebit(terms(payeeCard, amount));
  const credit = await payee.initiateCredit(terms(malloryCard, amount), debit);
  return { debit, credit };
}

/**
 * Mallory's card pays 30.00 to the shop card in a hostile reader and stops after DEBIT (or aborts its
 * debit instead, `aborts`); then `meanwhile` happens elsewhere, and terminal A, shown the shop card,
 * releases the pending credit: the release proof is A's to deliver.
 */
async function releasedAtA(
  o: { aborts?: boolean; meanwhile?: (mallory: TestCard) => Promise<unknown> } = {},
) {
  const customer = await makeCard({ balance: 10_000 });
  const shop = await makeCard({ balance: 0 });
  const mallory = await makeCard({ balance: 10_000 });
  const a = await shopTerminal({ payer: customer, payee: shop });
  a.unplug('payee');
  const m = await hostileReader(mallory);
  await m.verifyPin(TEST_PIN);
  const { debit, credit } = await strand(m, mallory, await hostileReader(shop), shop, 3000);
  if (o.aborts) await m.abortDebit(debit.txRandom);
  else await m.debit(debit.txRandom, credit.rxRandom, credit.challenge);
  await o.meanwhile?.(mallory);
  a.t.slots.insert('payee', shop.sim.os);
  await a.recovery.run();
  const [delivery] = a.recovery.pendingDeliveries();
  return { a, mallory, delivery: delivery! };
}

const balance = (c: TestCard) => c.state().balance;

/**
 * At terminal B, beside a card of transfer key 2 (after `first` there): the card is updated to it,
 * and its key 1 retired (no unsettled record of it left).
 */
async function updateToKey2(
  card: TestCard,
  first?: (b: Awaited<ReturnType<typeof shopTerminal>>) => Promise<void>,
) {
  const b = await shopTerminal({ payer: card, payee: await makeCard({ balance: 0, transferKeyId: 2 }) });
  await first?.(b);
  await b.t.engine.updateKeys();
  expect(Object.keys(card.state().transferKeys)).toEqual(['2']);
  return b;
}
const nothingOpen = (r: TerminalRecovery) =>
  expect(r.inDoubt()).toEqual({ transfers: [], deliveries: [], contents: [] });

describe('the one-APDU strand (issue 13 §1)', () => {
  it('is refused by the shop card: nothing is stored and the shop is paid as before', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 5000, maxBalance: 10_000 });
    const { t } = await shopTerminal({ payer: customer, payee: shop });
    t.slots.remove('payee');
    const before = shop.backend.load();
    // Version 1's INITIATE CREDIT: any payer ID, currency, 50.00, date, any Rt. Version 2 wants the
    // debit proof too: the short command is refused, and with 16 bytes of anything as proof, 6982.
    const os = shop.sim.os;
    os.powerUp();
    os.transmit(fromHex('00A4040006F053544C4D02'));
    const body = concat(randomBytes(16), u16(TEST_CURRENCY), u32(5000), u32(NOW), randomBytes(16));
    expect(toHex(os.transmit(concat(fromHex('8032000' + '02A'), body, fromHex('00'))))).not.toBe('9000');
    expect(toHex(os.transmit(concat(fromHex('803200003A'), body, randomBytes(16), fromHex('00'))))).toBe(
      '6982',
    );
    expect(shop.backend.load()).toBe(before);
    t.slots.insert('payee', os);
    await t.engine.login('payer', TEST_PIN); // 50.00 is above the no-PIN limit
    expect(await t.engine.transfer({ amount: 5000 })).toMatchObject({ status: 'completed' });
    expect(balance(shop)).toBe(10_000);
  });
});

describe('strands made with a genuine card are released by the terminal’s recovery', () => {
  it('a pending credit that takes the shop card’s headroom: released on presentation, the shop is paid, the payer refunded when it comes', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 5000, maxBalance: 10_000 });
    const mallory = await makeCard({ balance: 10_000 });
    const total = balance(customer) + balance(shop) + balance(mallory);
    const { t, recovery, place, unplug } = await shopTerminal({ payer: customer, payee: shop });

    // In a hostile terminal: Mallory's card (her PIN) pays 50.00 to the shop card, and the terminal
    // stops after DEBIT: the value left Mallory's card, the shop's card holds it pending.
    unplug('payee');
    const m = await hostileReader(mallory);
    const s = await hostileReader(shop);
    await m.verifyPin(TEST_PIN);
    const { debit, credit } = await strand(m, mallory, s, shop, 5000);
    await m.debit(debit.txRandom, credit.rxRandom, credit.challenge);
    expect(balance(mallory)).toBe(5000);

    // Without recovery the shop card cannot be paid: its headroom is reserved for the pending 50.00.
    t.slots.insert('payee', shop.sim.os);
    expect(await t.engine.transfer({ amount: 100 })).toMatchObject({
      status: 'rolled-back',
      error: { code: 'E_BALANCE_LIMIT' },
    });
    // Presented to this terminal (its host watches insertions): the foreign record is adopted and,
    // its payer being absent, released; the proof is journaled for delivery.
    recovery.watchInsertions();
    await place('payee', shop);
    const [delivery] = recovery.pendingDeliveries();
    expect(delivery).toMatchObject({
      origin: 'found-on-card',
      payerId: mallory.state().holderId,
      payeeId: shop.state().holderId,
      amount: 5000,
      currency: TEST_CURRENCY,
      date: DATE,
      txRandom: toHex(debit.txRandom),
      rxRandom: toHex(credit.rxRandom),
    });
    expect(delivery!.releaseProof).toMatch(/^[0-9A-F]{32}$/);
    expect(recovery.inDoubt().transfers).toEqual([]);
    expect(await t.engine.transfer({ amount: 100 })).toMatchObject({ status: 'completed' });

    // Mallory's card is presented (in the payer slot): it takes the proof and gets its 50.00 back.
    await place('payer', mallory);
    nothingOpen(recovery);
    expect(balance(mallory)).toBe(10_000);
    expect(mallory.state().debitLog.at(-1)).toMatchObject({ status: 'refunded' });
    expect(balance(customer) + balance(shop) + balance(mallory)).toBe(total);
    const steps = t.journal.entriesForFlow(delivery!.flowId).map((e) => e.step);
    expect(steps).toEqual(['started', 'released', 'refunded']);
    expect(t.journal.verify()).toMatchObject({ ok: true });
  });

  it('eight pending credits of 0.01 that fill the shop card’s credit log (6A84): all released, the shop is paid again', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const mallory = await makeCard({ balance: 10_000 });
    const { t, recovery, place, unplug } = await shopTerminal({ payer: customer, payee: shop });
    unplug('payee');
    const m = await hostileReader(mallory);
    const s = await hostileReader(shop);
    for (let i = 0; i < LOG_CAPACITY; i++) await strand(m, mallory, s, shop, 1);
    expect((await s.getCardInfo()).pendingCredits).toBe(LOG_CAPACITY);
    t.slots.insert('payee', shop.sim.os);
    const refused = await t.engine.transfer({ amount: 100 });
    expect(refused).toMatchObject({ status: 'rolled-back', error: { details: { sw: 0x6a84 } } });

    const run = await recovery.run();
    expect(run.adopted).toBe(LOG_CAPACITY);
    expect(recovery.pendingDeliveries()).toHaveLength(LOG_CAPACITY);
    expect(shop.state().creditLog.filter((r) => r.status === 'pending')).toEqual([]);
    expect(await t.engine.transfer({ amount: 100 })).toMatchObject({ status: 'completed' });

    recovery.watchInsertions();
    await place('payer', mallory);
    nothingOpen(recovery);
    expect(balance(mallory)).toBe(10_000);
    expect(mallory.state().debitLog.filter((r) => r.status === 'open' || r.status === 'debited')).toEqual([]);
  });

  it('another terminal delivers the proof (deliver()); a forged proof changes nothing', async () => {
    const { a, mallory, delivery } = await releasedAtA();
    expect(balance(mallory)).toBe(7000);

    // Terminal B never saw the transfer; its journal gets the proof as terminal A lists it.
    const b = await shopTerminal({ payer: mallory, payee: await makeCard({ balance: 0 }) });
    const forged = await b.recovery.deliver({ ...delivery, releaseProof: toHex(randomBytes(16)) });
    expect(forged.outcome).toBe('failed-no-value-moved');
    expect(balance(mallory)).toBe(7000);
    const delivered = await b.recovery.deliver(delivery);
    expect(delivered.outcome).toBe('rolled-back');
    expect(balance(mallory)).toBe(10_000);
    expect(b.t.journal.entriesForFlow(delivered.flowId).map((e) => e.step)).toEqual([
      'started',
      'released',
      'refunded',
    ]);
    nothingOpen(b.recovery);

    // Terminal A sees the card later: REFUND DEBIT answers as already applied, nothing moves twice.
    a.recovery.watchInsertions();
    await a.place('payer', mallory);
    nothingOpen(a.recovery);
    expect(balance(mallory)).toBe(10_000);
    await expect(b.recovery.deliver({ ...delivery, amount: 0 })).rejects.toMatchObject({
      code: 'E_INPUT_INVALID',
    });
  });

  it('a payer card refunded elsewhere whose transfer key has since been updated (REFUND DEBIT 6984): the delivery closes, nothing moves', async () => {
    const { a, mallory, delivery } = await releasedAtA();
    // Terminal B delivers the proof, then updates Mallory's card to a newer transfer key: the key of
    // the refunded record is retired, and the card can no longer check a release proof under it (§4.5).
    await updateToKey2(mallory, async (b) => {
      expect((await b.recovery.deliver(delivery)).outcome).toBe('rolled-back');
      expect(balance(mallory)).toBe(10_000);
    });
    const before = mallory.backend.load();

    // Terminal A sees the card: REFUND DEBIT answers 6984. The record is refunded by this very proof,
    // so the delivery is done; A's flow closes instead of waiting for the card for ever.
    a.recovery.watchInsertions();
    await a.place('payer', mallory);
    nothingOpen(a.recovery);
    expect(mallory.backend.load()).toBe(before);
    const steps = a.t.journal.entriesForFlow(delivery.flowId);
    expect(steps.map((e) => e.step)).toEqual(['started', 'released', 'refunded']);
    expect(steps[2]!.payload).toMatchObject({ sw: 0x6984, payerSettled: true });
  });

  it('a payer card that aborted its debit and has a newer transfer key since (REFUND DEBIT 6984): the delivery closes with nothing to refund', async () => {
    // Mallory's card opens a debit to the shop card, which takes the pending credit; the debit is
    // then aborted (never debited), and a terminal updates Mallory's card to transfer key 2. Terminal
    // A, shown the shop card alone, releases the credit; then Mallory's card comes.
    const { a, mallory, delivery } = await releasedAtA({ aborts: true, meanwhile: (m) => updateToKey2(m) });
    const before = mallory.backend.load();
    a.recovery.watchInsertions();
    await a.place('payer', mallory);
    nothingOpen(a.recovery);
    expect(mallory.backend.load()).toBe(before);
    expect(balance(mallory)).toBe(10_000);
    const steps = a.t.journal.entriesForFlow(delivery!.flowId);
    expect(steps.map((e) => e.step)).toEqual(['started', 'released', 'rolled-back']);
    expect(steps[2]!.payload).toMatchObject({ sw: 0x6984, payerSettled: true });
  });

  it('a forged proof handed to a terminal whose flow for that transfer is open changes nothing there: the flow stays as it was, the genuine proof closes it', async () => {
    const { mallory, delivery } = await releasedAtA();

    // Terminal B sees Mallory's card first: it adopts her debited record as a flow of its own.
    const b = await shopTerminal({ payer: mallory, payee: await makeCard({ balance: 0 }) });
    await b.recovery.run();
    const [adopted] = b.recovery.inDoubt().transfers;
    expect(adopted).toMatchObject({ payerId: delivery.payerId, txRandom: delivery.txRandom });
    const adoptedSteps = () => b.t.journal.entriesForFlow(adopted!.flowId).map((e) => e.step);
    const before = adoptedSteps();

    const forged = await b.recovery.deliver({ ...delivery, releaseProof: toHex(randomBytes(16)) });
    expect(forged.flowId).not.toBe(adopted!.flowId);
    expect(forged.outcome).toBe('failed-no-value-moved');
    expect(adoptedSteps()).toEqual(before);
    expect(balance(mallory)).toBe(7000);
    // Later passes neither fail on it nor send it again.
    await expect(b.recovery.run()).resolves.toBeDefined();
    expect(adoptedSteps()).toEqual(before);

    const delivered = await b.recovery.deliver(delivery);
    expect(delivered.outcome).toBe('rolled-back');
    expect(balance(mallory)).toBe(10_000);
    nothingOpen(b.recovery);
  });

  it('never releases a credit of its own flow that the payer can still complete, unless the payee’s credit log is full', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const { t, recovery, place } = await shopTerminal({ payer: customer, payee: shop });
    // DEBIT never reaches the payer card: it is pulled. The journal holds the transmission challenge only.
    const os = customer.sim.os;
    const transmit = os.transmit.bind(os);
    os.transmit = (apdu) => {
      if (apdu[1] !== INS.DEBIT) return transmit(apdu);
      queueMicrotask(() => t.slots.remove('payer'));
      return new Uint8Array(0);
    };
    expect(await t.engine.transfer({ amount: 700 })).toMatchObject({
      status: 'interrupted',
      recovery: 'waiting-for-payer',
    });
    os.transmit = transmit;
    await recovery.run();
    expect(recovery.pendingDeliveries()).toEqual([]);
    expect(recovery.inDoubt().transfers).toHaveLength(1);
    expect(shop.state().creditLog.at(-1)).toMatchObject({ status: 'pending' });
    recovery.watchInsertions();
    await place('payer', customer);
    nothingOpen(recovery);
    expect([balance(customer), balance(shop)]).toEqual([10_000, 0]);
  });

  it('releases its own flow’s credit when the payer is gone and the payee’s credit log is full', async () => {
    const customer = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const mallory = await makeCard({ balance: 10_000 });
    const { t, recovery } = await shopTerminal({ payer: customer, payee: shop });
    const os = customer.sim.os;
    const transmit = os.transmit.bind(os);
    os.transmit = (apdu) => {
      if (apdu[1] !== INS.DEBIT) return transmit(apdu);
      queueMicrotask(() => t.slots.remove('payer'));
      return new Uint8Array(0);
    };
    await t.engine.transfer({ amount: 700 });
    os.transmit = transmit;
    // Seven more pending credits, from elsewhere: the shop's credit log is full.
    t.slots.remove('payee');
    const m = await hostileReader(mallory);
    const s = await hostileReader(shop);
    for (let i = 0; i < LOG_CAPACITY - 1; i++) await strand(m, mallory, s, shop, 1);
    t.slots.insert('payee', shop.sim.os);
    // The engine's own recovery (no adoption): the terminal's flow frees the card.
    await t.engine.recover();
    const own = recovery.pendingDeliveries();
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ amount: 700, payerId: customer.state().holderId });
    expect(own[0]!.origin).toBeUndefined();
  });
});
