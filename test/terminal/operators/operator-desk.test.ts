// Operator sign-in as an adversary at the counter would try it: wrong PINs, unknown IDs, guessing one
// operator after another, two checks at once, a cashier reaching for a supervisor's action, a supervisor
// confirmation reused for a second action, a screen left alone.
import { describe, expect, it } from 'vitest';
import type { OperatorEntry } from '../../../electron/services/operators/operator-config.js';
import {
  createOperatorDesk,
  type OperatorDeskOptions,
} from '../../../electron/services/operators/operator-desk.js';
import { PERMISSION_TABLE, PERMISSIONS } from '../../../electron/services/operators/operator-roles.js';
import { checkPin, hashPin } from '../../../electron/services/operators/pin-hash.js';

const CHEAP = { logN: 10, r: 8, p: 1 };
const OPERATORS: OperatorEntry[] = [
  { id: 'ana', name: 'Ana', role: 'cashier', pinHash: hashPin('1357', 'pin', CHEAP) },
  { id: 'ben', name: 'Ben', role: 'cashier', pinHash: hashPin('2468', 'pin', CHEAP) },
  { id: 'sue', name: 'Sue', role: 'supervisor', pinHash: hashPin('97531', 'pin', CHEAP) },
];

function desk(extra: Partial<OperatorDeskOptions> = {}) {
  let t = 5_000_000;
  const checked: string[] = [];
  const d = createOperatorDesk({
    operators: OPERATORS,
    idleLockMinutes: 2,
    now: () => t,
    check: async (pin, stored) => {
      checked.push(pin);
      return checkPin(pin, stored);
    },
    ...extra,
  });
  return { d, checked, advance: (ms: number) => (t += ms) };
}

async function refusal(p: Promise<unknown>) {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as { code: string; message: string; details: Record<string, unknown> },
  );
}

