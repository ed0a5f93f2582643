// Counting wrong PINs typed at the terminal (the kiosk exit PIN, operator sign-in and supervisor
// confirmations): a wrong PIN counts; after five in a row every PIN is refused for a minute (the count
// starts again after it); a right one clears the count. Checks run one at a time, so a flood of
// guesses cannot race past the count. The count is the terminal's, not a person's: guessing one
// operator's PIN and then another's gains nothing.
//
// With a store (the terminal's database), the count outlives the process, and a try is counted before
// its PIN is checked, as a card counts its PIN tries: neither a restart nor a process killed while a
// PIN is being checked gives anyone more than five guesses a minute.
import type { PinCount, PinCountStore } from '../../../db/pin-attempt-store.js';
import { TerminalError } from '../../../protocol/errors.js';

export const PIN_MAX_TRIES = 5;
export const PIN_LOCKOUT_MS = 60_000;

export interface PinAttemptsOptions {
  /** The PIN's name in refusals: "kiosk exit PIN", "operator PIN". */
  what: string;
  maxTries?: number;
  lockoutMs?: number;
  now?: () => number;
  /** Where the count lives between processes (absent: in memory only). */
  store?: PinCountStore;
}

export interface PinAttempts {
  /**
   * Runs one PIN check. Returns when it says right; throws E_PIN_WRONG (with triesLeft) when it says
   * wrong, E_PIN_BLOCKED (with retryAfterSeconds) while locked out without checking, E_BUSY while
   * another check runs.
   */
  attempt(check: () => Promise<boolean>): Promise<void>;
}

export function createPinAttempts(o: PinAttemptsOptions): PinAttempts {
  const maxTries = o.maxTries ?? PIN_MAX_TRIES;
  const lockoutMs = o.lockoutMs ?? PIN_LOCKOUT_MS;
  const now = o.now ?? Date.now;
  let memory: PinCount = { wrong: 0, lockedUntil: 0 };
  const load = (): PinCount => o.store?.load() ?? memory;
  const save = (count: PinCount): void => {
    memory = count;
    o.store?.save(count);
  };
  let checking = false;

  const blocked = (wait: number) =>
    new TerminalError('E_PIN_BLOCKED', `too many wrong ${o.what}s: wait before trying again`, {
      retryAfterSeconds: Math.ceil(wait / 1000),
    });

  return {
    async attempt(check) {
      if (checking) throw new TerminalError('E_BUSY', 'a PIN is being checked; try again');
      const count = load();
      const t = now();
      if (count.lockedUntil > t) {
        // A lockout never lasts longer than lockoutMs from now, whatever the clock did since it began.
        const until = Math.min(count.lockedUntil, t + lockoutMs);
        if (until !== count.lockedUntil) save({ wrong: 0, lockedUntil: until });
        throw blocked(until - t);
      }
      if (count.wrong >= maxTries) {
        // The last try of a run was counted and never answered (the process stopped while checking).
        save({ wrong: 0, lockedUntil: t + lockoutMs });
        throw blocked(lockoutMs);
      }
      const tries = count.wrong + 1;
      save({ wrong: tries, lockedUntil: 0 });
      checking = true;
      let right: boolean;
      try {
        right = await check();
      } catch (e) {
        // No answer: the try is not held against anyone.
        save({ wrong: tries - 1, lockedUntil: 0 });
        throw e;
      } finally {
        checking = false;
      }
      if (right) {
        save({ wrong: 0, lockedUntil: 0 });
        return;
      }
      const triesLeft = maxTries - tries;
      if (triesLeft <= 0) save({ wrong: 0, lockedUntil: now() + lockoutMs });
      throw new TerminalError('E_PIN_WRONG', `wrong ${o.what}`, { triesLeft: Math.max(triesLeft, 0) });
    },
  };
}
