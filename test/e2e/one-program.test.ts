// Issue 13 §3 as it was reproduced, through the REAL programs: the browser host (`npm run start:web`,
// its own process) runs the demo shop and is paid 1.00 on its screen (Chromium); meanwhile
// `npm run terminal -- transfer --amount 5.00` and a ticket issued from the terminal CLI are refused
// with a message naming the running screen, and `npm run card -- inspect` of a card it holds too; the
// log reads beside it. After a second 1.00 on the screen the payer card has moved exactly 2.00, and
// once the screen stops (even SIGKILLed) the CLI pays as before. Also issue 13 §2's CLI: a payment
// above the no-PIN limit fails clearly without --payer-pin and runs with it.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCardState } from '../../card-sim/card-files.js';
import { DEMO_PINS } from '../../demo/demo-environment.js';
import { DEMO_OPERATOR_PINS } from '../../electron/services/operators/demo-operators.js';
import { cliProcess } from '../support/cli-process.js';
import { builtRenderer } from '../ui/support/built-renderer.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../ui/support/operator-fixture.js';

const ROOT = join(import.meta.dirname, '../..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const dir = mkdtempSync(join(tmpdir(), 'one-program-'));
const demo = join(dir, 'demo');
const config = join(demo, 'terminal.json');
const terminal = cliProcess('electron/cli/main.ts', dir);
const card = cliProcess('card-sim/cli/main.ts', dir);
const balances = () => ({
  payer: loadCardState(join(demo, 'payer-card.json')).balance,
  payee: loadCardState(join(demo, 'payee-card.json')).balance,
});

interface RunningScreen {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  output: () => string;
}

/** `npm run start:web -- --config …` in a process of its own; resolves once it prints its address. */
function startScreen(renderer: string): Promise<RunningScreen> {
  const child = spawn(
    process.execPath,
    ['--import', TSX, join(ROOT, 'electron/host/start-web.ts'), '--config', config, '--renderer', renderer],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the screen did not start:\n${out}`)), 60_000);
    const take = (d: Buffer) => {
      out += d.toString();
      const m = /Operator screen: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, exited, output: () => out });
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the screen exited (${code}):\n${out}`));
    });
  });
}

let renderer: string;
let browser: Browser;
beforeAll(async () => {
  renderer = await builtRenderer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  expect(terminal('demo-setup', '--dir', demo).code).toBe(0);
}, 240_000);
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function payOnScreen(url: string, amount: string): Promise<void> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    // The demo shop has operators: sign in unless someone already is (the desk is the terminal's).
    const signInForm = page.locator('#operator-id');
    await Promise.race([page.getByTestId('operator').waitFor(), signInForm.waitFor()]);
    if (await signInForm.isVisible()) {
      await signInForm.fill('casey');
      await page.locator('#operator-pin').fill(DEMO_OPERATOR_PINS.cashier);
      await page.locator('#operator-pin').press('Enter');
      await page.getByTestId('operator').waitFor();
    }
    await page.getByTestId('payer-presence').filter({ hasText: 'Card present' }).waitFor();
    await page.locator('#amount').fill(amount);
    await page.locator('#amount').press('Enter');
    await page.getByText(`Payment complete: €${amount}`).waitFor({ timeout: 30_000 });
  } finally {
    await page.close();
  }
}

describe('one program per card and per terminal state (issue 13 §3)', () => {
  it('refuses the CLI on the state of a running screen, names the screen, and loses nothing', async () => {
    const start = balances();
    const screen = await startScreen(renderer);
    const pid = screen.child.pid!;
    try {
      await payOnScreen(screen.url, '1.00');

      const transfer = terminal('transfer', '--amount', '5.00', '--config', config);
      expect(transfer.code, transfer.stderr).toBe(2);
      expect(transfer.stderr).toMatch(/^error E_TERMINAL_IN_USE: /);
      expect(transfer.stderr).toContain(`the operator screen (browser host), pid ${pid}`);
      expect(transfer.stderr).toContain('do this in that terminal, or stop it first');

      const issue = terminal('issue', '--type', 'ticket', '--label', 'Concert', '--config', config);
      expect(issue.code, issue.stderr).toBe(2);
      expect(issue.stderr).toMatch(/^error E_TERMINAL_IN_USE: .*the operator screen \(browser host\)/);

      const inspect = card('inspect', join(demo, 'payer-card.json'));
      expect(inspect.code, inspect.stderr).toBe(2);
      expect(inspect.stderr).toMatch(
        /^error E_CARD_IN_USE: the card in .*payer-card\.json is held by the operator screen \(browser host\), pid /,
      );

      const second = cliProcess('electron/host/start-web.ts', dir)(
        '--config',
        config,
        '--renderer',
        renderer,
      );
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/^error E_TERMINAL_IN_USE: /);

      // Reading the log needs no lock: it runs beside the screen and sees its payment.
      const log = terminal('log', '--config', config, '--json');
      expect(log.code, log.stderr).toBe(0);
      expect(log.json().records.map((r: { step: string }) => r.step)).toContain('completed');
      expect(terminal('verify-log', '--config', config).code).toBe(0);

      await payOnScreen(screen.url, '1.00');
    } finally {
      screen.child.kill('SIGTERM');
      await screen.exited;
    }
    // Exactly the screen's two payments moved; the refused CLI moved nothing and wrote nothing.
    expect(balances()).toEqual({ payer: start.payer - 200, payee: start.payee + 200 });
    const logged = terminal('log', '--config', config, '--limit', '200', '--json').json();
    expect(
      logged.records.filter(
        (r: { flowKind: string; step: string }) => r.flowKind === 'value-transfer' && r.step === 'completed',
      ),
    ).toHaveLength(2);

    // The screen is stopped: the CLI pays as before.
    const paid = terminal('transfer', '--amount', '5.00', '--config', config, '--json');
    expect(paid.code, paid.stderr).toBe(0);
    expect(balances()).toEqual({ payer: start.payer - 700, payee: start.payee + 700 });
  }, 240_000);

  it('a screen killed outright holds nothing: the next program runs at once', async () => {
    const screen = await startScreen(renderer);
    screen.child.kill('SIGKILL');
    await screen.exited;
    const read = terminal('read', '--config', config, '--json');
    expect(read.code, read.stderr).toBe(0);
    expect(card('inspect', join(demo, 'payee-card.json')).code).toBe(0);
  }, 120_000);

  it('the CLI asks for the payer’s PIN above the no-PIN limit (issue 13 §2) and pays with --payer-pin', () => {
    const start = balances();
    const refused = terminal('transfer', '--amount', '30.00', '--config', config);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/refused: E_PIN_REQUIRED .*give the card holder’s PIN with --payer-pin/);
    expect(balances()).toEqual(start);
    const paid = terminal(
      'transfer',
      '--amount',
      '30.00',
      '--payer-pin',
      DEMO_PINS.payer,
      '--config',
      config,
    );
    expect(paid.code, paid.stderr).toBe(0);
    expect(balances()).toEqual({ payer: start.payer - 3000, payee: start.payee + 3000 });
  }, 120_000);
});