describe('operator sign-in', () => {
  it('lists the operators without their PIN hashes, and starts signed out', () => {
    const { d } = desk();
    expect(d.operators()).toEqual([
      { id: 'ana', name: 'Ana', role: 'cashier' },
      { id: 'ben', name: 'Ben', role: 'cashier' },
      { id: 'sue', name: 'Sue', role: 'supervisor' },
    ]);
    expect(JSON.stringify(d.operators())).not.toContain('scrypt');
    expect(d.state()).toEqual({ state: 'signed-out' });
  });

  it('signs in with the right PIN and no other; a wrong one leaves the state as it was', async () => {
    const { d } = desk();
    expect(await refusal(d.signIn('ana', '2468'))).toMatchObject({
      code: 'E_PIN_WRONG',
      details: { triesLeft: 4 },
    });
    expect(d.state()).toEqual({ state: 'signed-out' });
    expect(await d.signIn('ana', '1357')).toEqual({ id: 'ana', name: 'Ana', role: 'cashier' });
    expect(d.state()).toMatchObject({ state: 'signed-in', operator: { id: 'ana' } });
    // A failed switch to another operator keeps Ana signed in.
    expect(await refusal(d.signIn('sue', '1357'))).toMatchObject({ code: 'E_PIN_WRONG' });
    expect(d.state()).toMatchObject({ state: 'signed-in', operator: { id: 'ana' } });
    d.signOut();
    expect(d.state()).toEqual({ state: 'signed-out' });
  });

  it('answers an unknown ID exactly like a wrong PIN, after the same scrypt work', async () => {
    const { d, checked } = desk();
    const unknown = await refusal(d.signIn('mallory', '1357'));
    const wrong = await refusal(d.signIn('ana', '0000'));
    expect(unknown.code).toBe('E_PIN_WRONG');
    expect(unknown.message).toBe(wrong.message);
    expect(unknown.details).toEqual({ triesLeft: 4 });
    expect(wrong.details).toEqual({ triesLeft: 3 });
    expect(checked).toEqual(['1357', '0000']);
    expect(d.state()).toEqual({ state: 'signed-out' });
  });

  it('locks every sign-in for a minute after five wrong PINs in a row, over all operators', async () => {
    const { d, advance, checked } = desk();
    const ids = ['ana', 'ben', 'sue', 'ana', 'nobody'];
    for (const [i, id] of ids.entries()) {
      expect(await refusal(d.signIn(id, '0000'))).toMatchObject({
        code: 'E_PIN_WRONG',
        details: { triesLeft: 4 - i },
      });
    }
    const before = checked.length;
    expect(await refusal(d.signIn('ana', '1357'))).toMatchObject({
      code: 'E_PIN_BLOCKED',
      details: { retryAfterSeconds: 60 },
    });
    expect(checked.length).toBe(before); // not even derived while locked out
    advance(59_000);
    expect(await refusal(d.signIn('sue', '97531'))).toMatchObject({ details: { retryAfterSeconds: 1 } });
    expect(d.state()).toEqual({ state: 'signed-out' });
    advance(1_000);
    await d.signIn('ana', '1357');
    expect(d.state()).toMatchObject({ state: 'signed-in', operator: { id: 'ana' } });
  });

  it('clears the count after a right PIN', async () => {
    const { d } = desk();
    for (let i = 0; i < 4; i++) await refusal(d.signIn('ana', '0000'));
    await d.signIn('ana', '1357');
    expect(await refusal(d.signIn('ana', '0000'))).toMatchObject({ details: { triesLeft: 4 } });
  });

  it('checks one PIN at a time: a second check while one runs is refused as busy, not counted', async () => {
    let release: () => void = () => {};
    const { d } = desk({
      check: () =>
        new Promise<boolean>((r) => {
          release = () => r(false);
        }),
    });
    const first = refusal(d.signIn('ana', '1111'));
    expect(await refusal(d.signIn('ana', '2222'))).toMatchObject({ code: 'E_BUSY' });
    release();
    expect(await first).toMatchObject({ code: 'E_PIN_WRONG', details: { triesLeft: 4 } });
  });

  it('refuses a configuration with a repeated ID or a malformed hash', () => {
    const first = OPERATORS[0]!;
    expect(() => createOperatorDesk({ operators: [first, { ...first, name: 'Other' }] })).toThrow(/twice/);
    expect(() => createOperatorDesk({ operators: [{ ...first, pinHash: 'scrypt$15$8$1$abc$def' }] })).toThrow(
      /operators\.ana\.pinHash/,
    );
  });
});

