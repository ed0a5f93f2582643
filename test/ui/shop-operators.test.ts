// Operators on the screen: nothing but the sign-in until someone signs in, a wrong PIN in the
// operator's words, the cashier's role refused on the screen and over a raw call from the page, the
// Lock button, the idle lock decided by the main process reaching every tab at once, and signing out.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OperatorFixture, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
const clock = { now: Date.parse('2026-11-21T10:00:00Z') };
const byTest = (id: string, page: Page = ui.page) => page.getByTestId(id);

/** A call over a WebSocket of its own from the page, bypassing the screen: what a hostile tab sends. */
const RAW_CALL = (channel: string, payload: unknown) => `(async () => {
  const token = sessionStorage.getItem('terminal-token');
  const ws = new WebSocket('ws://' + location.host + '/ws?token=' + encodeURIComponent(token));
  await new Promise((resolve) => ws.addEventListener('open', resolve));
  const answer = new Promise((resolve) => ws.addEventListener('message', (m) => {
    const frame = JSON.parse(m.data);
    if (frame.id === 7) resolve(frame.result);
  }));
  ws.send(JSON.stringify({ id: 7, channel: ${JSON.stringify(channel)}, payload: ${JSON.stringify(payload)} }));
  const result = await answer;
  ws.close();
  return result;
})()`;

describe('operator screen: operators', () => {
  beforeAll(async () => {
    ui = await startOperatorScreen({ operator: false, deskNow: () => clock.now });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('shows only the sign-in until an operator signs in', async () => {
    await byTest('sign-in').waitFor();
    expect(await ui.page.locator('[data-testid="slot-payer"]').count()).toBe(0);
    expect(await ui.page.locator('text=Alice').count()).toBe(0);
    await ui.shoot('40-sign-in');
  });

  it('says a wrong PIN in the operator’s words and stays on the sign-in', async () => {
    await ui.page.locator('#operator-id').fill('casey');
    await ui.page.locator('#operator-pin').fill('2222');
    await ui.page.locator('#operator-pin').press('Enter');
    const error = byTest('sign-in-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('E_PIN_WRONG');
    expect(await error.textContent()).toContain('Wrong operator ID or PIN.');
    expect(await byTest('operator').count()).toBe(0);
    await ui.shoot('41-sign-in-wrong-pin');
  });

  it('signs the cashier in: the terminal, with who is signed in', async () => {
    await ui.signIn(ui.page, 'casey', '1111');
    expect(await byTest('operator').textContent()).toContain('Casey · cashier');
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
  });

  it('refuses the cashier a supervisor’s action on the screen, in plain words', async () => {
    await ui.page.getByRole('button', { name: 'Update keys' }).click();
    const error = byTest('pay-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('E_ACCESS_DENIED');
    expect(await error.textContent()).toContain('This needs a supervisor.');
    expect(ui.services.flows.all()).toEqual([]);
    await ui.shoot('42-cashier-refused');
  });

  it('refuses the same over a raw call from the page, changing nothing', async () => {
    const before = JSON.stringify(ui.cards.payer.store.read());
    for (const [channel, payload] of [
      ['keys:update', {}],
      ['pin:unblock', { slot: 'payer', unblockCode: '12345678', newPin: '4321' }],
      ['crl:refresh', {}],
    ] as const) {
      expect(await ui.page.evaluate(RAW_CALL(channel, payload)), channel).toMatchObject({
        ok: false,
        error: { code: 'E_ACCESS_DENIED', details: { reason: 'supervisor-pin-needed' } },
      });
    }
    expect(JSON.stringify(ui.cards.payer.store.read())).toBe(before);
    expect(ui.services.flows.all()).toEqual([]);
  });

  it('locks with the Lock button: the cards leave the page; the PIN goes on', async () => {
    await ui.page.getByRole('button', { name: 'Lock' }).click();
    await byTest('sign-in').waitFor();
    expect(await byTest('locked-by').textContent()).toContain('Casey (casey) was signed in');
    expect(await byTest('slot-payer').count()).toBe(0);
    await ui.shoot('43-locked');
    await ui.page.locator('#operator-pin').fill('1111');
    await ui.page.locator('#operator-pin').press('Enter');
    await byTest('operator').waitFor();
  });

  it('locks every tab when the idle time runs out, as the main process decides', async () => {
    const tab = await ui.newTab();
    await byTest('operator', tab).waitFor();
    clock.now += 5 * 60_000;
    for (const page of [ui.page, tab]) {
      await byTest('sign-in', page).waitFor({ timeout: 5000 });
      expect(await byTest('slot-payer', page).count()).toBe(0);
    }
    expect(await tab.evaluate(RAW_CALL('cards:read', { slot: 'payer' }))).toMatchObject({
      ok: false,
      error: { code: 'E_ACCESS_DENIED', details: { reason: 'locked' } },
    });
    await tab.close();
    // The supervisor takes over from the lock screen.
    await ui.page.locator('#operator-id').fill('sam');
    await ui.signIn(ui.page, 'sam', '9999');
    expect(await byTest('operator').textContent()).toContain('Sam · supervisor');
  });

  it('signs out to the sign-in screen', async () => {
    await ui.page.getByRole('button', { name: 'Sign out' }).click();
    await byTest('sign-in').waitFor();
    expect(await ui.page.getByRole('heading', { name: 'Operator sign-in' }).count()).toBe(1);
  });
});
