// The issuer host's CLI as its operator runs it (npm run issuer): a subprocess on real files. Its
// commands' logic is tested in-process in test/terminal/issuing.test.ts; this is the program itself.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIssuer, saveIssuer } from '../../card-sim/issuer/issuer.js';
import { TEST_CURRENCY } from '../support/card-fixtures.js';
import { cliProcess } from '../support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'issuer-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const issuer = cliProcess('issuer-host/cli/main.ts', dir);

describe('issuer host CLI', () => {
  it('keeps the allow-list of issuing terminals in the authority database next to the issuer file', () => {
    saveIssuer(join(dir, 'issuer.json'), createIssuer({ name: 'CLI Issuer', currency: TEST_CURRENCY }));
    const help = issuer('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: npm run issuer -- <command>');
    for (const name of ['authority-allow', 'authority-disallow', 'authority-status'])
      expect(help.stdout).toContain(name);

    const allowed = issuer('authority-allow', '--issuer', 'issuer.json', '--terminal-id', 'shop-1', '--json');
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({
      terminalId: 'shop-1',
      contentTypes: ['ticket', 'coupon'],
    });
    expect(existsSync(join(dir, 'authority.db'))).toBe(true);
    const status = JSON.parse(issuer('authority-status', '--issuer', 'issuer.json', '--json').stdout);
    expect(status.allowList).toMatchObject([{ terminalId: 'shop-1' }]);
  });

  it('refuses bad input with a typed error and exit code 2, changing nothing', () => {
    const unknown = issuer('authority-revoke-everything');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('E_INPUT_INVALID');
    const badType = issuer(
      'authority-allow',
      '--issuer',
      'issuer.json',
      '--terminal-id',
      'x',
      '--types',
      'gold',
    );
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('E_INPUT_INVALID');
    const noIssuer = issuer('authority-status', '--issuer', 'missing.json');
    expect(noIssuer.code).toBe(2);
    expect(existsSync(join(dir, 'missing.json'))).toBe(false);
    const status = JSON.parse(issuer('authority-status', '--issuer', 'issuer.json', '--json').stdout);
    expect(status.allowList.map((a: { terminalId: string }) => a.terminalId)).toEqual(['shop-1']);
  });
});
