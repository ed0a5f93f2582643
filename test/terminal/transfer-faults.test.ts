// Interrupts a value transfer at every APDU with every kind of fault, then recovers and checks the
// Mondex-style invariants: no value created or lost, nothing applied twice, both cards settled,
// the log intact.
import { describe, expect, it } from 'vitest';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { INS } from '../../protocol/settlement/commands.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { makeTerminal, type TerminalUnderTest, terminalRecovery } from '../support/terminal-fixtures.js';

type FaultKind =
  | 'timeout-before-card'
  | 'timeout-after-card'
  | 'pulled-before'
  | 'pulled-after'
  | 'tear-before-write'
  | 'tear-after-write';
const STEPS: [string, number, SlotName][] = [
  ['INITIATE DEBIT', INS.INITIATE_DEBIT, 'payer'],
  ['INITIATE CREDIT', INS.INITIATE_CREDIT, 'payee'],
  ['DEBIT', INS.DEBIT, 'payer'],
  ['CREDIT', INS.CREDIT, 'payee'],
  ['ACKNOWLEDGE DEBIT', INS.ACKNOWLEDGE_DEBIT, 'payer'],
];
const KINDS: FaultKind[] = [
  'timeout-before-card',
  'timeout-after-card',
  'pulled-before',
  'pulled-after',
  'tear-before-write',
  'tear-after-write',
];

/** Arms one fault on the first APDU with `ins` sent to the card in `slot`. */
function arm(t: TerminalUnderTest, slot: SlotName, ins: number, kind: FaultKind): void {
  let fired = false;
  const once = (apdu: Uint8Array) => {
    if (fired || apdu[1] !== ins) return false;
    fired = true;
    return true;
  };
  if (kind === 'timeout-before-card') {
    t.slots.stall(slot, { when: once });
    return;
  }
  if (kind === 'timeout-after-card') {
    t.slots.stallAfterCard(slot, { when: once });
    return;
  }
  const card = t.cards[slot];
  const os: VirtualCard = card.os;
  const transmit = os.transmit.bind(os);
  os.transmit = (apdu) => {
    if (!once(apdu)) return transmit(apdu);
    if (kind === 'pulled-before') {
      queueMicrotask(() => t.slots.remove(slot));
      return new Uint8Array(0);
    }
    if (kind === 'pulled-after') {
      transmit(apdu);
      queueMicrotask(() => t.slots.remove(slot));
      return new Uint8Array(0);
    }
    const base = card.store.commitCount;
    card.store.tearing = (i) =>
      i === base ? (kind === 'tear-before-write' ? 'cut-before-write' : 'cut-after-write') : 'proceed';
    const response = transmit(apdu);
    card.store.tearing = undefined;
    return response;
  };
}

function settleSlots(t: TerminalUnderTest): void {
  for (const slot of ['payer', 'payee'] as const) {
    t.slots.clearFaults(slot);
    if (!t.slots.card(slot)) t.slots.insert(slot, t.cards[slot].os);
  }
}

