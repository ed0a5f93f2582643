// The settlement engine over simulated slots: routes, refusals (each leaving balances and keys
// unchanged), journaling before every APDU, and the operator-visible route reasons.
import { describe, expect, it } from 'vitest';
import { INS } from '../../protocol/settlement/commands.js';
import { TEST_CURRENCY } from '../support/card-fixtures.js';
import { makeTerminal } from '../support/terminal-fixtures.js';

describe('settlement engine: value transfer', () => {
  it('transfers with matching keys and journals every step in order', async () => {
    const t = makeTerminal({ payer: { balance: 5000 }, payee: { balance: 100 } });
    await t.engine.login('payer', '1234');
    await t.engine.login('payee', '1234');
    const outcome = await t.engine.transfer({ amount: 1250 });
    expect(outcome).toMatchObject({
      status: 'completed',
      amount: 1250,
      keyUpdates: [],
      balances: { payer: 3750, payee: 1350 },
    });
    const steps = t.journal.entriesForFlow(outcome.flowId!).map((e) => e.step);
    expect(steps).toEqual(['started', 'credit-initiated', 'debited', 'credited', 'completed']);
    expect(t.journal.verify()).toMatchObject({ ok: true });
    expect(t.engine.openTransfers()).toEqual([]);
  });

  it('passes the flow’s facts to the log’s index: amount, currency, both cards with their labels, the caller’s', async () => {
    const t = makeTerminal({
      payer: { balance: 5000, label: 'Alice Example' },
      payee: { label: 'Corner Shop' },
    });
    const outcome = await t.engine.transfer({ amount: 1250, facts: { operatorId: 'op-7', direction: 'in' } });
    if (outcome.status !== 'completed') throw new Error(outcome.status);
    expect(t.flows.flow(outcome.flowId)).toMatchObject({
      amount: 1250,
      currency: TEST_CURRENCY,
      operatorId: 'op-7',
      direction: 'in',
      cards: [
        { holderId: t.cards.payer.store.read().holderId, label: 'Alice Example' },
        { holderId: t.cards.payee.store.read().holderId, label: 'Corner Shop' },
      ],
    });
    expect(t.flows.search({ label: 'alice' }, { limit: 5 }).flows.map((f) => f.flowId)).toEqual([
      outcome.flowId,
    ]);
  });

  it('refuses facts it cannot index before any card is asked: nothing journaled, nothing moved', async () => {
    const t = makeTerminal({ payer: { balance: 5000 } });
    const before = t.balances();
    const outcome = await t.engine.transfer({ amount: 10, facts: { operatorId: 'not an id!' } });
    expect(outcome).toMatchObject({ status: 'refused', error: { code: 'E_INPUT_INVALID' } });
    expect(t.balances()).toEqual(before);
    expect(t.journal.head().seq).toBe(0);
  });

  it('journals each card answer before the next APDU is sent', async () => {
    const t = makeTerminal();
    const seen: { ins: number; journaled: string[] }[] = [];
    const payerCard = t.cards.payer.os;
    const payeeCard = t.cards.payee.os;
    for (const card of [payerCard, payeeCard]) {
      const original = card.transmit.bind(card);
      card.transmit = (apdu) => {
        const open = t.flows.openFlows().filter((f) => f.flowKind === 'value-transfer')[0];
        seen.push({
          ins: apdu[1]!,
          journaled: open ? t.journal.entriesForFlow(open.flowId).map((e) => e.step) : [],
        });
        return original(apdu);
      };
    }
    await t.engine.transfer({ amount: 10 });
    const lastStepBefore = (ins: number) => seen.find((s) => s.ins === ins)!.journaled.at(-1);
    expect(lastStepBefore(INS.INITIATE_DEBIT)).toBe('started');
    // INITIATE DEBIT's random is journaled with INITIATE CREDIT's answer, before DEBIT (docs/journal.md).
    expect(lastStepBefore(INS.INITIATE_CREDIT)).toBe('started');
    expect(lastStepBefore(INS.DEBIT)).toBe('credit-initiated');
    expect(lastStepBefore(INS.CREDIT)).toBe('debited');
    expect(lastStepBefore(INS.ACKNOWLEDGE_DEBIT)).toBe('credited');
  });
});

