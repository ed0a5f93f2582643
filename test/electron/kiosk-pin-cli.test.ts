// `npm run kiosk-pin` as an operator runs it: the PIN twice on standard input, the configuration
// snippet with its hash on standard output; a malformed or mistyped PIN prints nothing to keep.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { operatorEntrySchema } from '../../electron/services/operators/operator-config.js';
import { checkExitPin, parseExitPinHash } from '../../electron/shell/kiosk-exit-pin.js';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const cli = join(import.meta.dirname, '../../electron/shell/kiosk-pin-cli.ts');
const run = (input: string, args: string[] = []) =>
  spawnSync(process.execPath, ['--import', tsx, cli, ...args], { input, encoding: 'utf8', timeout: 60_000 });

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

describe('npm run operator-pin', () => {
  const operator = ['--operator', '--id', 'ana', '--name', 'Ana Lopez', '--role', 'supervisor'];

  it("prints an operators entry whose hash checks the operator's PIN", async () => {
    const r = run('97531\n97531\n', operator);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('97531');
    const entry = operatorEntrySchema.parse(JSON.parse(r.stdout));
    expect(entry).toMatchObject({ id: 'ana', name: 'Ana Lopez', role: 'supervisor' });
    const stored = parseExitPinHash(entry.pinHash);
    expect(await checkExitPin('97531', stored)).toBe(true);
    expect(await checkExitPin('97532', stored)).toBe(false);
  });

  it('refuses a bad ID or role before asking for the PIN, and a mistyped PIN, printing nothing', () => {
    const cases: [string, string[]][] = [
      ['97531\n97531\n', ['--operator', '--id', 'a b', '--name', 'Ana', '--role', 'cashier']],
      ['97531\n97531\n', ['--operator', '--id', 'ana', '--name', 'Ana', '--role', 'owner']],
      ['97531\n97532\n', operator],
    ];
    for (const [input, args] of cases) {
      const r = run(input, args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/E_INPUT_INVALID/);
    }
    expect(run('', ['--operator', '--id', 'a b', '--name', 'Ana', '--role', 'cashier']).stderr).not.toMatch(
      /PIN of/,
    );
  });
});
