// `npm run kiosk-pin` as an operator runs it: the PIN twice on standard input, the configuration
// snippet with its hash on standard output; a malformed or mistyped PIN prints nothing to keep.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkExitPin, parseExitPinHash } from '../../electron/shell/kiosk-exit-pin.js';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const cli = join(import.meta.dirname, '../../electron/shell/kiosk-pin-cli.ts');
const run = (input: string) =>
  spawnSync(process.execPath, ['--import', tsx, cli], { input, encoding: 'utf8', timeout: 60_000 });

describe('npm run kiosk-pin', () => {
  it('prints the kiosk section with a hash that checks the PIN typed', async () => {
    const r = run('482913\n482913\n');
    expect(r.status).toBe(0);
    const printed = JSON.parse(r.stdout) as { kiosk: { enabled: boolean; exitPinHash: string } };
    expect(printed.kiosk.enabled).toBe(true);
    expect(r.stdout).not.toContain('482913');
    const stored = parseExitPinHash(printed.kiosk.exitPinHash);
    expect(await checkExitPin('482913', stored)).toBe(true);
    expect(await checkExitPin('482914', stored)).toBe(false);
  });

  it('refuses a PIN that is not 4 to 12 digits, or two different PINs, printing nothing', () => {
    for (const input of ['12a4\n12a4\n', '482913\n482914\n']) {
      const r = run(input);
      expect(r.status, JSON.stringify(input)).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/E_INPUT_INVALID/);
    }
  });
});
