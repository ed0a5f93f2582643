// PINs of the people at the terminal (the kiosk exit PIN, each operator's PIN) kept as salted scrypt
// hashes, never as PINs: `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (salt and hash base64url). Checking
// derives the hash again from the PIN given and compares in constant time.
import { timingSafeEqual } from 'node:crypto';
import { scrypt, scryptAsync } from '@noble/hashes/scrypt.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { errorMessage, TerminalError } from '../../../protocol/errors.js';

/** 4 to 12 digits: the same rule as the contract's PIN requests. */
export const PIN_PATTERN = /^\d{4,12}$/;

export interface PinHash {
  logN: number;
  r: number;
  p: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

export interface ScryptCost {
  logN: number;
  r: number;
  p: number;
}

/** 2^15 × 8 × 128 bytes = 32 MiB and a fraction of a second per check: slow to guess, quick to type. */
export const DEFAULT_COST = { logN: 15, r: 8, p: 1 } as const;
const LIMITS = { logN: [10, 20], r: [1, 32], p: [1, 4] } as const;
const HASH_BYTES = 32;
const SALT_BYTES = 16;

/**
 * The stored form of `pin`. `what` names the PIN in the refusal ("the kiosk exit PIN").
 */
export function hashPin(
  pin: string,
  what: string,
  cost: ScryptCost = DEFAULT_COST,
  salt: Uint8Array = randomBytes(SALT_BYTES),
): string {
  if (!PIN_PATTERN.test(pin)) throw new TerminalError('E_INPUT_INVALID', `${what} must be 4 to 12 digits`);
  checkCost(cost);
  const hash = scrypt(pin, salt, { N: 2 ** cost.logN, r: cost.r, p: cost.p, dkLen: HASH_BYTES });
  return ['scrypt', cost.logN, cost.r, cost.p, b64(salt), b64(hash)].join('$');
}

/**
 * Reads a stored hash. `field` and `tool` name where it came from and what makes one, for the refusal
 * ("kiosk.exitPinHash", "npm run kiosk-pin").
 */
export function parsePinHash(text: string, field: string, tool: string): PinHash {
  const fail = (why: string): never => {
    throw new TerminalError('E_INPUT_INVALID', `${field} ${why} (make one with ${tool})`);
  };
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') fail('is not scrypt$logN$r$p$salt$hash');
  const [logN, r, p] = parts.slice(1, 4).map((n) => (/^\d{1,2}$/.test(n ?? '') ? Number(n) : Number.NaN));
  const salt = unb64(parts[4] ?? '');
  const hash = unb64(parts[5] ?? '');
  if (salt === undefined || salt.length < SALT_BYTES) fail(`needs a salt of at least ${SALT_BYTES} bytes`);
  if (hash === undefined || hash.length !== HASH_BYTES) fail(`needs a ${HASH_BYTES}-byte hash`);
  const cost = { logN: logN ?? Number.NaN, r: r ?? Number.NaN, p: p ?? Number.NaN };
  try {
    checkCost(cost);
  } catch (e) {
    fail(errorMessage(e));
  }
  return { ...cost, salt: salt as Uint8Array, hash: hash as Uint8Array };
}

/** True when the PIN derives the stored hash. A PIN of the wrong form is simply not the PIN. */
export async function checkPin(pin: string, stored: PinHash): Promise<boolean> {
  if (!PIN_PATTERN.test(pin)) return false;
  const derived = await scryptAsync(pin, stored.salt, {
    N: 2 ** stored.logN,
    r: stored.r,
    p: stored.p,
    dkLen: stored.hash.length,
  });
  return timingSafeEqual(derived, stored.hash);
}

function checkCost(cost: ScryptCost): void {
  for (const [name, [min, max]] of Object.entries(LIMITS)) {
    const value = cost[name as keyof typeof LIMITS];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new TerminalError('E_INPUT_INVALID', `scrypt ${name} must be ${min}..${max}`);
    }
  }
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function unb64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64url'));
}
