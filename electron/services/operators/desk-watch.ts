// The operator desk as the main process runs it: the same desk (operator-desk.ts), plus listeners
// told of every change of who is at the terminal — a sign-in, a sign-out, the Lock button, and the
// idle lock when its time runs out. The idle lock is the desk's own pure clock; this only looks at it
// once a second (a timer that keeps no process alive), so every window learns of the lock from the
// main process, whatever any window's own timers do.
import type { DeskState, OperatorDesk } from './operator-desk.js';

export interface WatchedDesk extends OperatorDesk {
  /** Every change of state; returns the unsubscribe function. */
  on(listener: (state: DeskState) => void): () => void;
  /** Looks at the idle clock now (the timer does this once a second). */
  check(): void;
  close(): void;
}

/** Two states alike for the screen: the same kind and the same operator. */
function sameState(a: DeskState, b: DeskState): boolean {
  if (a.state !== b.state) return false;
  return a.state === 'signed-out' || a.operator.id === (b as typeof a).operator.id;
}

export function watchDesk(desk: OperatorDesk, o: { pollMs?: number } = {}): WatchedDesk {
  const listeners = new Set<(state: DeskState) => void>();
  let last = desk.state();
  const check = () => {
    const now = desk.state();
    if (sameState(now, last)) return;
    last = now;
    for (const l of [...listeners]) {
      try {
        l(now);
      } catch {
        // a listener's failure is its own
      }
    }
  };
  const timer = setInterval(check, o.pollMs ?? 1000);
  timer.unref();
  return {
    operators: () => desk.operators(),
    state: () => desk.state(),
    async signIn(id, pin) {
      const operator = await desk.signIn(id, pin);
      // Always told, even when the same operator signs in again after the lock.
      last = { state: 'signed-out' };
      check();
      return operator;
    },
    signOut() {
      desk.signOut();
      check();
    },
    lock() {
      desk.lock();
      check();
    },
    touch: () => desk.touch(),
    async authorize(permission, confirmation) {
      try {
        return await desk.authorize(permission, confirmation);
      } finally {
        check();
      }
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    check,
    close() {
      clearInterval(timer);
      listeners.clear();
    },
  };
}
