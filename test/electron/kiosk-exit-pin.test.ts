// The kiosk exit PIN is stored as a salted scrypt hash: the right PIN checks, a wrong or malformed one
// does not, and a malformed stored value is refused when the configuration is read.
import { describe, expect, it } from 'vitest';
import {
  checkExitPin,
  DEFAULT_COST,
  hashExitPin,
  parseExitPinHash,
} from '../../electron/shell/kiosk-exit-pin.js';
import { isTerminalError } from '../../protocol/errors.js';

// Cheap parameters keep the suite quick; the default cost is checked once below.
const CHEAP = { logN: 10, r: 8, p: 1 };
const stored = hashExitPin('482913', CHEAP);

describe('the kiosk exit PIN', () => {
  it('is kept as scrypt$logN$r$p$salt$hash, never the PIN, with a new salt each time', () => {
    expect(stored).toMatch(/^scrypt\$10\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain('482913');
    expect(hashExitPin('482913', CHEAP)).not.toBe(stored);
  });

  it('checks the right PIN and no other', async () => {
    const hash = parseExitPinHash(stored);
    expect(await checkExitPin('482913', hash)).toBe(true);
    for (const wrong of ['482914', '0000', '4829130', '48291', '000000000000']) {
      expect(await checkExitPin(wrong, hash), wrong).toBe(false);
    }
  });

  it('treats a PIN of the wrong form as wrong, without deriving anything', async () => {
    const hash = parseExitPinHash(stored);
    for (const malformed of ['', '482 913', '48291x', ' 482913', '４８２９１３', '1'.repeat(13), '123']) {
      expect(await checkExitPin(malformed, hash), malformed).toBe(false);
    }
  });

  it('refuses to make a hash of a PIN that is not 4 to 12 digits', () => {
    for (const pin of ['123', 'abcd', '1234567890123', '']) {
      expect(() => hashExitPin(pin, CHEAP), pin).toThrow(/4 to 12 digits/);
    }
  });

  it('refuses malformed stored values with E_INPUT_INVALID', () => {
    const [, logN, r, p, salt, hash] = stored.split('$');
    const bad = [
      '',
      '482913',
      `bcrypt$${logN}$${r}$${p}$${salt}$${hash}`,
      `scrypt$${logN}$${r}$${p}$${salt}`,
      `scrypt$${logN}$${r}$${p}$${salt}$${hash}$extra`,
      `scrypt$9$${r}$${p}$${salt}$${hash}`,
      `scrypt$21$${r}$${p}$${salt}$${hash}`,
      `scrypt$x$${r}$${p}$${salt}$${hash}`,
      `scrypt$${logN}$0$${p}$${salt}$${hash}`,
      `scrypt$${logN}$${r}$5$${salt}$${hash}`,
      `scrypt$${logN}$${r}$${p}$AAAA$${hash}`,
      `scrypt$${logN}$${r}$${p}$${salt}$${hash?.slice(0, 20)}`,
      `scrypt$${logN}$${r}$${p}$${salt}$${hash?.replace(/.$/, '!')}`,
    ];
    for (const text of bad) {
      let error: unknown;
      try {
        parseExitPinHash(text);
      } catch (e) {
        error = e;
      }
      expect(isTerminalError(error, 'E_INPUT_INVALID'), text).toBe(true);
    }
  });

  it('uses scrypt with N = 2^15, r = 8 by default', () => {
    expect(DEFAULT_COST).toEqual({ logN: 15, r: 8, p: 1 });
    expect(hashExitPin('1234')).toMatch(/^scrypt\$15\$8\$1\$/);
  });
});
