// Card care and the demo card tray on the screen: every tray card in turn — a second customer pays,
// an expired and a revoked card are refused in plain words, a card taken out interrupts nothing but
// says so — a blocked PIN shown as blocked (also after a reload) and unblocked with the issuer's code;
// the customer's login kept after a refusal, gone when the card leaves, never shown in a new tab or
// after a reload.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNBLOCK_CODES_FILE } from '../../demo/demo-environment.js';
import { type OperatorFixture, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
const byTest = (id: string, page: Page = ui.page) => page.getByTestId(id);

async function move(card: string, button: RegExp | string) {
  await byTest('tab-tray').click();
  await byTest(`tray-card-${card}`).getByRole('button', { name: button }).click();
}

async function pay(amount: string) {
  await ui.page.locator('#amount').fill(amount);
  await ui.page.locator('#amount').press('Enter');
  await expect.poll(() => byTest('pay-result').textContent(), { timeout: 15_000 }).not.toBe('');
}

async function loginAlice(page: Page = ui.page) {
  await page.locator('#payer-pin').fill('1234');
  await page.locator('#payer-pin').press('Enter');
  await expect.poll(() => byTest('payer-balance', page).textContent()).toMatch(/€/);
}

describe('operator screen: card care and the demo card tray', () => {
  beforeAll(async () => {
    ui = await startOperatorScreen();
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('lists every demo card and where it is', async () => {
    await byTest('tab-tray').click();
    await expect.poll(() => byTest('tray').locator('tbody tr').count()).toBe(6);
    expect(await byTest('tray-card-alice').getAttribute('data-place')).toBe('payer');
    expect(await byTest('tray-card-erin').getAttribute('data-place')).toBe('tray');
    await ui.shoot('70-card-tray');
  });

  it('keeps the customer logged in after a refusal of the amount', async () => {
    await loginAlice();
    await pay('999.00');
    expect(await byTest('pay-error').getAttribute('data-code')).toBe('E_INSUFFICIENT_FUNDS');
    expect(await byTest('payer-balance').textContent()).toBe('€200.00');
    expect(await byTest('slot-payer').textContent()).toContain('Owner logged in');
  });

  it('never shows the customer’s balance in a new tab', async () => {
    const tab = await ui.newTab();
    await expect.poll(() => byTest('payer-holder', tab).textContent()).toBe('Alice');
    expect(await byTest('payer-balance', tab).textContent()).toBe('••••');
    expect(await byTest('slot-payer', tab).textContent()).not.toContain('Owner logged in');
    await tab.close();
    expect(await byTest('payer-balance').textContent()).toBe('€200.00');
  });

  it('ends the customer’s login when the card leaves the reader', async () => {
    await move('alice', /Take out Alice’s card/);
    await expect.poll(() => byTest('payer-presence').textContent()).toContain('No card');
    await move('alice', /Into payer slot: Alice’s card/);
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
    expect(await byTest('payer-balance').textContent()).toBe('••••');
  });

  it('ends it with a reload of the screen that opened it', async () => {
    await loginAlice();
    await ui.page.reload();
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
    expect(await byTest('payer-balance').textContent()).toBe('••••');
    expect(ui.services.ownerLogins.owner('payer')).toBeUndefined();
  });

  it('says a card was taken out: a payment without it is refused', async () => {
    await move('alice', /Take out Alice’s card/);
    await expect.poll(() => byTest('payer-presence').textContent()).toContain('No card');
    await ui.shoot('71-card-taken-out');
    await pay('1.00');
    expect(await byTest('pay-error').getAttribute('data-code')).toBe('E_CARD_ABSENT');
  });

  it('takes a second customer’s card: Bob pays', async () => {
    await move('bob', /Into payer slot: Bob’s card/);
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Bob');
    const before = ui.trayCards.bob!.store.read().balance;
    await pay('2.00');
    expect(await byTest('pay-result').textContent()).toContain('Payment complete');
    expect(ui.trayCards.bob!.store.read().balance).toBe(before - 2_00);
    await move('bob', /Take out Bob’s card/);
  });

  it('refuses an expired card and a revoked one in plain words, moving nothing', async () => {
    for (const [card, label, code] of [
      ['carol', 'Carol', 'E_CARD_EXPIRED'],
      ['dave', 'Dave', 'E_PKI_REVOKED'],
    ] as const) {
      await move(card, new RegExp(`Into payer slot: ${label}’s card`));
      await expect.poll(() => byTest('payer-holder').textContent()).toBe(label);
      const before = ui.trayCards[card]!.store.read().balance;
      await pay('1.00');
      expect(await byTest('pay-error').getAttribute('data-code'), card).toBe(code);
      expect(ui.trayCards[card]!.store.read().balance).toBe(before);
      if (card === 'dave') {
        expect(await byTest('payer-cert').textContent()).toBe('revoked');
        await ui.shoot('72-revoked-card');
      }
      await move(card, new RegExp(`Take out ${label}’s card`));
    }
  });

  it('shows a blocked PIN as blocked, also after a reload, without a PIN field', async () => {
    await move('erin', /Into payer slot: Erin’s card/);
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Erin');
    await byTest('payer-pin-blocked').waitFor();
    expect(await ui.page.locator('#payer-pin').count()).toBe(0);
    await ui.page.reload();
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Erin');
    await byTest('payer-pin-blocked').waitFor();
    expect(await ui.page.locator('#payer-pin').count()).toBe(0);
    await ui.shoot('73-pin-blocked');
  });

  it('unblocks it with the issuer’s code: a wrong code is counted by the card, the right one gives a new PIN', async () => {
    const codes = JSON.parse(readFileSync(join(ui.demoDir, UNBLOCK_CODES_FILE), 'utf8')) as Record<
      string,
      string
    >;
    await byTest('payer-pin-blocked').getByRole('button', { name: 'Unblock PIN…' }).click();
    await ui.page.locator('#unblock-code').fill('00000000');
    await ui.page.locator('#unblock-new-pin').fill('4321');
    await ui.page.locator('#unblock-again').fill('4321');
    await ui.shoot('74-unblock-dialog');
    await byTest('unblock-dialog').getByRole('button', { name: 'Unblock', exact: true }).click();
    await expect.poll(() => byTest('unblock-error').getAttribute('data-code')).toBe('E_PIN_WRONG');
    expect(ui.trayCards.erin!.store.read().owner?.tries).toBe(0);
    await ui.page.locator('#unblock-code').fill(codes.Erin!);
    await ui.page.locator('#unblock-new-pin').fill('4321');
    await ui.page.locator('#unblock-again').fill('4321');
    await byTest('unblock-dialog').getByRole('button', { name: 'Unblock', exact: true }).click();
    await byTest('unblock-done').waitFor();
    await byTest('unblock-dialog').getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => byTest('payer-pin-tries').textContent()).toBe('3 tries left');
    await ui.page.locator('#payer-pin').fill('4321');
    await ui.page.locator('#payer-pin').press('Enter');
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('€80.00');
  });
});