describe('settlement engine: key update before transfer', () => {
  it('common-key route when update keys match', async () => {
    const t = makeTerminal({ payer: { transferKeyId: 1 }, payee: { transferKeyId: 3 } });
    const outcome = await t.engine.transfer({ amount: 5 });
    expect(outcome).toMatchObject({
      status: 'completed',
      keyUpdates: [{ receiver: 'payer', route: 'common-key' }],
    });
    expect(t.cards.payer.store.read().transferKeyId).toBe(3);
  });

  it('pre-stored switch when the older card holds the key in advance', async () => {
    const t = makeTerminal({
      payer: { transferKeyId: 3 },
      payee: { transferKeyId: 1, prestoredTransferKeyIds: [2, 3] },
    });
    const outcome = await t.engine.transfer({ amount: 5 });
    expect(outcome).toMatchObject({
      status: 'completed',
      keyUpdates: [{ receiver: 'payee', route: 'pre-stored switch' }],
    });
  });

  it('public-key route when update keys differ, carrying the newer update key', async () => {
    const t = makeTerminal({
      payer: { transferKeyId: 1, updateKeyId: 1 },
      payee: { transferKeyId: 2, updateKeyId: 2 },
    });
    const outcome = await t.engine.transfer({ amount: 5 });
    expect(outcome).toMatchObject({
      status: 'completed',
      keyUpdates: [{ receiver: 'payer', route: 'public-key' }],
    });
    expect(t.cards.payer.store.read()).toMatchObject({ transferKeyId: 2, updateKeyId: 2 });
  });

  it('a card whose update key is older than its peer’s gets the update key in a second step', async () => {
    const t = makeTerminal({
      payer: { transferKeyId: 1, updateKeyId: 2 },
      payee: { transferKeyId: 2, updateKeyId: 1 },
    });
    const outcome = await t.engine.transfer({ amount: 5 });
    expect(outcome).toMatchObject({
      status: 'completed',
      keyUpdates: [
        { receiver: 'payer', route: 'public-key' },
        { receiver: 'payee', route: 'public-key' },
      ],
    });
    for (const slot of ['payer', 'payee'] as const)
      expect(t.cards[slot].store.read()).toMatchObject({ transferKeyId: 2, updateKeyId: 2 });
    // The next update between these cards can take the fast route.
    expect((await t.engine.updateKeys()).length).toBe(0);
  });

  it('explains the route it took in the journal', async () => {
    const t = makeTerminal({ payer: { transferKeyId: 1 }, payee: { transferKeyId: 2 } });
    const outcome = await t.engine.transfer({ amount: 5 });
    if (outcome.status !== 'completed') throw new Error(outcome.status);
    const planned = t.journal.entriesForFlow(outcome.keyUpdates[0]!.flowId)[0]!;
    expect(planned.payload).toMatchObject({
      route: 'common-key',
      reason: expect.stringContaining('update key 1'),
    });
  });
});

describe('settlement engine: refusals change nothing', () => {
  const cases: [string, Parameters<typeof makeTerminal>[0], number, string][] = [
    ['expired payer card', { payer: { validity: '20261120' } }, 10, 'E_CARD_EXPIRED'],
    ['expired payee card', { payee: { validity: '20261001' } }, 10, 'E_CARD_EXPIRED'],
    ['revoked payer card', { revoke: ['payer'] }, 10, 'E_PKI_REVOKED'],
    ['revoked payee card', { revoke: ['payee'] }, 10, 'E_PKI_REVOKED'],
    ['stale CRL under the refuse policy', { crlValidityDays: 0 }, 10, 'E_CRL_STALE'],
    ['no CRL at all under the refuse policy', { noCrl: true }, 10, 'E_CRL_STALE'],
    ['insufficient funds', { payer: { balance: 9 } }, 10, 'E_INSUFFICIENT_FUNDS'],
    ['zero amount', {}, 0, 'E_INPUT_INVALID'],
    ['fractional amount', {}, 1.5, 'E_INPUT_INVALID'],
    ['amount over 32 bits', {}, 2 ** 32, 'E_INPUT_INVALID'],
    [
      'key limit reached',
      { payer: { transferKeyId: 1, transferKeyIdLimit: 1 }, payee: { transferKeyId: 2 } },
      10,
      'E_KEY_LIMIT',
    ],
  ];
  it.each(cases)('%s', async (_name, setup, amount, code) => {
    const t = makeTerminal(setup);
    const before = { payer: t.cards.payer.store.read(), payee: t.cards.payee.store.read() };
    const outcome = await t.engine.transfer({ amount });
    expect(outcome.status).toBe('refused');
    expect(outcome.status !== 'completed' && outcome.error.code).toBe(code);
    expect(t.cards.payer.store.read()).toEqual(before.payer);
    expect(t.cards.payee.store.read()).toEqual(before.payee);
    expect(t.engine.inDoubt()).toEqual([]);
  });

  it('payee over its maximum: refused by the terminal when it sees the balance, else by the card and rolled back', async () => {
    for (const login of [true, false]) {
      const t = makeTerminal({ payee: { balance: 99_995, maxBalance: 100_000 } });
      if (login) await t.engine.login('payee', '1234');
      const before = t.balances();
      const outcome = await t.engine.transfer({ amount: 10 });
      expect(outcome.status).toBe(login ? 'refused' : 'rolled-back');
      expect(outcome.status !== 'completed' && outcome.error.code).toBe('E_BALANCE_LIMIT');
      expect(t.balances()).toEqual(before);
      expect(t.engine.openTransfers()).toEqual([]);
    }
  });

  it('refuses the same card in both slots', async () => {
    const t = makeTerminal();
    t.slots.remove('payee');
    t.slots.insert('payee', t.cards.payer.os);
    const outcome = await t.engine.transfer({ amount: 10 });
    expect(outcome.status !== 'completed' && outcome.error.code).toBe('E_SAME_CARD');
  });

  it('refuses a transfer with an empty slot', async () => {
    const t = makeTerminal();
    t.slots.remove('payee');
    const outcome = await t.engine.transfer({ amount: 10 });
    expect(outcome.status !== 'completed' && outcome.error.code).toBe('E_CARD_ABSENT');
  });

  it('goes ahead with a warning on a stale CRL under the warn policy', async () => {
    const t = makeTerminal({ crlValidityDays: 0, expiredPolicy: 'warn' });
    const outcome = await t.engine.transfer({ amount: 10 });
    expect(outcome).toMatchObject({
      status: 'completed',
      warnings: [expect.any(String), expect.any(String)],
    });
  });

  it('rolls back when the payee card refuses the credit, with the payer’s abort proof', async () => {
    const t = makeTerminal();
    // A payee card of another currency would be refused by the terminal first; a payee log full of
    // pending credits is refused by the card itself (6A84).
    const payee = t.cards.payee;
    payee.store.transaction((s) => {
      for (let i = 0; i < 8; i++) {
        s.creditLog.push({
          txRandom: i.toString(16).padStart(32, '0').toUpperCase(),
          payerId: '00'.repeat(16),
          currency: 978,
          amount: 1,
          date: 0,
          transferKeyId: 1,
          rxRandom: '00'.repeat(16),
          status: 'pending',
        });
      }
    });
    const before = t.total();
    const outcome = await t.engine.transfer({ amount: 10 });
    expect(outcome).toMatchObject({ status: 'rolled-back' });
    expect(t.total()).toBe(before);
    expect(t.cards.payer.store.read().debitLog.at(-1)?.status).toBe('aborted');
    expect(t.engine.openTransfers()).toEqual([]);
  });
});

