// A value transfer paid from either slot: the shop's card in the payee slot pays back (a refund)
// without the cards changing places. The roles turn, the slots stay; keys are aligned by slot, the
// journal names the cards in their roles, refusals name the slot, and recovery works by holder ID.
// The admit hook refuses inside the engine's lock before anything is journaled or sent.
import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../protocol/errors.js';
import { INS } from '../../protocol/settlement/commands.js';
import { makeTerminal } from '../support/terminal-fixtures.js';

const holder = (t: ReturnType<typeof makeTerminal>, slot: 'payer' | 'payee') =>
  t.cards[slot].store.read().holderId;

describe('value transfer paid from either slot', () => {
  it('pays from the payee slot back to the payer slot, journaling the cards in their roles', async () => {
    const t = makeTerminal({
      payer: { balance: 1000, label: 'Alice' },
      payee: { balance: 5000, label: 'Shop' },
    });
    await t.engine.login('payee', '1234');
    const outcome = await t.engine.transfer({ amount: 700, from: 'payee' });
    expect(outcome).toMatchObject({ status: 'completed', amount: 700, balances: { payee: 4300 } });
    expect(t.balances()).toEqual({ payer: 1700, payee: 4300 });
    const started = t.journal.entriesForFlow(outcome.flowId!)[0]!.payload;
    expect(started).toMatchObject({
      payerId: holder(t, 'payee'),
      payeeId: holder(t, 'payer'),
      payerSlot: 'payee',
      payeeSlot: 'payer',
      payerLabel: 'Shop',
      payeeLabel: 'Alice',
      amount: 700,
    });
    expect(t.engine.openTransfers()).toEqual([]);
    expect(t.journal.verify()).toMatchObject({ ok: true });
  });

  it('pays from the payer slot as before when no slot is named, with both labels', async () => {
    const t = makeTerminal({ payer: { balance: 1000, label: 'Alice' }, payee: { label: 'Shop' } });
    const outcome = await t.engine.transfer({ amount: 300 });
    expect(outcome.status).toBe('completed');
    expect(t.journal.entriesForFlow(outcome.flowId!)[0]!.payload).toMatchObject({
      payerId: holder(t, 'payer'),
      payerSlot: 'payer',
      payerLabel: 'Alice',
      payeeLabel: 'Shop',
    });
  });

  it('aligns the keys by slot whichever card pays', async () => {
    const t = makeTerminal({ payer: { transferKeyId: 1 }, payee: { transferKeyId: 3 } });
    const outcome = await t.engine.transfer({ amount: 5, from: 'payee' });
    expect(outcome).toMatchObject({
      status: 'completed',
      keyUpdates: [{ receiver: 'payer', route: 'common-key' }],
    });
    expect(t.cards.payer.store.read().transferKeyId).toBe(3);
  });

  it('refuses over the paying card’s visible balance, naming its slot, and changes nothing', async () => {
    const t = makeTerminal({ payee: { balance: 100 } });
    await t.engine.login('payee', '1234');
    const before = t.balances();
    const outcome = await t.engine.transfer({ amount: 101, from: 'payee' });
    expect(outcome).toMatchObject({
      status: 'refused',
      error: { code: 'E_INSUFFICIENT_FUNDS', details: { slot: 'payee' } },
    });
    expect(outcome.status !== 'completed' && outcome.error.message).toContain('payee card');
    expect(t.balances()).toEqual(before);
  });

  it('names the payee slot when the paying shop card itself refuses (9401)', async () => {
    const t = makeTerminal({ payee: { balance: 100 } });
    const before = t.balances();
    const outcome = await t.engine.transfer({ amount: 101, from: 'payee' });
    expect(outcome).toMatchObject({
      status: 'refused',
      error: { code: 'E_INSUFFICIENT_FUNDS', details: { slot: 'payee', sw: 0x9401 } },
    });
    expect(t.balances()).toEqual(before);
    expect(t.engine.openTransfers()).toEqual([]);
  });

  it('recovers an interrupted payment from the payee slot by holder ID: nothing created, nothing lost', async () => {
    const t = makeTerminal({ payer: { balance: 1000 }, payee: { balance: 5000 } });
    const total = t.total();
    // The customer's card (receiving) takes the credit, but its answer is lost.
    t.slots.stallAfterCard('payer', { when: (apdu) => apdu[1] === INS.CREDIT });
    const outcome = await t.engine.transfer({ amount: 250, from: 'payee' });
    expect(outcome.status).toBe('interrupted');
    t.slots.clearFaults('payer');
    await t.engine.recover();
    expect(t.engine.inDoubt()).toEqual([]);
    expect(t.engine.openTransfers()).toEqual([]);
    expect(t.total()).toBe(total);
    expect(t.balances()).toEqual({ payer: 1250, payee: 4750 });
  });

  it('refuses an unknown paying slot before reading a card', async () => {
    const t = makeTerminal();
    const outcome = await t.engine.transfer({ amount: 5, from: 'both' as never });
    expect(outcome).toMatchObject({ status: 'refused', error: { code: 'E_INPUT_INVALID' } });
    expect(t.flows.all()).toEqual([]);
  });
});

describe('the admit hook', () => {
  it('adds its fields to the started entry and sees the cards in their roles', async () => {
    const t = makeTerminal();
    const seen: unknown[] = [];
    const outcome = await t.engine.transfer({
      amount: 40,
      from: 'payee',
      admit: (parties) => {
        seen.push(parties);
        return { refundOf: 'sale-1', operator: 'sam' };
      },
    });
    expect(outcome.status).toBe('completed');
    expect(seen).toEqual([{ payerId: holder(t, 'payee'), payeeId: holder(t, 'payer'), amount: 40 }]);
    expect(t.journal.entriesForFlow(outcome.flowId!)[0]!.payload).toMatchObject({
      refundOf: 'sale-1',
      operator: 'sam',
    });
  });

  it('refuses with what it throws: nothing journaled, no key update, no purse command sent', async () => {
    const t = makeTerminal({ payer: { transferKeyId: 1 }, payee: { transferKeyId: 3 } });
    const sent: number[] = [];
    for (const slot of ['payer', 'payee'] as const) {
      const card = t.cards[slot].os;
      const transmit = card.transmit.bind(card);
      card.transmit = (apdu) => {
        sent.push(apdu[1]!);
        return transmit(apdu);
      };
    }
    const before = { payer: t.cards.payer.store.read(), payee: t.cards.payee.store.read() };
    const outcome = await t.engine.transfer({
      amount: 40,
      from: 'payee',
      admit: () => {
        throw new TerminalError('E_INPUT_INVALID', 'more than is left to refund');
      },
    });
    expect(outcome).toMatchObject({
      status: 'refused',
      error: { code: 'E_INPUT_INVALID', message: 'more than is left to refund' },
    });
    expect(t.flows.all()).toEqual([]);
    expect(sent).not.toContain(INS.INITIATE_DEBIT);
    expect(t.cards.payer.store.read()).toEqual(before.payer);
    expect(t.cards.payee.store.read()).toEqual(before.payee);
  });

  it('runs inside the lock: a second operation meanwhile is refused as busy', async () => {
    const t = makeTerminal();
    let second: unknown;
    const outcome = await t.engine.transfer({
      amount: 10,
      admit: () => {
        second = t.engine.transfer({ amount: 10 });
        return {};
      },
    });
    expect(outcome.status).toBe('completed');
    await expect(second).rejects.toMatchObject({ code: 'E_BUSY' });
  });
});
