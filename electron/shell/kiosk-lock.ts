// The kiosk lock: the window may be left only with the operator's exit PIN. A wrong PIN counts; after
// five in a row the lock refuses every PIN for a minute (the count starts again after it). Checks run one
// at a time, so a flood of guesses cannot race past the count (electron/services/operators/pin-attempts.ts).
// The lock answers the IPC contract's kiosk channels (through KioskControl); the shell decides what
// leaving means (closing the app).
import type { PinCountStore } from '../../db/pin-attempt-store.js';
import type { KioskControl } from '../ipc/handlers.js';
import { createPinAttempts, PIN_LOCKOUT_MS, PIN_MAX_TRIES } from '../services/operators/pin-attempts.js';
import { checkExitPin, type ExitPinHash } from './kiosk-exit-pin.js';

export interface KioskLockOptions {
  exitPin: ExitPinHash;
  /** Called once, when the right PIN was given. */
  onExit: () => void;
  maxTries?: number;
  lockoutMs?: number;
  now?: () => number;
  check?: (pin: string, stored: ExitPinHash) => Promise<boolean>;
  /** Where the count lives between runs (the terminal's database), so a restart buys no guesses. */
  store?: PinCountStore;
}

export const KIOSK_MAX_TRIES = PIN_MAX_TRIES;
export const KIOSK_LOCKOUT_MS = PIN_LOCKOUT_MS;

export function createKioskLock(o: KioskLockOptions): KioskControl {
  const check = o.check ?? checkExitPin;
  const attempts = createPinAttempts({
    what: 'kiosk exit PIN',
    ...(o.maxTries !== undefined ? { maxTries: o.maxTries } : {}),
    ...(o.lockoutMs !== undefined ? { lockoutMs: o.lockoutMs } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(o.store ? { store: o.store } : {}),
  });
  let left = false;

  return {
    active: () => !left,
    async exit(pin) {
      if (left) return;
      await attempts.attempt(() => check(pin, o.exitPin));
      left = true;
      o.onExit();
    },
  };
}