describe('settlement engine: the card-reset policy', () => {
  // A refusal the card answered with a status word, or one the terminal made before a card acted,
  // leaves the cards' sessions (and the owner logins they carry) as they are; a transport failure
  // resets the cards. Before issue 10 an insufficient-funds refusal silently logged the customer out.
  it('keeps the customer logged in after the terminal refuses an amount over the balance', async () => {
    const t = makeTerminal({ payer: { balance: 500 } });
    await t.engine.login('payer', '1234');
    const before = t.balances();
    const refused = await t.engine.transfer({ amount: 501 });
    expect(refused).toMatchObject({ status: 'refused', error: { code: 'E_INSUFFICIENT_FUNDS' } });
    expect(await t.engine.readCard('payer')).toMatchObject({ ownerLoggedIn: true, balance: 500 });
    // The customer pays a smaller amount without entering the PIN again.
    const paid = await t.engine.transfer({ amount: 500 });
    expect(paid).toMatchObject({ status: 'completed', balances: { payer: 0 } });
    expect(t.balances()).toEqual({ payer: before.payer - 500, payee: before.payee + 500 });
  });

  it('keeps the owner logins after the card itself refuses with insufficient funds (9401)', async () => {
    // The payer's balance is masked (no PIN), so the terminal cannot refuse early: the card does.
    const t = makeTerminal({ payer: { balance: 500 } });
    await t.engine.login('payee', '1234');
    const before = t.balances();
    const refused = await t.engine.transfer({ amount: 501 });
    expect(refused).toMatchObject({
      status: 'refused',
      error: { code: 'E_INSUFFICIENT_FUNDS', details: { slot: 'payer', sw: 0x9401 } },
    });
    expect(t.balances()).toEqual(before);
    expect(await t.engine.readCard('payee')).toMatchObject({ ownerLoggedIn: true });
    expect(t.engine.openTransfers()).toEqual([]);
  });

  it('keeps the login after a wrong PIN and counts the try on the card', async () => {
    const t = makeTerminal();
    await t.engine.login('payee', '1234');
    await expect(t.engine.login('payer', '9999')).rejects.toMatchObject({
      code: 'E_PIN_WRONG',
      details: { slot: 'payer', triesLeft: 2 },
    });
    expect(await t.engine.readCard('payee')).toMatchObject({ ownerLoggedIn: true });
  });

  it('resets the cards after a transport failure: the logins end with the card sessions', async () => {
    const t = makeTerminal();
    await t.engine.login('payer', '1234');
    t.slots.stall('payee');
    const failed = await t.engine.readCard('payee').catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'E_TRANSPORT_TIMEOUT' });
    t.slots.clearFaults('payee');
    expect(await t.engine.readCard('payer')).toMatchObject({ ownerLoggedIn: false, balance: undefined });
  });
});
