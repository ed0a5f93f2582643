// The operator screen end to end: the built renderer in headless Chromium, the browser host in this
// process, the terminal services on a fresh demo shop with simulated slots. Screenshots go to
// test-output/screenshots/ (git-ignored) at 1280×800 and 1024×768.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCard } from '../../card-sim/cli/card-files.js';
import { loadIssuer, publishCrl, revokeCertificate, saveIssuer } from '../../card-sim/issuer/issuer.js';
import type { SimulatedCard } from '../../card-sim/settlement-card.js';
import { type BrowserHost, startBrowserHost } from '../../electron/host/browser-host.js';
import { loadConfig } from '../../electron/services/config.js';
import { ensureDemoEnvironment } from '../../electron/services/demo/demo-environment.js';
import { createSimulatedSlots, type SimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import { startTerminalServices, type TerminalServices } from '../../electron/services/terminal-services.js';
import { INS } from '../../protocol/settlement/commands.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'renderer', 'dist');
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let demoDir: string;
let profileDir: string;
let services: TerminalServices;
let slots: SimulatedSlots;
let cards: { payer: SimulatedCard; payee: SimulatedCard };
let host: BrowserHost;
let context: BrowserContext;
let page: Page;

async function shoot(name: string): Promise<void> {
  for (const [width, height] of [
    [1280, 800],
    [1024, 768],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: join(SHOTS, `${name}-${width}x${height}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

const byTest = (id: string) => page.getByTestId(id);

describe('operator screen', () => {
  beforeAll(async () => {
    if (!existsSync(join(DIST, 'index.html'))) {
      const { build } = await import('vite');
      await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
    }
    mkdirSync(SHOTS, { recursive: true });
    demoDir = mkdtempSync(join(tmpdir(), 'ui-demo-'));
    profileDir = mkdtempSync(join(tmpdir(), 'ui-chromium-'));
    const config = loadConfig(ensureDemoEnvironment(demoDir));
    if (config.slots.backend !== 'simulated') throw new Error('the demo uses simulated slots');
    slots = createSimulatedSlots({ waitingTimeMs: 2000 });
    cards = { payer: openCard(config.slots.cards.payer), payee: openCard(config.slots.cards.payee) };
    slots.insert('payer', cards.payer.os);
    slots.insert('payee', cards.payee.os);
    services = await startTerminalServices(config, { slots });
    host = await startBrowserHost({ services, staticDir: DIST });
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // No remote content: every request the page makes goes to the host itself.
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.host !== `127.0.0.1:${host.port}`) throw new Error(`remote request ${r.url()}`);
    });
    await page.goto(host.url);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await host?.close();
    await services?.close();
    for (const d of [demoDir, profileDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('shows both cards with their balances masked, and drops the token from the address bar', async () => {
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
    await expect.poll(() => byTest('payee-holder').textContent()).toBe('Corner Shop');
    expect(await byTest('payer-balance').textContent()).toBe('••••');
    expect(await byTest('payee-balance').textContent()).toBe('••••');
    expect(await byTest('payer-cert').textContent()).toBe('valid');
    expect(page.url()).not.toContain(host.token);
    await shoot('01-cards-masked');
  });

  it('shows the tries left after a wrong PIN', async () => {
    await page.locator('#payer-pin').fill('9999');
    await page.locator('#payer-pin').press('Enter');
    const error = byTest('payer-pin-error');
    await expect.poll(() => error.textContent()).toContain('tries left');
    expect(await error.textContent()).toContain('E_PIN_WRONG');
    expect(await byTest('payer-balance').textContent()).toBe('••••');
  });

  it('shows the balance once the owner logs in with the PIN', async () => {
    await page.locator('#payer-pin').fill('1234');
    await page.locator('#payer-pin').press('Enter');
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('€200.00');
    expect(await byTest('payee-balance').textContent()).toBe('••••');
    await shoot('02-payer-logged-in');
  });

  it('pays 12.50 with the key update first, step by step, then shows the new balances', async () => {
    await page.locator('#amount').fill('12.50');
    await page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('Payment complete');
    const kinds = await byTest('progress')
      .locator('li')
      .evaluateAll((lis) => lis.map((l) => l.getAttribute('data-kind')));
    expect(kinds[0]).toBe('key-update');
    expect(kinds.at(-1)).toBe('value-transfer');
    expect(await byTest('progress').textContent()).toMatch(/route/);
    expect(await byTest('pay-result').textContent()).toContain('Payer now €187.50');
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('€187.50');
    expect(cards.payee.store.read().balance).toBe(50_00 + 12_50);
    await expect.poll(() => byTest('summary-panel').textContent()).toContain('1 payment(s), total €12.50');
    await shoot('03-paid');
  });

  it('lists a transfer whose payee card was pulled at CREDIT as in doubt, and clears it by recovery', async () => {
    const os = cards.payee.os;
    const transmit = os.transmit.bind(os);
    let armed = true;
    os.transmit = (apdu) => {
      if (!armed || apdu[1] !== INS.CREDIT) return transmit(apdu);
      armed = false;
      queueMicrotask(() => slots.remove('payee'));
      return new Uint8Array(0);
    };
    await page.locator('#amount').fill('1');
    await page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('value in doubt');
    await expect.poll(() => byTest('indoubt-list').textContent()).toContain('€1.00');
    expect(await byTest('payee-presence').textContent()).toContain('No card');
    await shoot('04-in-doubt');

    os.transmit = transmit;
    slots.insert('payee', os);
    await expect.poll(() => byTest('payee-presence').textContent()).toContain('Card present');
    await page.getByRole('button', { name: 'Recover' }).click();
    await expect.poll(() => byTest('indoubt-empty').isVisible(), { timeout: 20_000 }).toBe(true);
    expect(services.engine.inDoubt()).toEqual([]);
    expect(cards.payee.store.read().balance).toBe(50_00 + 12_50 + 1_00);
  });

  it('refuses to pay with a revoked card and shows E_PKI_REVOKED', async () => {
    const issuerFile = join(demoDir, 'issuer.json');
    const issuer = loadIssuer(issuerFile);
    const payeeId = cards.payee.store.read().holderId;
    const issued = issuer.issued.find((c) => c.holderId === payeeId);
    if (!issued) throw new Error('the demo issuer did not issue the payee card');
    revokeCertificate(issuer, BigInt(issued.serial));
    services.crl.importDer(publishCrl(issuer, { validityDays: 30 }), 'file');
    saveIssuer(issuerFile, issuer);

    await page.locator('#amount').fill('2.00');
    await page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('Payment refused');
    expect(await byTest('pay-error').textContent()).toContain('E_PKI_REVOKED');
    await expect.poll(() => byTest('payee-cert').textContent()).toBe('revoked');
    await expect.poll(() => byTest('crl-panel').textContent()).toContain('1 revoked');
    await shoot('05-revoked');
  });

  it('is keyboard operable: the amount field, Pay and the PIN fields are in the tab order with a visible focus', async () => {
    await page.locator('#amount').focus();
    // Browser-side expressions as strings: this file is type-checked without the DOM library.
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    const order: string[] = [];
    await page.locator('body').focus();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      order.push(
        await page.evaluate<string>("document.activeElement.id || document.activeElement.textContent || ''"),
      );
    }
    expect(order).toContain('amount');
    expect(order).toContain('Pay');
    expect(order).toContain('payee-pin');
    expect(order).toContain('log-search');
  });
});