describe('permissions', () => {
  it('lets nobody do anything while signed out', async () => {
    const { d } = desk();
    for (const p of PERMISSIONS) {
      expect(await refusal(d.authorize(p)), p).toMatchObject({
        code: 'E_ACCESS_DENIED',
        details: { permission: p, reason: 'signed-out' },
      });
    }
  });

  it("gives a cashier the shop's day and refuses the supervisor's actions", async () => {
    const { d } = desk();
    await d.signIn('ana', '1357');
    for (const p of ['sale', 'exchange', 'item-send', 'issue', 'recover'] as const) {
      expect(await d.authorize(p)).toEqual({
        permission: p,
        operator: { id: 'ana', name: 'Ana', role: 'cashier' },
      });
    }
    for (const p of ['refund', 'key-update', 'crl', 'pin-unblock', 'issuer-session', 'close-day'] as const) {
      expect(await refusal(d.authorize(p)), p).toMatchObject({
        code: 'E_ACCESS_DENIED',
        details: { permission: p, reason: 'supervisor-pin-needed' },
      });
    }
  });

  it('gives a signed-in supervisor everything but a refund, which needs the PIN again each time', async () => {
    const { d } = desk();
    await d.signIn('sue', '97531');
    for (const p of PERMISSIONS.filter((p) => p !== 'refund')) {
      expect((await d.authorize(p)).operator.id, p).toBe('sue');
    }
    expect(await refusal(d.authorize('refund'))).toMatchObject({
      details: { reason: 'supervisor-pin-needed' },
    });
    const approval = await d.authorize('refund', { supervisorId: 'sue', pin: '97531' });
    expect(approval).toEqual({
      permission: 'refund',
      operator: { id: 'sue', name: 'Sue', role: 'supervisor' },
      confirmedBy: { id: 'sue', name: 'Sue', role: 'supervisor' },
    });
  });

  it("approves one cashier's refund with a supervisor's PIN, for that action only", async () => {
    const { d } = desk();
    await d.signIn('ana', '1357');
    const approval = await d.authorize('refund', { supervisorId: 'sue', pin: '97531' });
    expect(approval).toMatchObject({ operator: { id: 'ana' }, confirmedBy: { id: 'sue' } });
    // Nobody was signed in by it, and the next refund needs the PIN again.
    expect(d.state()).toMatchObject({ state: 'signed-in', operator: { id: 'ana', role: 'cashier' } });
    expect(await refusal(d.authorize('refund'))).toMatchObject({ code: 'E_ACCESS_DENIED' });
    expect(await refusal(d.authorize('key-update'))).toMatchObject({ code: 'E_ACCESS_DENIED' });
  });

  it("refuses a cashier's PIN as a confirmation without checking it, and a supervisor's wrong PIN counts", async () => {
    const { d, checked } = desk();
    await d.signIn('ana', '1357');
    checked.length = 0;
    expect(await refusal(d.authorize('refund', { supervisorId: 'ben', pin: '2468' }))).toMatchObject({
      code: 'E_ACCESS_DENIED',
      details: { reason: 'not-a-supervisor' },
    });
    expect(await refusal(d.authorize('refund', { supervisorId: 'ana', pin: '1357' }))).toMatchObject({
      details: { reason: 'not-a-supervisor' },
    });
    expect(checked).toEqual([]);
    expect(await refusal(d.authorize('refund', { supervisorId: 'sue', pin: '1357' }))).toMatchObject({
      code: 'E_PIN_WRONG',
      details: { triesLeft: 4 },
    });
    expect(await refusal(d.authorize('refund', { supervisorId: 'ghost', pin: '1357' }))).toMatchObject({
      code: 'E_PIN_WRONG',
      details: { triesLeft: 3 },
    });
    expect(d.state()).toMatchObject({ state: 'signed-in', operator: { id: 'ana' } });
  });

  it('refuses an operation name that is not in the table', async () => {
    const { d } = desk();
    await d.signIn('sue', '97531');
    expect(await refusal(d.authorize('mint-money' as never))).toMatchObject({
      code: 'E_ACCESS_DENIED',
      details: { reason: 'unknown-permission' },
    });
  });

  it('has a rule with a description for every permission, and refunds only for supervisors', () => {
    expect(Object.keys(PERMISSION_TABLE).sort()).toEqual([...PERMISSIONS].sort());
    expect(PERMISSION_TABLE.refund).toMatchObject({ roles: ['supervisor'], supervisorPinEachTime: true });
  });
});

describe('the idle lock of the desk', () => {
  it('locks after the idle minutes, refuses every action until a sign-in, and any operator may sign in', async () => {
    const { d, advance } = desk();
    await d.signIn('ana', '1357');
    advance(119_000);
    expect(d.state()).toMatchObject({ state: 'signed-in', msUntilLock: 1_000 });
    await d.authorize('sale'); // activity
    advance(119_000);
    expect(d.state()).toMatchObject({ state: 'signed-in' });
    advance(1_000);
    expect(d.state()).toEqual({ state: 'locked', operator: { id: 'ana', name: 'Ana', role: 'cashier' } });
    d.touch();
    expect(d.state()).toMatchObject({ state: 'locked' });
    expect(await refusal(d.authorize('sale'))).toMatchObject({ details: { reason: 'locked' } });
    await d.signIn('ben', '2468');
    expect(d.state()).toMatchObject({ state: 'signed-in', operator: { id: 'ben' }, msUntilLock: 120_000 });
  });

  it('locks at once when Lock is pressed', async () => {
    const { d } = desk();
    await d.signIn('sue', '97531');
    d.lock();
    expect(d.state()).toMatchObject({ state: 'locked', operator: { id: 'sue' } });
    expect(await refusal(d.authorize('crl'))).toMatchObject({ details: { reason: 'locked' } });
  });
});
