// A value transfer over a real pcscd interrupted at every APDU of Fig. 4 (INITIATE DEBIT, INITIATE
// CREDIT, DEBIT, CREDIT, ACKNOWLEDGE DEBIT): the card is pulled before it acts, pulled after it acted
// (its answer lost), or stalls past the terminal's waiting time; at DEBIT also: stalls after debiting,
// and loses power at its persistent write. The card comes back, recovery runs,
// and the invariants hold: no value created or lost, the payee credited at most once, no unsettled
// record on either card, nothing in doubt, the log intact, and the cards still work.
// No timing assertions; every wait is bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SettlementEngine } from '../../electron/services/settlement/settlement-engine.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { isTerminalError } from '../../protocol/errors.js';
import { INS } from '../../protocol/settlement/commands.js';
import {
  type CardFault,
  type PcscTerminal,
  startPcscTerminal,
  unsettledRecords,
} from '../support/pcsc-terminal-fixture.js';

const AMOUNT = 100;
/** Small, so that the stalls cost little; the cards answer in about 50 ms through vpcd. */
const WAITING_TIME_MS = 500;

let t: PcscTerminal;

beforeAll(async () => {
  t = await startPcscTerminal({ waitingTimeMs: WAITING_TIME_MS });
  await t.startServices();
});

afterAll(async () => {
  await t?.stop();
});

const engine = (): SettlementEngine => {
  const s = t.services;
  if (!s) throw new Error('terminal services are not running');
  return s.engine;
};

const inDoubtTotal = () =>
  engine()
    .inDoubt()
    .reduce((sum, i) => sum + i.amount, 0);

