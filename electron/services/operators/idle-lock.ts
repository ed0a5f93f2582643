// The lock screen's timer as pure logic: the screen locks when no operator activity was seen for the
// configured minutes. Time comes from the clock given (a fake one in tests), never from timers here;
// the caller asks `msUntilLock()` to know when to look again.

export const DEFAULT_IDLE_LOCK_MINUTES = 5;

export interface IdleLock {
  /** Operator activity (a key, a click, a completed operation): the countdown starts again. */
  touch(): void;
  /** True from the moment the idle time ran out until `unlock()`; activity does not unlock. */
  locked(): boolean;
  /** Milliseconds until it locks (0 when locked). */
  msUntilLock(): number;
  /** Locks now (the operator walks away and presses Lock). */
  lock(): void;
  /** After a successful sign-in: unlocked, countdown from now. */
  unlock(): void;
}

export function createIdleLock(o: { idleMinutes?: number; now?: () => number }): IdleLock {
  const idleMs = (o.idleMinutes ?? DEFAULT_IDLE_LOCK_MINUTES) * 60_000;
  if (!Number.isFinite(idleMs) || idleMs <= 0) throw new RangeError('the idle time must be positive');
  const now = o.now ?? Date.now;
  let lastActivity = now();
  let lockedByHand = false;
  const expired = () => now() - lastActivity >= idleMs;
  let latched = false;
  const locked = () => {
    if (!latched && (lockedByHand || expired())) latched = true;
    return latched;
  };
  return {
    touch() {
      if (!locked()) lastActivity = now();
    },
    locked,
    msUntilLock() {
      return locked() ? 0 : Math.max(0, lastActivity + idleMs - now());
    },
    lock() {
      lockedByHand = true;
      latched = true;
    },
    unlock() {
      lockedByHand = false;
      latched = false;
      lastActivity = now();
    },
  };
}
