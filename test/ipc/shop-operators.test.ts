// Operators over the contract, with the demo shop's real services: nothing but the sign-in until
// someone signs in; roles enforced in the main process whatever a screen sends (a cashier's raw call
// for a supervisor's action is refused and changes nothing); the idle lock decided by the main
// process; every flow journaled with its operator. And the customer's owner login: shown only to the
// screen that opened it, ended after a sale, kept after a refusal, ended when its screen goes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PIN, type ShopTerminal, startShopTerminal } from '../support/shop-terminal.js';

let t: ShopTerminal;
const A = 'screen-a';
const B = 'screen-b';

beforeEach(async () => {
  t = await startShopTerminal();
});
afterEach(async () => {
  await t.close();
});

const cardStates = () =>
  JSON.stringify({ alice: t.cards.alice!.store.read(), shop: t.cards.shop!.store.read() });

describe('operator sign-in and roles', () => {
  it('answers nothing of the cards or the log before someone signs in', async () => {
    expect(await t.ok(A, 'operator:status', {})).toEqual({ state: 'signed-out' });
    expect(await t.call(A, 'slots:status', {})).toMatchObject({ ok: true });
    for (const [channel, payload] of [
      ['cards:read', { slot: 'payer' }],
      ['contents:list', { slot: 'payer' }],
      ['log:page', { limit: 10 }],
      ['transfer:run', { amount: 100 }],
      ['tray:move', { card: 'alice', to: 'tray' }],
    ] as const) {
      expect(await t.call(A, channel, payload as never), channel).toMatchObject({
        ok: false,
        error: { code: 'E_ACCESS_DENIED', details: { reason: 'signed-out' } },
      });
    }
    expect(t.services.flows.all()).toEqual([]);
    expect(t.slots.card('payer')).toBeDefined();
  });

  it('refuses a wrong PIN and an unknown operator alike, and stays signed out', async () => {
    for (const operatorId of ['casey', 'nobody']) {
      expect(await t.call(A, 'operator:sign-in', { operatorId, pin: '2222' })).toMatchObject({
        ok: false,
        error: { code: 'E_PIN_WRONG' },
      });
    }
    expect(await t.ok(A, 'operator:status', {})).toEqual({ state: 'signed-out' });
    expect(await t.ok(A, 'operator:sign-in', { operatorId: 'casey', pin: PIN.casey })).toMatchObject({
      state: 'signed-in',
      operator: { id: 'casey', name: 'Casey', role: 'cashier' },
    });
  });

  it('refuses a cashier’s raw calls for a supervisor’s actions, changing nothing', async () => {
    await t.signIn('casey');
    const before = cardStates();
    const flows = t.services.flows.all().length;
    const supervisorOnly = [
      ['keys:update', {}],
      ['crl:refresh', {}],
      ['pin:unblock', { slot: 'payer', unblockCode: '12345678', newPin: '4321' }],
      ['items:alter', { slot: 'payer', itemId: 'AB'.repeat(16), bodyText: 'seat A1' }],
      ['session:authenticate', { payerMode: 'issuer' }],
    ] as const;
    for (const [channel, payload] of supervisorOnly) {
      expect(await t.call(A, channel, payload as never), channel).toMatchObject({
        ok: false,
        error: { code: 'E_ACCESS_DENIED', details: { reason: 'supervisor-pin-needed' } },
      });
    }
    expect(cardStates()).toBe(before);
    expect(t.services.flows.all()).toHaveLength(flows);
    // What a cashier may do goes through.
    expect(await t.call(A, 'session:authenticate', {})).toMatchObject({ ok: true });
    expect(await t.call(A, 'recovery:run', {})).toMatchObject({ ok: true });
  });

  it('lets a supervisor do them', async () => {
    await t.signIn('sam');
    expect(await t.call(A, 'keys:update', {})).toMatchObject({ ok: true });
    expect(await t.call(A, 'session:authenticate', { payerMode: 'issuer' })).toMatchObject({ ok: true });
  });

  it('journals every flow with the operator who ran it', async () => {
    await t.signIn('casey');
    await t.ok(A, 'transfer:run', { amount: 1_00 }); // with a key update first (Alice's key is older)
    await t.ok(A, 'items:issue', { type: 'coupon', label: 'Free coffee' });
    const opening = t.services.flows.all().map((f) => t.services.journal.entriesForFlow(f.flowId)[0]!);
    expect(opening.map((e) => [e.flowKind, e.step])).toEqual(
      expect.arrayContaining([
        ['key-update', 'planned'],
        ['value-transfer', 'started'],
        ['admin', 'issue-requested'],
      ]),
    );
    for (const e of opening) expect(e.payload.operator, `${e.flowKind} ${e.step}`).toBe('casey');
  });

  it('locks every screen when the idle time runs out, decided by the main process, and ends the customer’s login', async () => {
    await t.signIn('casey');
    await t.ok(A, 'session:login', { slot: 'payer', pin: PIN.alice });
    const told: string[] = [];
    t.services.desk?.on((s) => told.push(s.state));
    t.services.ownerLogins.on((slot) => told.push(`logout ${slot}`));
    t.clock.now += 5 * 60_000;
    t.services.desk?.check();
    await expect.poll(() => told).toEqual(expect.arrayContaining(['locked', 'logout payer']));
    for (const screen of [A, B]) {
      expect(await t.call(screen, 'cards:read', { slot: 'payer' })).toMatchObject({
        ok: false,
        error: { code: 'E_ACCESS_DENIED', details: { reason: 'locked' } },
      });
    }
    expect(await t.ok(A, 'operator:status', {})).toMatchObject({
      state: 'locked',
      operator: { id: 'casey' },
    });
    await t.signIn('casey');
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({
      ownerLoggedIn: false,
      balance: undefined,
    });
  });

  it('keeps the lock away while the screen reports activity', async () => {
    await t.signIn('casey');
    t.clock.now += 4 * 60_000;
    await t.ok(A, 'operator:activity', {});
    t.clock.now += 4 * 60_000;
    expect(await t.ok(A, 'operator:status', {})).toMatchObject({ state: 'signed-in' });
  });
});

