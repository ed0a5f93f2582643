// The kiosk lock: the window may be left only with the operator's exit PIN. A wrong PIN counts; after
// five in a row the lock refuses every PIN for a minute (the count starts again after it). Checks run one
// at a time, so a flood of guesses cannot race past the count. The lock answers the IPC contract's
// kiosk channels (through KioskControl); the shell decides what leaving means (closing the app).
import { TerminalError } from '../../protocol/errors.js';
import type { KioskControl } from '../ipc/handlers.js';
import { checkExitPin, type ExitPinHash } from './kiosk-exit-pin.js';

export interface KioskLockOptions {
  exitPin: ExitPinHash;
  /** Called once, when the right PIN was given. */
  onExit: () => void;
  maxTries?: number;
  lockoutMs?: number;
  now?: () => number;
  check?: (pin: string, stored: ExitPinHash) => Promise<boolean>;
}

export const KIOSK_MAX_TRIES = 5;
export const KIOSK_LOCKOUT_MS = 60_000;

export function createKioskLock(o: KioskLockOptions): KioskControl {
  const maxTries = o.maxTries ?? KIOSK_MAX_TRIES;
  const lockoutMs = o.lockoutMs ?? KIOSK_LOCKOUT_MS;
  const now = o.now ?? Date.now;
  const check = o.check ?? checkExitPin;
  let wrong = 0;
  let lockedUntil = 0;
  let checking = false;
  let left = false;

  return {
    active: () => !left,
    async exit(pin) {
      if (left) return;
      if (checking) throw new TerminalError('E_BUSY', 'an exit PIN is being checked; try again');
      const wait = lockedUntil - now();
      if (wait > 0) {
        throw new TerminalError('E_PIN_BLOCKED', 'too many wrong exit PINs: wait before trying again', {
          retryAfterSeconds: Math.ceil(wait / 1000),
        });
      }
      checking = true;
      let right: boolean;
      try {
        right = await check(pin, o.exitPin);
      } finally {
        checking = false;
      }
      if (!right) {
        wrong += 1;
        const triesLeft = maxTries - wrong;
        if (triesLeft <= 0) {
          wrong = 0;
          lockedUntil = now() + lockoutMs;
        }
        throw new TerminalError('E_PIN_WRONG', 'wrong kiosk exit PIN', { triesLeft: Math.max(triesLeft, 0) });
      }
      left = true;
      o.onExit();
    },
  };
}
