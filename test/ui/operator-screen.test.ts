// The sale end to end on the operator screen: cards inserted, the owner's PIN, the balance, a payment
// with its key update step by step, a card pulled mid-transfer and the recovery of the value in doubt,
// a revoked card refused. The built renderer in headless Chromium, the browser host and the terminal
// services in this process (test/ui/support/operator-fixture.ts).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIssuer, publishCrl, revokeCertificate, saveIssuer } from '../../card-sim/issuer/issuer.js';
import { INS } from '../../protocol/settlement/commands.js';
import { type OperatorFixture, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
const byTest = (id: string) => ui.byTest(id);

describe('operator screen: the sale', () => {
  beforeAll(async () => {
    ui = await startOperatorScreen({ empty: true });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('asks for cards, then shows both as they are inserted, balances masked, token gone from the address bar', async () => {
    await expect.poll(() => byTest('payer-presence').textContent()).toContain('No card');
    expect(await byTest('payee-presence').textContent()).toContain('No card');
    expect(ui.page.url()).not.toContain(ui.host.token);
    await ui.shoot('00-no-cards');

    ui.insert('payer');
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
    expect(await byTest('payee-presence').textContent()).toContain('No card');
    ui.insert('payee');
    await expect.poll(() => byTest('payee-holder').textContent()).toBe('Corner Shop');
    expect(await byTest('payer-balance').textContent()).toBe('••••');
    expect(await byTest('payee-balance').textContent()).toBe('••••');
    expect(await byTest('payer-cert').textContent()).toBe('valid');
    expect(await byTest('payer-keys').textContent()).toBe('transfer 1/6 · update 1/3');
    await ui.shoot('01-cards-masked');
  });

  it('shows the tries left after a wrong PIN, and keeps the balance masked', async () => {
    await ui.page.locator('#payer-pin').fill('9999');
    await ui.page.locator('#payer-pin').press('Enter');
    const error = byTest('payer-pin-error');
    await expect.poll(() => error.textContent()).toContain('2 tries left');
    expect(await error.getAttribute('data-code')).toBe('E_PIN_WRONG');
    expect(await error.textContent()).toContain('Wrong PIN.');
    expect(await byTest('payer-balance').textContent()).toBe('••••');
  });

  it('shows the balance once the owner logs in with the PIN', async () => {
    await ui.page.locator('#payer-pin').fill('1234');
    await ui.page.locator('#payer-pin').press('Enter');
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('€200.00');
    expect(await byTest('payee-balance').textContent()).toBe('••••');
    expect(await byTest('payer-pin-error').count()).toBe(0);
    await ui.shoot('02-payer-logged-in');
  });

  it('pays 12.50 with the key update first, step by step, then shows the new balances', async () => {
    await ui.page.locator('#amount').fill('12.50');
    await ui.page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('Payment complete: €12.50');
    const flows = await byTest('progress')
      .locator('li')
      .evaluateAll((lis) => lis.map((l) => [l.getAttribute('data-kind'), l.getAttribute('data-last-step')]));
    expect(flows).toEqual([
      ['key-update', 'completed'],
      ['value-transfer', 'completed'],
    ]);
    expect(await byTest('progress').textContent()).toContain('common-key route');
    expect(await byTest('progress').textContent()).toContain('payer debited → payee credited → done');
    expect(await byTest('key-update').textContent()).toContain('common-key route');
    expect(await byTest('pay-result').textContent()).toContain('Payer now €187.50');
    // The customer's login ends with the sale (endOwnerLoginAfterSale): the card masks its balance again.
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('••••');
    expect(await byTest('slot-payer').textContent()).not.toContain('Owner logged in');
    await expect.poll(() => ui.page.locator('#amount').inputValue()).toBe('');
    expect(ui.cards.payee.store.read().balance).toBe(50_00 + 12_50);
    await expect.poll(() => byTest('summary-totals').textContent()).toContain('1 completed, net €12.50');
    await ui.shoot('03-paid');
  });

  it('lists a transfer whose payee card was pulled at CREDIT as in doubt, and clears it by recovery', async () => {
    const os = ui.cards.payee.os;
    const transmit = os.transmit.bind(os);
    let armed = true;
    os.transmit = (apdu) => {
      if (!armed || apdu[1] !== INS.CREDIT) return transmit(apdu);
      armed = false;
      queueMicrotask(() => ui.slots.remove('payee'));
      return new Uint8Array(0);
    };
    await ui.page.locator('#amount').fill('1');
    await ui.page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('value in doubt');
    // The in-doubt view comes to the front by itself, with its count on the tab.
    await expect.poll(() => byTest('indoubt-list').isVisible()).toBe(true);
    expect(await byTest('indoubt-list').textContent()).toContain('€1.00');
    expect(await byTest('indoubt-count').textContent()).toBe('1');
    expect(await byTest('payee-presence').textContent()).toContain('No card');
    await ui.shoot('04-in-doubt');

    os.transmit = transmit;
    ui.insert('payee');
    await expect.poll(() => byTest('payee-presence').textContent()).toContain('Card present');
    await ui.page.getByRole('button', { name: 'Recover' }).click();
    await expect.poll(() => byTest('indoubt-empty').isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await byTest('recovery-note').textContent()).toContain('€1.00 completed (payee credited)');
    // The payment's "in doubt" result is settled now: it no longer shows.
    await expect.poll(() => byTest('pay-result').textContent()).toBe('');
    expect(await byTest('indoubt-count').textContent()).toBe('0');
    expect(ui.services.engine.inDoubt()).toEqual([]);
    expect(ui.cards.payee.store.read().balance).toBe(50_00 + 12_50 + 1_00);
    await ui.shoot('05-recovered');
  });

  it('refuses to pay with a revoked card: E_PKI_REVOKED in the operator’s words, no value moved', async () => {
    const issuerFile = join(ui.demoDir, 'issuer.json');
    const issuer = loadIssuer(issuerFile);
    const payeeId = ui.cards.payee.store.read().holderId;
    const issued = issuer.issued.find((c) => c.holderId === payeeId);
    if (!issued) throw new Error('the demo issuer did not issue the payee card');
    revokeCertificate(issuer, BigInt(issued.serial));
    ui.services.crl.importDer(publishCrl(issuer, { validityDays: 30 }), 'file');
    saveIssuer(issuerFile, issuer);
    const before = { payer: ui.cards.payer.store.read().balance, payee: ui.cards.payee.store.read().balance };

    await ui.page.locator('#amount').fill('2.00');
    await ui.page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('Payment refused');
    const error = byTest('pay-error');
    expect(await error.getAttribute('data-code')).toBe('E_PKI_REVOKED');
    expect(await error.textContent()).toContain('revoked by its issuer');
    expect(await error.textContent()).toContain('send the customer to the issuer');
    await expect.poll(() => byTest('payee-cert').textContent()).toBe('revoked');
    // The demo's built-in list already holds one revoked card (Dave's, of the card tray).
    await expect.poll(() => byTest('crl-panel').textContent()).toContain('2 revoked');
    expect({
      payer: ui.cards.payer.store.read().balance,
      payee: ui.cards.payee.store.read().balance,
    }).toEqual(before);
    await ui.shoot('06-revoked');
  });

  it('made no request to any host but the terminal itself', () => {
    expect(ui.remoteRequests).toEqual([]);
  });
});
