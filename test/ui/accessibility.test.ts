// axe-core on every screen and dialog of the operator screen: no cards, both cards (PIN forms, contents
// masked), a wrong-PIN error, a logged-in card with its contents, each record tab, the kiosk exit
// dialog with its error. No serious or critical violation anywhere. And the check itself fails on a
// page built to be inaccessible, so a pass means something.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { TerminalError } from '../../protocol/errors.js';
import { accessibilityViolations, expectAccessible } from './support/accessibility.js';
import { type OperatorFixture, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
const kiosk = {
  active: () => true,
  async exit(_pin: string) {
    throw new TerminalError('E_PIN_WRONG', 'wrong kiosk exit PIN', { triesLeft: 4 });
  },
};

function giveAliceATicket(s: SettlementState): void {
  s.contents.push({
    id: '1'.padStart(32, '0'),
    type: 'ticket',
    issuerId: s.purseIssuerId,
    policy: 'public',
    label: 'Concert 24 Dec',
    body: Buffer.from('seat B12').toString('hex').toUpperCase(),
  } as never);
}

describe('accessibility of the operator screen', () => {
  beforeAll(async () => {
    ui = await startOperatorScreen({
      empty: true,
      prepareCards: (edit) => edit('payer', giveAliceATicket),
      kiosk,
      routeEvents: true,
    });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('has no serious violation with no card in the readers', async () => {
    await expect.poll(() => ui.byTest('payer-presence').textContent()).toContain('No card');
    await expectAccessible(ui.page, 'the screen without cards');
  });

  it('has none with both cards in: PIN forms, masked balances and contents', async () => {
    ui.insert('payer');
    ui.insert('payee');
    await expect.poll(() => ui.byTest('payee-holder').textContent()).toBe('Corner Shop');
    await expectAccessible(ui.page, 'the screen with both cards');
  });

  it('has none with a wrong-PIN error shown', async () => {
    await ui.page.locator('#payer-pin').fill('9999');
    await ui.page.locator('#payer-pin').press('Enter');
    await expect.poll(() => ui.byTest('payer-pin-error').getAttribute('data-code')).toBe('E_PIN_WRONG');
    await expectAccessible(ui.page, 'the wrong-PIN error');
  });

  it('has none with the owner logged in and the contents shown', async () => {
    await ui.page.locator('#payer-pin').fill('1234');
    await ui.page.locator('#payer-pin').press('Enter');
    await expect.poll(() => ui.byTest('payer-balance').textContent()).toBe('€200.00');
    await expectAccessible(ui.page, 'the logged-in card');
  });

  it('has none on any record tab', async () => {
    for (const tab of ['Transaction log', 'In doubt: 0', 'Revocation list', 'End of day']) {
      await ui.page.getByRole('tab', { name: tab }).click();
      await expect
        .poll(() => ui.page.getByRole('tab', { name: tab }).getAttribute('aria-selected'))
        .toBe('true');
      await expectAccessible(ui.page, `the ${tab} tab`);
    }
  });

  it('has none in the kiosk exit dialog, with its error', async () => {
    await ui.pushEvent('kiosk-exit-requested', {});
    await expect.poll(() => ui.byTest('kiosk-exit').isVisible()).toBe(true);
    await expectAccessible(ui.page, 'the kiosk exit dialog');
    await ui.page.keyboard.type('1111');
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => ui.byTest('kiosk-exit-error').getAttribute('data-code')).toBe('E_PIN_WRONG');
    await expectAccessible(ui.page, 'the kiosk exit dialog with its error');
    await ui.page.keyboard.press('Escape');
  });

  it('fails on a page built to be inaccessible', async () => {
    const page = await ui.context.newPage();
    try {
      await page.setContent(`<!doctype html><html><head><title>broken</title></head><body>
        <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
        <button></button>
        <input type="text">
        <p style="color:#eee;background:#fff">faint text</p>
        <div role="tab">orphan tab</div>
      </body></html>`);
      const ids = (await accessibilityViolations(page)).map((v) => v.id).sort();
      expect(ids).toEqual(expect.arrayContaining(['button-name', 'color-contrast', 'image-alt', 'label']));
      await expect(expectAccessible(page, 'the broken page')).rejects.toThrow(
        /critical image-alt[\s\S]*at img/,
      );
      // Only serious and critical count: a page whose only fault is minor passes.
      await page.setContent(
        '<!doctype html><html lang="en"><head><title>ok</title></head><body><main><h1>Fine</h1></main></body></html>',
      );
      await expectAccessible(page, 'a plain page');
    } finally {
      await page.close();
    }
  });
});
