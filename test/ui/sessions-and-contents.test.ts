// Access levels on the operator screen: a card's balance and contents masked without a session, the
// issuer's view in an issuer session, the holder's view after the PIN; a refused issuer session; a PIN
// blocked after three wrong tries; the key update run on its own, with the route the engine chose.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { TerminalError } from '../../protocol/errors.js';
import { type OperatorFixture, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
/** The Electron shell's kiosk lock as the handlers see it: exit PIN 2468. */
const kiosk = {
  exits: [] as string[],
  active: () => true,
  async exit(pin: string) {
    if (pin !== '2468') throw new TerminalError('E_PIN_WRONG', 'wrong kiosk exit PIN', { triesLeft: 4 });
    kiosk.exits.push(pin);
  },
};
const byTest = (id: string) => ui.byTest(id);
const hex = (text: string) => Buffer.from(text).toString('hex').toUpperCase();

/** Alice's card holds a ticket and a coupon of the demo issuer, and her personal data. */
function giveAliceContents(s: SettlementState): void {
  const item = (n: number, type: string, policy: string, label: string, body: string) => ({
    id: n.toString(16).toUpperCase().padStart(32, '0'),
    type,
    issuerId: s.purseIssuerId,
    policy,
    label,
    body: hex(body),
  });
  s.contents.push(
    item(1, 'ticket', 'issuer-alterable', 'Concert 24 Dec', 'seat B12') as never,
    item(2, 'coupon', 'public', '10% off', 'CODE-2026') as never,
    item(3, 'personal-data', 'owner-only', 'Loyalty number', '4711-0815') as never,
  );
}

/** Each content item on the slot's card: [label, body as shown]. */
async function shownContents(slot: 'payer' | 'payee'): Promise<string[][]> {
  return byTest(`${slot}-item`).evaluateAll((lis) =>
    lis.map((li) => [
      li.querySelector('.label')?.textContent ?? '',
      li.querySelector('.body')?.textContent ?? '',
    ]),
  );
}

const MASKED = [
  ['Concert 24 Dec', '••••'],
  ['10% off', 'CODE-2026'],
  ['Loyalty number', '••••'],
];

describe('operator screen: sessions, contents, PIN, keys', () => {
  beforeAll(async () => {
    ui = await startOperatorScreen({
      prepareCards: (edit) => edit('payer', giveAliceContents),
      kiosk,
      routeEvents: true,
    });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('masks the bodies of non-public contents and the balance without a session', async () => {
    await expect.poll(() => shownContents('payer')).toEqual(MASKED);
    expect(await byTest('payer-contents-access').textContent()).toContain('Details hidden');
    expect(await byTest('payer-balance').textContent()).toBe('••••');
    await expect.poll(() => byTest('payee-contents').textContent()).toContain('No tickets or coupons');
    await ui.shoot('10-contents-masked');
  });

  it('shows the issuer what the issuer may see: its ticket and the purse, not the personal data', async () => {
    await ui.page.getByTestId('slot-payer').getByRole('button', { name: 'Issuer session' }).click();
    await expect.poll(() => byTest('payer-contents-access').textContent()).toBe('Issuer view');
    expect(await shownContents('payer')).toEqual([
      ['Concert 24 Dec', 'seat B12'],
      ['10% off', 'CODE-2026'],
      ['Loyalty number', '••••'],
    ]);
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('€200.00');
    await ui.shoot('11-issuer-session');
  });

  it('ends the session with Log out: everything masked again', async () => {
    await ui.page.getByTestId('slot-payer').getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => byTest('payer-contents-access').textContent()).toContain('Details hidden');
    expect(await shownContents('payer')).toEqual(MASKED);
    expect(await byTest('payer-balance').textContent()).toBe('••••');
  });

  it('shows the holder everything after the PIN', async () => {
    await ui.page.locator('#payer-pin').fill('1234');
    await ui.page.locator('#payer-pin').press('Enter');
    await expect.poll(() => byTest('payer-contents-access').textContent()).toBe('Owner view');
    expect(await shownContents('payer')).toEqual([
      ['Concert 24 Dec', 'seat B12'],
      ['10% off', 'CODE-2026'],
      ['Loyalty number', '4711-0815'],
    ]);
    expect(await byTest('payer-balance').textContent()).toBe('€200.00');
    await ui.shoot('12-owner-contents');
  });

  it('refuses an issuer session the other card cannot hold, and changes nothing', async () => {
    // The payee card asks the payer card to be its issuer card: Alice's card is not one.
    await ui.page.getByTestId('slot-payee').getByRole('button', { name: 'Issuer session' }).click();
    const error = byTest('payee-pin-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('E_ACCESS_DENIED');
    expect(await error.textContent()).toContain('The other card is not this card’s issuer card');
    expect(await byTest('payee-balance').textContent()).toBe('••••');
    expect(await byTest('payee-contents-access').textContent()).toContain('Details hidden');
    // Alice's owner login is untouched by the refusal.
    expect(await byTest('payer-contents-access').textContent()).toBe('Owner view');
  });

  it('blocks the PIN after three wrong tries and says so in the operator’s words, with the code', async () => {
    const pin = ui.page.locator('#payee-pin');
    const error = byTest('payee-pin-error');
    const logIn = byTest('slot-payee').getByRole('button', { name: 'Log in' });
    /** One try; the form takes Enter once the last try has ended (the card's answer and the slot read
     * again): an Enter before is dropped, as the disabled Log in button shows. */
    const tryPin = async (wrong: string) => {
      await pin.fill(wrong);
      await expect.poll(() => logIn.isEnabled(), { timeout: 10_000 }).toBe(true);
      await pin.press('Enter');
    };
    // A slow card: the next PIN is typed while it answers the first. Those digits are the next try:
    // the first try's end (its refusal shown, the slot read again) must not wipe them.
    ui.slots.setLatency('payee', 100);
    try {
      await tryPin('9990');
      await pin.pressSequentially('9991');
      await expect.poll(() => error.textContent(), { timeout: 10_000 }).toContain('2 tries left');
      expect(await error.getAttribute('data-code')).toBe('E_PIN_WRONG');
    } finally {
      ui.slots.setLatency('payee', 0);
    }
    await expect.poll(() => logIn.isEnabled(), { timeout: 10_000 }).toBe(true);
    expect(await pin.inputValue()).toBe('9991');
    await pin.press('Enter');
    await expect.poll(() => error.textContent(), { timeout: 10_000 }).toContain('1 tries left');
    expect(await error.getAttribute('data-code')).toBe('E_PIN_WRONG');
    await tryPin('9992');
    await expect.poll(() => error.getAttribute('data-code'), { timeout: 10_000 }).toBe('E_PIN_BLOCKED');
    expect(await error.textContent()).toContain('PIN is blocked');
    expect(await error.textContent()).toContain('ask the issuer to unblock it');
    expect(await error.textContent()).toContain('E_PIN_BLOCKED');
    expect(ui.cards.payee.store.read().owner?.tries).toBe(0);
    await ui.shoot('13-pin-blocked');

    // The card says the PIN is blocked (asked without a try): no PIN field any more, the way out is
    // the issuer's unblock code; the balance stays masked.
    await byTest('payee-pin-blocked').waitFor();
    expect(await pin.count()).toBe(0);
    expect(await byTest('payee-pin-blocked').textContent()).toContain('PIN blocked');
    expect(await byTest('payee-balance').textContent()).toBe('••••');
    expect(ui.cards.payee.store.read().owner?.tries).toBe(0);
  });

  it('updates the keys on its own, showing the route taken and why; a second time there is nothing to do', async () => {
    expect(await byTest('payer-keys').textContent()).toBe('transfer 1/6 · update 1/3');
    await ui.page.getByRole('button', { name: 'Update keys' }).click();
    await expect
      .poll(() => byTest('keys-result').textContent(), { timeout: 20_000 })
      .toContain('Keys updated');
    // The route and the reason are the ones the engine journaled for this key update: its flow found
    // by kind (the newest key update), its plan by step.
    const keyUpdate = ui.services.journal.page({ limit: 1, search: 'key-update' }).records[0];
    expect(keyUpdate?.flowKind).toBe('key-update');
    const planned = ui.services.journal.entriesForFlow(keyUpdate!.flowId).find((e) => e.step === 'planned');
    expect(planned?.flowKind).toBe('key-update');
    const line = await byTest('key-update').textContent();
    expect(line).toContain('payer card');
    expect(line).toContain(`${String(planned?.payload.route)} route`);
    expect(planned?.payload.route).toBe('common-key');
    expect(line).toContain(String(planned?.payload.reason));
    expect(await byTest('progress').locator('li').getAttribute('data-kind')).toBe('key-update');
    await expect.poll(() => byTest('payer-keys').textContent()).toBe('transfer 2/6 · update 1/3');
    expect(ui.cards.payer.store.read().transferKeyId).toBe(2);
    await ui.shoot('14-keys-updated');

    await ui.page.getByRole('button', { name: 'Update keys' }).click();
    await expect.poll(() => byTest('keys-result').textContent()).toContain('Keys already in line');
    expect(await byTest('key-update').count()).toBe(0);
    expect(ui.cards.payer.store.read().transferKeyId).toBe(2);
  });

  it('says plainly that the CRL cannot be refreshed without a configured address', async () => {
    await ui.page.getByRole('tab', { name: 'Revocation list' }).click();
    await ui.page.getByRole('button', { name: 'Refresh CRL' }).click();
    const error = byTest('crl-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('E_INPUT_INVALID');
    expect(await error.textContent()).toContain(
      'No address to download the revocation list from is configured',
    );
    expect(await byTest('crl-state').textContent()).toBe('up to date');
  });

  it('asks for the exit PIN when the kiosk shell says someone tries to leave; Escape goes back', async () => {
    const dialog = byTest('kiosk-exit');
    expect(await dialog.isVisible()).toBe(false);
    await ui.pushEvent('kiosk-exit-requested', {});
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await expect.poll(() => ui.page.evaluate<string>('document.activeElement.id')).toBe('kiosk-pin');
    // Modal: the rest of the screen is inert until the dialog closes.
    expect(await ui.page.evaluate<boolean>(`document.querySelector('dialog').matches(':modal')`)).toBe(true);
    expect(
      await ui.page.evaluate<string>(
        `getComputedStyle(document.querySelector('dialog'), '::backdrop').backgroundColor`,
      ),
    ).toBe('rgba(20, 28, 38, 0.55)');
    await ui.page.keyboard.type('1111');
    await ui.page.keyboard.press('Enter');
    const error = byTest('kiosk-exit-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('E_PIN_WRONG');
    expect(await error.textContent()).toContain('Wrong exit PIN.');
    await ui.shoot('15-kiosk-exit-pin');
    await ui.page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(kiosk.exits).toEqual([]);
  });

  it('leaves the kiosk with the right exit PIN, from its own button', async () => {
    await ui.page.getByRole('button', { name: 'Exit kiosk' }).click();
    await expect.poll(() => byTest('kiosk-exit').isVisible()).toBe(true);
    await ui.page.locator('#kiosk-pin').fill('2468');
    await ui.page.locator('#kiosk-pin').press('Enter');
    await expect.poll(() => byTest('kiosk-exit').textContent()).toContain('Leaving kiosk mode');
    expect(kiosk.exits).toEqual(['2468']);
  });

  it('made no request to any host but the terminal itself', () => {
    expect(ui.remoteRequests).toEqual([]);
  });
});
