// Counting wrong PINs typed at the terminal (the kiosk exit PIN, operator sign-in and supervisor
// confirmations): a wrong PIN counts; after five in a row every PIN is refused for a minute (the count
// starts again after it); a right one clears the count. Checks run one at a time, so a flood of
// guesses cannot race past the count. The count is the terminal's, not a person's: guessing one
// operator's PIN and then another's gains nothing.
import { TerminalError } from '../../../protocol/errors.js';

export const PIN_MAX_TRIES = 5;
export const PIN_LOCKOUT_MS = 60_000;

export interface PinAttemptsOptions {
  /** The PIN's name in refusals: "kiosk exit PIN", "operator PIN". */
  what: string;
  maxTries?: number;
  lockoutMs?: number;
  now?: () => number;
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
  let wrong = 0;
  let lockedUntil = 0;
  let checking = false;

  return {
    async attempt(check) {
      if (checking) throw new TerminalError('E_BUSY', 'a PIN is being checked; try again');
      const wait = lockedUntil - now();
      if (wait > 0) {
        throw new TerminalError('E_PIN_BLOCKED', `too many wrong ${o.what}s: wait before trying again`, {
          retryAfterSeconds: Math.ceil(wait / 1000),
        });
      }
      checking = true;
      let right: boolean;
      try {
        right = await check();
      } finally {
        checking = false;
      }
      if (right) {
        wrong = 0;
        return;
      }
      wrong += 1;
      const triesLeft = maxTries - wrong;
      if (triesLeft <= 0) {
        wrong = 0;
        lockedUntil = now() + lockoutMs;
      }
      throw new TerminalError('E_PIN_WRONG', `wrong ${o.what}`, { triesLeft: Math.max(triesLeft, 0) });
    },
  };
}