/** engine.recover(), once an operation the engine started by itself (card inserted) has finished. */
async function recoverWhenIdle() {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await engine().recover();
    } catch (e) {
      if (!isTerminalError(e, 'E_BUSY') || Date.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function expectAllSettled() {
  expect(engine().openTransfers()).toEqual([]);
  expect(engine().inDoubt()).toEqual([]);
  for (const slot of ['payer', 'payee'] as const) expect(unsettledRecords(t.state(slot))).toBe(0);
  expect(t.services!.journal.verify()).toMatchObject({ ok: true });
}

const STEPS: [string, number, SlotName][] = [
  ['INITIATE DEBIT', INS.INITIATE_DEBIT, 'payer'],
  ['INITIATE CREDIT', INS.INITIATE_CREDIT, 'payee'],
  ['DEBIT', INS.DEBIT, 'payer'],
  ['CREDIT', INS.CREDIT, 'payee'],
  ['ACKNOWLEDGE DEBIT', INS.ACKNOWLEDGE_DEBIT, 'payer'],
];
const KINDS: CardFault[] = ['pull-before', 'pull-after', 'stall-before'];

/** Whether the value ends up at the payee: the payer's DEBIT has run (recovery then finishes the credit). */
function valueMoves(ins: number, fault: CardFault): boolean {
  if (ins === INS.DEBIT)
    return fault === 'pull-after' || fault === 'stall-after' || fault === 'tear-after-write';
  return ins === INS.CREDIT || ins === INS.ACKNOWLEDGE_DEBIT;
}

describe('value transfer over pcscd interrupted at every step', () => {
  const matrix = [
    ...STEPS.flatMap(([name, ins, slot]) => KINDS.map((fault) => [name, fault, ins, slot] as const)),
    // The card debits, then never answers: the terminal must learn the debit from the card's record.
    ['DEBIT', 'stall-after', INS.DEBIT, 'payer'] as const,
    // Power lost at the debit's persistent write: the card comes back with the state before or after it.
    ['DEBIT', 'tear-before-write', INS.DEBIT, 'payer'] as const,
    ['DEBIT', 'tear-after-write', INS.DEBIT, 'payer'] as const,
  ];

  it.each(matrix)('%s: %s', async (_name, fault, ins, slot) => {
    const before = t.balances();
    const sum = before.payer + before.payee;
    const armed = t.arm(slot, ins, fault);
    // A stalled card is pulled once the terminal has given up on it (its waiting time ran out and
    // it journaled the interruption): that releases pcscd's reader and the stuck SCardTransmit.
    const off = fault.startsWith('stall')
      ? engine().on((e) => {
          if (e.type === 'step' && e.event.step === 'interrupted') void t.slot[slot].connector.remove();
        })
      : () => {};
    let outcome: Awaited<ReturnType<SettlementEngine['transfer']>>;
    try {
      outcome = await engine().transfer({ amount: AMOUNT });
    } finally {
      off();
      if (t.slot[slot].connector.state === 'inserted' && fault.startsWith('stall')) {
        await t.slot[slot].connector.remove();
      }
      t.clearFaults();
    }
    expect(armed.fired()).toBe(true);
    expect(outcome.status).toBe('interrupted');
    if (outcome.status !== 'interrupted') throw new Error(outcome.status);
    if (fault.startsWith('stall')) {
      expect(outcome.error).toMatchObject({
        code: 'E_TRANSPORT_TIMEOUT',
        details: { timeoutMs: WAITING_TIME_MS },
      });
    } else {
      expect(['E_TRANSPORT', 'E_CARD_ABSENT']).toContain(outcome.error.code);
    }

    // Before recovery: value may be in flight, but none is created, and none vanishes unaccounted.
    const mid = t.balances();
    expect(mid.payer + mid.payee).toBeLessThanOrEqual(sum);
    expect(mid.payer + mid.payee + inDoubtTotal()).toBeGreaterThanOrEqual(sum);

    // The card is presented again; recovery settles both cards.
    await t.insert(slot);
    await engine().recover();
    const after = t.balances();
    expect(after.payer + after.payee).toBe(sum);
    expect(after).toEqual(
      valueMoves(ins, fault) ? { payer: before.payer - AMOUNT, payee: before.payee + AMOUNT } : before,
    );
    expectAllSettled();

    // The cards still work. (That recovering again changes nothing is shown in-process, in
    // test/terminal/transfer-faults.test.ts; each round trip through vpcd costs ~50 ms here.)
    expect(await engine().transfer({ amount: 1 })).toMatchObject({ status: 'completed' });
    expectAllSettled();
  });
});

describe('a payee card that does not come back', () => {
  it('leaves the debit in doubt with what an issuer needs; value is accounted for; completed once the card returns', async () => {
    const before = t.balances();
    const sum = before.payer + before.payee;
    t.arm('payee', INS.CREDIT, 'pull-before');
    const outcome = await engine().transfer({ amount: AMOUNT });
    t.clearFaults();
    expect(outcome).toMatchObject({ status: 'interrupted', inDoubt: true });

    // Recovery with only the payer present cannot finish it.
    await t.waitPresence('payee', false);
    await engine().recover();
    const items = engine().inDoubt();
    expect(items).toHaveLength(1);
    const [item] = items;
    expect(item).toMatchObject({ amount: AMOUNT, currency: 978, valueState: 'in-doubt' });
    expect(item!.payerId).toBe(t.state('payer').holderId);
    expect(item!.payeeId).toBe(t.state('payee').holderId);
    expect(item!.txRandom).toMatch(/^[0-9A-F]{32}$/);
    expect(item!.receptionChallenge).toMatch(/^[0-9A-F]{32}$/);
    expect(t.balances()).toEqual({ payer: before.payer - AMOUNT, payee: before.payee });
    const mid = t.balances();
    expect(mid.payer + mid.payee + inDoubtTotal()).toBe(sum);
    expect(t.state('payee').creditLog.at(-1)).toMatchObject({ txRandom: item!.txRandom, status: 'pending' });

    // The same payee card is presented again: the terminal's recovery completes the credit by itself, once.
    const recovered = new Promise<void>((resolve) => {
      const off = engine().on((e) => {
        if (e.type === 'recovered' && e.report.outcome === 'completed') {
          off();
          resolve();
        }
      });
    });
    t.services!.recovery.watchInsertions();
    await t.insert('payee');
    await recovered;
    await t.services!.recovery.settled();
    await recoverWhenIdle();
    expect(t.balances()).toEqual({ payer: before.payer - AMOUNT, payee: before.payee + AMOUNT });
    expectAllSettled();
  });
});
