// The operator's kiosk exit PIN, kept in the terminal configuration as a salted scrypt hash, never as
// the PIN (`npm run kiosk-pin` prints one). The hashing is shared with the operators' PINs
// (electron/services/operators/pin-hash.ts); this module names it for the kiosk.
import {
  checkPin,
  DEFAULT_COST,
  hashPin,
  PIN_PATTERN,
  type PinHash,
  parsePinHash,
  type ScryptCost,
} from '../services/operators/pin-hash.js';

export { DEFAULT_COST };
export type ExitPinHash = PinHash;

/** The same rule as the contract's kiosk:exit request. */
export const EXIT_PIN_PATTERN = PIN_PATTERN;

export function hashExitPin(pin: string, cost?: ScryptCost, salt?: Uint8Array): string {
  return hashPin(pin, 'the kiosk exit PIN', cost, salt);
}

export function parseExitPinHash(text: string): ExitPinHash {
  return parsePinHash(text, 'kiosk.exitPinHash', 'npm run kiosk-pin');
}

/** True when the PIN derives the stored hash. A PIN of the wrong form is simply not the PIN. */
export const checkExitPin = checkPin;