describe('value transfer interrupted at every step', () => {
  const matrix = STEPS.flatMap(([name, ins, slot]) => KINDS.map((kind) => [name, kind, ins, slot] as const));

  it.each(matrix)('%s on %s', async (_name, kind, ins, slot) => {
    const t = makeTerminal({ payer: { balance: 1000 }, payee: { balance: 500 } });
    arm(t, slot, ins, kind);
    const outcome = await t.engine.transfer({ amount: 100 });
    expect(outcome.status).not.toBe('completed');
    // Whatever happened, value is conserved once in-doubt items are counted.
    const inDoubt = t.engine.inDoubt().reduce((sum, i) => sum + i.amount, 0);
    const { payer, payee } = t.balances();
    expect(payer + payee).toBeLessThanOrEqual(1500);
    expect(payer + payee + inDoubt).toBeGreaterThanOrEqual(1500);

    settleSlots(t);
    await t.engine.recover();

    const after = t.balances();
    expect(after.payer + after.payee).toBe(1500);
    expect([after.payer, after.payee]).toEqual(after.payer === 1000 ? [1000, 500] : [900, 600]);
    expect(t.engine.openTransfers()).toEqual([]);
    expect(t.engine.inDoubt()).toEqual([]);
    for (const s of ['payer', 'payee'] as const) {
      const state = t.cards[s].store.read();
      expect(state.debitLog.filter((r) => r.status === 'open' || r.status === 'debited')).toEqual([]);
      expect(state.creditLog.filter((r) => r.status === 'pending')).toEqual([]);
    }
    expect(t.journal.verify()).toMatchObject({ ok: true });
    // Recovering again changes nothing, and the cards still work.
    await t.engine.recover();
    expect(t.balances()).toEqual(after);
    expect(await t.engine.transfer({ amount: 1 })).toMatchObject({ status: 'completed' });
  });
});

describe('in-doubt transfers', () => {
  it('shows a debit whose payee never returned, with what an issuer needs, and completes it when the card comes back', async () => {
    const t = makeTerminal({ payer: { balance: 1000 }, payee: { balance: 500 } });
    arm(t, 'payee', INS.CREDIT, 'pulled-before');
    const outcome = await t.engine.transfer({ amount: 100 });
    expect(outcome).toMatchObject({ status: 'interrupted', inDoubt: true });
    const [item] = t.engine.inDoubt();
    expect(item).toMatchObject({ amount: 100, currency: 978, valueState: 'in-doubt' });
    expect(item!.payerId).toBe(t.cards.payer.store.read().holderId);
    expect(item!.payeeId).toBe(t.cards.payee.store.read().holderId);
    expect(item!.txRandom).toMatch(/^[0-9A-F]{32}$/);
    expect(item!.receptionChallenge).toMatch(/^[0-9A-F]{32}$/);
    expect(item!.payerSerial).toBeDefined();
    expect(t.balances()).toEqual({ payer: 900, payee: 500 });

    // Recovery with only the payer present cannot finish it: still in doubt, nothing applied.
    await t.engine.recover();
    expect(t.engine.inDoubt()).toHaveLength(1);

    // The same payee card is presented again: the terminal's recovery completes the credit by itself, once.
    const recovery = terminalRecovery(t);
    recovery.watchInsertions();
    t.slots.insert('payee', t.cards.payee.os);
    await recovery.settled();
    expect(t.balances()).toEqual({ payer: 900, payee: 600 });
    expect(t.engine.inDoubt()).toEqual([]);
  });

  it('completes a pending credit on the journaled reception challenge even after the payer is gone', async () => {
    const t = makeTerminal({ payer: { balance: 1000 }, payee: { balance: 500 } });
    // The payer card is pulled while the CREDIT answer is lost: the terminal's own immediate recovery
    // has only the payee and the journal to work with.
    const payee = t.cards.payee.os;
    const transmit = payee.transmit.bind(payee);
    payee.transmit = (apdu) => {
      if (apdu[1] !== INS.CREDIT || !t.slots.card('payer')) return transmit(apdu);
      t.slots.remove('payer');
      return new Uint8Array(0);
    };
    const outcome = await t.engine.transfer({ amount: 100 });
    expect(outcome).toMatchObject({ status: 'interrupted', recovery: 'waiting-for-payer', inDoubt: false });
    expect(t.balances()).toEqual({ payer: 900, payee: 600 });
    // The payer's acknowledgement is housekeeping, finished when it returns.
    expect(t.engine.openTransfers()).toHaveLength(1);
    expect(t.engine.inDoubt()).toEqual([]);
    t.slots.insert('payer', t.cards.payer.os);
    await t.engine.recover();
    expect(t.engine.openTransfers()).toEqual([]);
    expect(t.cards.payer.store.read().debitLog.at(-1)?.status).toBe('acknowledged');
  });
});
