// Whose owner login is open on each card: the screen that opened it; ended on the card and told to
// every screen after a sale, at the lock, when its screen goes; forgotten when the card leaves; a busy
// terminal is waited for, an absent card has nothing left to end.
import { describe, expect, it, vi } from 'vitest';
import { createOwnerLogins } from '../../../electron/services/settlement/owner-logins.js';
import type { SlotEvent } from '../../../electron/services/slots/reader-slots.js';
import { TerminalError } from '../../../protocol/errors.js';

function logins(logout: (slot: string) => Promise<void> = vi.fn(async (_slot: string) => undefined)) {
  const listeners = new Set<(e: SlotEvent) => void>();
  const slots = {
    on: (l: (e: SlotEvent) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const o = createOwnerLogins({ logout, slots, busyWaitMs: 1000 });
  const told: string[] = [];
  o.on((slot) => told.push(slot));
  const fire = (e: SlotEvent) => {
    for (const l of listeners) l(e);
  };
  return { o, logout, told, fire };
}

describe('owner logins', () => {
  it('belong to the screen that opened them', () => {
    const { o } = logins();
    expect(o.shownTo('payer', 'a')).toBe(true);
    o.opened('payer', 'a');
    expect(o.owner('payer')).toBe('a');
    expect(o.shownTo('payer', 'a')).toBe(true);
    expect(o.shownTo('payer', 'b')).toBe(false);
    expect(o.shownTo('payee', 'b')).toBe(true);
    o.opened('payer', 'b');
    expect(o.shownTo('payer', 'a')).toBe(false);
  });

  it('end on the card and tell every screen', async () => {
    const { o, logout, told } = logins();
    o.opened('payer', 'a');
    await o.end(['payer']);
    expect(vi.mocked(logout)).toHaveBeenCalledWith('payer');
    expect(o.owner('payer')).toBeUndefined();
    expect(told).toEqual(['payer']);
  });

  it('end with their screen, only theirs', async () => {
    const { o, logout } = logins();
    o.opened('payer', 'a');
    o.opened('payee', 'b');
    await o.screenGone('a');
    expect(vi.mocked(logout).mock.calls).toEqual([['payer']]);
    expect(o.owner('payee')).toBe('b');
  });

  it('are forgotten when the card leaves or comes, and when the reader service is lost', () => {
    const { o, fire } = logins();
    o.opened('payer', 'a');
    o.opened('payee', 'a');
    fire({ type: 'card-removed', slot: 'payer', reader: 'r' });
    expect(o.owner('payer')).toBeUndefined();
    expect(o.owner('payee')).toBe('a');
    fire({ type: 'service-lost', detail: 'pcscd' });
    expect(o.owner('payee')).toBeUndefined();
  });

  it('wait out another operation before ending, and give up quietly on an absent card', async () => {
    let calls = 0;
    const logout = vi.fn(async () => {
      calls += 1;
      if (calls < 3) throw new TerminalError('E_BUSY', 'another operation is running');
    });
    const { o, told } = logins(logout);
    o.opened('payer', 'a');
    await o.end(['payer']);
    expect(logout).toHaveBeenCalledTimes(3);
    const absent = logins(vi.fn(async () => Promise.reject(new TerminalError('E_CARD_ABSENT', 'no card'))));
    await absent.o.end(['payee']);
    expect(absent.told).toEqual(['payee']);
    expect(told).toEqual(['payer']);
  });
});
