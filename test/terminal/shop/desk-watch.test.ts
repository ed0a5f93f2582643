// The desk as the main process runs it: every change of who is at the terminal told to listeners —
// sign-in, sign-out, Lock, and the idle lock found by the desk's own clock.
import { describe, expect, it } from 'vitest';
import { watchDesk } from '../../../electron/services/operators/desk-watch.js';
import { createOperatorDesk } from '../../../electron/services/operators/operator-desk.js';
import { hashPin } from '../../../electron/services/operators/pin-hash.js';

const cost = { logN: 10, r: 8, p: 1 };
function desk() {
  const clock = { now: 0 };
  const d = watchDesk(
    createOperatorDesk({
      operators: [{ id: 'casey', name: 'Casey', role: 'cashier', pinHash: hashPin('1111', 'pin', cost) }],
      idleLockMinutes: 1,
      now: () => clock.now,
    }),
    { pollMs: 60_000 },
  );
  const told: string[] = [];
  d.on((s) => told.push(s.state));
  return { d, clock, told };
}

describe('the watched desk', () => {
  it('tells a sign-in, the idle lock when its clock runs out, a sign-in again, and a sign-out', async () => {
    const { d, clock, told } = desk();
    await d.signIn('casey', '1111');
    clock.now += 30_000;
    d.check();
    clock.now += 30_000;
    d.check();
    d.check();
    await d.signIn('casey', '1111');
    d.signOut();
    expect(told).toEqual(['signed-in', 'locked', 'signed-in', 'signed-out']);
    d.close();
  });

  it('tells nothing for a wrong PIN, and the Lock button at once', async () => {
    const { d, told } = desk();
    await expect(d.signIn('casey', '2222')).rejects.toMatchObject({ code: 'E_PIN_WRONG' });
    expect(told).toEqual([]);
    await d.signIn('casey', '1111');
    d.lock();
    expect(told).toEqual(['signed-in', 'locked']);
    d.close();
  });
});