describe('the customer’s owner login', () => {
  beforeEach(async () => {
    await t.signIn('casey');
  });

  it('is shown only to the screen that opened it', async () => {
    expect(await t.ok(A, 'session:login', { slot: 'payer', pin: PIN.alice })).toMatchObject({
      ownerLoggedIn: true,
      balance: 200_00,
    });
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({
      ownerLoggedIn: true,
      balance: 200_00,
    });
    const other = await t.ok(B, 'cards:read', { slot: 'payer' });
    expect(other.ownerLoggedIn).toBe(false);
    expect(other.balance).toBeUndefined();
    expect(other.availableBalance).toBeUndefined();
    expect((await t.ok(B, 'contents:list', { slot: 'payer' })).access.owner).toBe(false);
  });

  it('ends when the screen that opened it goes (a closed tab, a reload)', async () => {
    await t.ok(A, 'session:login', { slot: 'payer', pin: PIN.alice });
    await t.services.ownerLogins.screenGone(A);
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({
      ownerLoggedIn: false,
      balance: undefined,
    });
  });

  it('ends after a sale, and stays after a refusal', async () => {
    await t.ok(A, 'session:login', { slot: 'payer', pin: PIN.alice });
    expect(await t.ok(A, 'transfer:run', { amount: 300_00 })).toMatchObject({
      status: 'refused',
      error: { code: 'E_INSUFFICIENT_FUNDS' },
    });
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({ ownerLoggedIn: true });
    const paid = await t.ok(A, 'transfer:run', { amount: 12_50 });
    expect(paid).toMatchObject({ status: 'completed', balances: { payer: 187_50 } });
    // The receipt of the screen that ran it shows the balance the customer's own login showed.
    expect(paid.status === 'completed' && paid.receipt?.body).toContainEqual({
      label: 'Customer balance',
      value: '€187.50',
    });
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({
      ownerLoggedIn: false,
      balance: undefined,
    });
    // Another screen's copy of the receipt has no balance.
    const flowId = paid.status === 'completed' ? paid.flowId : '';
    const theirs = await t.ok(B, 'receipts:get', { flowId });
    expect(theirs.body.map((r) => r.label)).not.toContain('Customer balance');
  });

  it('ends when the card leaves its slot', async () => {
    await t.ok(A, 'session:login', { slot: 'payer', pin: PIN.alice });
    await t.ok(A, 'tray:move', { card: 'alice', to: 'tray' });
    await t.ok(A, 'tray:move', { card: 'alice', to: 'payer' });
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({
      ownerLoggedIn: false,
      balance: undefined,
    });
    expect(t.services.ownerLogins.owner('payer')).toBeUndefined();
  });
});
