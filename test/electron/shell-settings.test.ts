// The shell's command line and kiosk settings: --config and --kiosk among Electron's and Chromium's own
// arguments, and a kiosk that refuses to start without a well-formed exit PIN hash.
import { describe, expect, it } from 'vitest';
import { terminalConfigSchema } from '../../electron/services/config.js';
import { hashExitPin } from '../../electron/shell/kiosk-exit-pin.js';
import { kioskSettings } from '../../electron/shell/kiosk-settings.js';
import { shellArguments } from '../../electron/shell/shell-arguments.js';
import { isTerminalError } from '../../protocol/errors.js';

const HASH = hashExitPin('482913', { logN: 10, r: 8, p: 1 });

describe('the shell arguments', () => {
  it('skip Electron and the app folder in development, only Electron when packaged', () => {
    expect(shellArguments(['/x/electron', '.', '--kiosk', '--config', 'shop.json'], false)).toEqual({
      kiosk: true,
      config: 'shop.json',
    });
    expect(shellArguments(['/opt/Settlement Terminal/terminal', '--config=shop.json'], true)).toEqual({
      kiosk: false,
      config: 'shop.json',
    });
    expect(shellArguments(['/x/electron', '.'], false)).toEqual({ kiosk: false });
  });

  it("ignore Chromium's own switches and stray values", () => {
    expect(
      shellArguments(
        ['/x/electron', '.', '--enable-logging', '--kiosk', 'extra', '--ozone-platform=x11'],
        false,
      ),
    ).toEqual({ kiosk: true });
    expect(shellArguments(['/x/electron', '.', '--kiosk=false'], false).kiosk).toBe(false);
  });
});

describe('the kiosk settings', () => {
  it('are off unless the flag or the configuration turns them on', () => {
    expect(kioskSettings(false, undefined)).toBeUndefined();
    expect(kioskSettings(false, { enabled: false, exitPinHash: HASH })).toBeUndefined();
    expect(kioskSettings(true, { enabled: false, exitPinHash: HASH })?.exitPin.logN).toBe(10);
    expect(kioskSettings(false, { enabled: true, exitPinHash: HASH })?.exitPin.r).toBe(8);
  });

  it('refuse a kiosk without an exit PIN, or with a malformed one', () => {
    for (const [flag, config] of [
      [true, undefined],
      [true, { enabled: false }],
      [false, { enabled: true }],
      [true, { enabled: true, exitPinHash: '482913' }],
      [true, { enabled: true, exitPinHash: HASH.replace('scrypt', 'md5') }],
    ] as const) {
      let error: unknown;
      try {
        kioskSettings(flag, config);
      } catch (e) {
        error = e;
      }
      expect(isTerminalError(error, 'E_INPUT_INVALID'), JSON.stringify(config)).toBe(true);
    }
  });

  it('come from the "kiosk" section of the terminal configuration', () => {
    const base = {
      dataDir: 'data',
      currency: 978,
      caCertificate: 'ca.pem',
      slots: { backend: 'simulated', cards: { payer: 'a.json', payee: 'b.json' } },
    };
    expect(terminalConfigSchema.parse(base).kiosk).toBeUndefined();
    expect(terminalConfigSchema.parse({ ...base, kiosk: { exitPinHash: HASH } }).kiosk).toEqual({
      enabled: false,
      exitPinHash: HASH,
    });
    expect(terminalConfigSchema.safeParse({ ...base, kiosk: { enabled: 'yes' } }).success).toBe(false);
    expect(terminalConfigSchema.safeParse({ ...base, kiosk: { exitPinHash: '' } }).success).toBe(false);
  });
});
