// The idle lock's timer as pure logic on a fake clock.
import { describe, expect, it } from 'vitest';
import { createIdleLock, DEFAULT_IDLE_LOCK_MINUTES } from '../../../electron/services/operators/idle-lock.js';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('the idle lock', () => {
  it('locks exactly when the idle time has passed without activity', () => {
    const c = clock();
    const lock = createIdleLock({ idleMinutes: 3, now: c.now });
    expect(lock.msUntilLock()).toBe(180_000);
    c.advance(179_999);
    expect(lock.locked()).toBe(false);
    expect(lock.msUntilLock()).toBe(1);
    c.advance(1);
    expect(lock.locked()).toBe(true);
    expect(lock.msUntilLock()).toBe(0);
  });

  it('starts the countdown again on activity', () => {
    const c = clock();
    const lock = createIdleLock({ idleMinutes: 1, now: c.now });
    c.advance(50_000);
    lock.touch();
    c.advance(50_000);
    expect(lock.locked()).toBe(false);
    expect(lock.msUntilLock()).toBe(10_000);
  });

  it('stays locked on activity after it locked (even if nobody asked in between), until unlocked', () => {
    const c = clock();
    const lock = createIdleLock({ idleMinutes: 1, now: c.now });
    c.advance(61_000);
    lock.touch(); // the first look after the idle time: too late
    expect(lock.locked()).toBe(true);
    c.advance(1);
    expect(lock.locked()).toBe(true);
    lock.unlock();
    expect(lock.locked()).toBe(false);
    expect(lock.msUntilLock()).toBe(60_000);
  });

  it('locks by hand at once', () => {
    const c = clock();
    const lock = createIdleLock({ now: c.now });
    lock.lock();
    expect(lock.locked()).toBe(true);
    lock.touch();
    expect(lock.locked()).toBe(true);
    lock.unlock();
    expect(lock.locked()).toBe(false);
  });

  it('defaults to five minutes and refuses a time that is not positive', () => {
    const c = clock();
    expect(DEFAULT_IDLE_LOCK_MINUTES).toBe(5);
    expect(createIdleLock({ now: c.now }).msUntilLock()).toBe(300_000);
    for (const m of [0, -1, Number.NaN])
      expect(() => createIdleLock({ idleMinutes: m, now: c.now })).toThrow(RangeError);
  });
});
