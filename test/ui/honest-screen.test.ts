// A screen that stays honest: two tabs pressing Pay at once charge once (the other is told E_BUSY
// and sees no progress of the first), the link to the terminal dropped in the middle of a payment
// (the screen says so at once, shows no card as present, Pay does not hang) and restored (it
// reconnects by itself and reads everything again), a refusal that goes away when the card comes
// back, amounts as the screen writes them and too large ones, times on the shop's clock with its zone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHost, startBrowserHost } from '../../electron/host/browser-host.js';
import { builtRenderer } from './support/built-renderer.js';
import { type OperatorFixture, shootPage, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
let restarted: BrowserHost | undefined;
/** While true, nothing the terminal sends reaches the page (the socket stays open). */
let silent = false;
const byTest = (id: string) => ui.byTest(id);
const SHOP_ZONE = 'America/New_York';

/** Completed value transfers in the journal. */
function completedTransfers(): number {
  return ui.services.flows.all().filter((f) => f.flowKind === 'value-transfer' && f.lastStep === 'completed')
    .length;
}
const balances = () => ({
  payer: ui.cards.payer.store.read().balance,
  payee: ui.cards.payee.store.read().balance,
});

describe('operator screen: honest about what happens', () => {
  beforeAll(async () => {
    ui = await startOperatorScreen({
      configure: (c) => ({ ...c, shop: { ...c.shop, timeZone: SHOP_ZONE } }),
      silenceTerminal: () => silent,
    });
  }, 120_000);

  afterAll(async () => {
    await restarted?.close();
    await ui?.close();
  });

  it('shows the customer’s card after the PIN', async () => {
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
    await ui.page.locator('#payer-pin').fill('1234');
    await ui.page.locator('#payer-pin').press('Enter');
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('€200.00');
  });

  it('charges once when two tabs press Pay at once: the other gets E_BUSY and none of the first’s progress', async () => {
    const second = await ui.context.newPage();
    try {
      await second.goto(ui.host.url);
      await expect.poll(() => second.getByTestId('payer-holder').textContent()).toBe('Alice');
      const before = { ...balances(), transfers: completedTransfers() };
      // Each APDU to the payer card takes 60 ms: the first payment runs long enough for the second to meet it.
      ui.slots.setLatency('payer', 60);
      for (const page of [ui.page, second]) await page.locator('#amount').fill('4.00');
      await Promise.all([
        ui.page.locator('#amount').press('Enter'),
        second.locator('#amount').press('Enter'),
      ]);
      const outcome = async (page: typeof second) =>
        (await page.getByTestId('pay-result').textContent()) ?? '';
      await expect
        .poll(async () => [await outcome(ui.page), await outcome(second)].sort().join(' | '), {
          timeout: 20_000,
        })
        .toMatch(
          /Payment complete: €4\.00.*\| Payment not started|Payment not started.*\| Payment complete: €4\.00/,
        );
      const [winner, loser] = (await outcome(ui.page)).includes('Payment complete')
        ? [ui.page, second]
        : [second, ui.page];
      expect(await loser.getByTestId('pay-error').getAttribute('data-code')).toBe('E_BUSY');
      expect(await loser.getByTestId('pay-error').textContent()).toMatch(
        /Another operation is running on the cards \(transfer:run\)/,
      );
      // Only the tab that paid showed the payment's steps.
      expect(await winner.getByTestId('progress').locator('li').count()).toBeGreaterThan(0);
      expect(await loser.getByTestId('progress').locator('li').count()).toBe(0);
      ui.slots.setLatency('payer', 0);
      // Exactly one charge, on the cards and in the log; the refused payment is not repeated later.
      await new Promise((r) => setTimeout(r, 1500));
      expect(completedTransfers()).toBe(before.transfers + 1);
      expect(balances()).toEqual({ payer: before.payer - 400, payee: before.payee + 400 });
    } finally {
      ui.slots.setLatency('payer', 0);
      await second.close();
    }
  });

  it('tells another tab it is busy while a payment runs, and lets it pay when it has ended', async () => {
    const second = await ui.context.newPage();
    try {
      await second.goto(ui.host.url);
      await expect.poll(() => second.getByTestId('payer-holder').textContent()).toBe('Alice');
      ui.slots.setLatency('payer', 80);
      await ui.page.locator('#amount').fill('1.00');
      await ui.page.locator('#amount').press('Enter');
      await expect
        .poll(() => second.getByTestId('pay-blocked').textContent())
        .toBe(
          'Busy: another operation is running (a payment, from another window). Pay when it has finished.',
        );
      await second.locator('#amount').fill('2.00');
      expect(await second.getByRole('button', { name: 'Pay' }).isDisabled()).toBe(true);
      expect(await second.getByTestId('progress').locator('li').count()).toBe(0);
      await shootPage(second, '30-busy-other-tab');
      await expect
        .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
        .toContain('Payment complete: €1.00');
      await expect.poll(() => second.getByTestId('pay-blocked').count()).toBe(0);
      ui.slots.setLatency('payer', 0);
      await second.locator('#amount').press('Enter');
      await expect
        .poll(() => second.getByTestId('pay-result').textContent(), { timeout: 20_000 })
        .toContain('Payment complete: €2.00');
    } finally {
      ui.slots.setLatency('payer', 0);
      await second.close();
    }
  });

  it('says at once when the link drops mid-payment, shows no card, and reconnects by itself', async () => {
    const before = { ...balances(), transfers: completedTransfers() };
    // The payments before spent the card's no-PIN allowance: this one is paid with the PIN.
    await ui.page.locator('#payer-pin').fill('1234');
    await ui.page.locator('#payer-pin').press('Enter');
    await expect.poll(() => byTest('payer-balance').textContent()).not.toBe('••••');
    ui.slots.setLatency('payer', 150);
    // Counted before Pay: a payment begun at once must not be counted in the "before".
    const transfersBefore = ui.services.flows.all().filter((f) => f.flowKind === 'value-transfer').length;
    await ui.page.locator('#amount').fill('3.00');
    await ui.page.locator('#amount').press('Enter');
    await expect.poll(() => ui.page.getByRole('button', { name: 'Paying…' }).count()).toBe(1);
    // Mid-payment: the terminal has begun it (its first journal entry) when the link drops. Dropped
    // the moment the button says Paying…, the request could still be unread in the socket and die
    // with it: then no payment at all would run.
    await expect
      .poll(() => ui.services.flows.all().filter((f) => f.flowKind === 'value-transfer').length, {
        timeout: 15_000, // a loaded machine: the payer's APDUs are slowed to 150 ms each here
        interval: 20,
      })
      .toBe(transfersBefore + 1);
    const { port, token } = ui.host;
    const dropped = Date.now();
    await ui.host.close(); // the main process gone, as the page sees it
    await expect
      .poll(() => byTest('pay-error').getAttribute('data-code'), { timeout: 5_000 })
      .toBe('E_DISCONNECTED');
    expect(Date.now() - dropped).toBeLessThan(5_000);
    expect(await byTest('pay-error').textContent()).toContain('check the log before you repeat anything');
    expect(await byTest('pay-result').textContent()).toContain(
      'Payment: outcome unknown, the connection to the terminal was lost',
    );
    expect(await byTest('connection').textContent()).toContain('Not connected to the terminal');
    expect(await byTest('payer-presence').textContent()).toBe('Not known — not connected');
    expect(await byTest('payee-presence').textContent()).toBe('Not known — not connected');
    expect(await byTest('payer-holder').count()).toBe(0);
    expect(await ui.page.getByRole('button', { name: 'Pay' }).isDisabled()).toBe(true);
    await ui.shoot('31-disconnected');

    // The payment goes on in the main process; the screen comes back to it.
    await expect.poll(() => completedTransfers(), { timeout: 20_000 }).toBe(before.transfers + 1);
    ui.slots.setLatency('payer', 0);
    restarted = await startBrowserHost({
      services: ui.services,
      staticDir: await builtRenderer(),
      port,
      token,
    });
    await expect.poll(() => byTest('connection').textContent(), { timeout: 10_000 }).toBe('Connected');
    await expect.poll(() => byTest('payer-presence').textContent()).toBe('Card present');
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
    // The customer's login ended with the sale and with the screen that lost its link: the screen,
    // a new one for the terminal, shows the balance only after the PIN, and then the new one.
    expect(await byTest('payer-balance').textContent()).toBe('••••');
    await ui.page.locator('#payer-pin').fill('1234');
    await ui.page.locator('#payer-pin').press('Enter');
    await expect
      .poll(() => byTest('payer-balance').textContent())
      .toBe(`€${((before.payer - 300) / 100).toFixed(2)}`);
    await expect.poll(() => byTest('log-row').first().textContent()).toContain('€3.00');
    expect(await byTest('log-row').first().getAttribute('data-step')).toBe('completed');
    expect(balances()).toEqual({ payer: before.payer - 300, payee: before.payee + 300 });
  });

  it('counts a link that stays open but goes silent as lost, and reconnects by itself', async () => {
    await expect.poll(() => byTest('connection').textContent()).toBe('Connected');
    silent = true;
    const since = Date.now();
    await expect
      .poll(() => byTest('connection').textContent(), { timeout: 12_000 })
      .toContain('Not connected');
    // The screen pings every 2 s and gives up after 6 s of silence.
    expect(Date.now() - since).toBeGreaterThan(4_000);
    expect(await byTest('payer-presence').textContent()).toBe('Not known — not connected');
    silent = false;
    await expect.poll(() => byTest('connection').textContent(), { timeout: 10_000 }).toBe('Connected');
    await expect.poll(() => byTest('payer-presence').textContent()).toBe('Card present');
  });

  it('clears a refusal when the situation changes: the missing card is put back', async () => {
    ui.slots.remove('payee');
    await expect.poll(() => byTest('payee-presence').textContent()).toContain('No card');
    await ui.page.locator('#amount').fill('1.00');
    await ui.page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-error').getAttribute('data-code'), { timeout: 10_000 })
      .toBe('E_CARD_ABSENT');
    ui.insert('payee');
    await expect.poll(() => byTest('payee-presence').textContent()).toBe('Card present');
    await expect.poll(() => byTest('pay-error').count()).toBe(0);
    expect(await byTest('pay-result').textContent()).toBe('');
  });

  it('takes amounts as the screen writes them, and says when one is too large', async () => {
    const amount = ui.page.locator('#amount');
    const help = ui.page.locator('#amount-help');
    await amount.fill('1,000.00');
    expect(await help.textContent()).toBe('Enter pays €1,000.00 from the payer card to the payee card.');
    expect(await amount.getAttribute('aria-invalid')).toBe('false');
    await amount.fill('1,234,567.8');
    expect(await help.textContent()).toBe('Enter pays €1,234,567.80 from the payer card to the payee card.');
    await amount.fill('99999999');
    expect(await help.textContent()).toBe('Too large: a card moves at most €42,949,672.95 at a time.');
    expect(await amount.getAttribute('aria-invalid')).toBe('true');
    expect(await ui.page.getByRole('button', { name: 'Pay' }).isDisabled()).toBe(true);
    await amount.fill('1,00,0');
    expect(await help.textContent()).toContain('Not an amount');
    await amount.fill('');
  });

  it('shows times on the shop’s clock with its zone named', async () => {
    const newest = ui.services.journal.page({ limit: 1 }).records[0]!;
    const expected = new Intl.DateTimeFormat('en-IE', {
      timeZone: SHOP_ZONE,
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    }).format(new Date(newest.at));
    await expect.poll(() => byTest('log-time').first().textContent()).toBe(expected);
    expect(expected).toMatch(/GMT-[45]$/);
    expect(await byTest('log-table').locator('th').nth(1).textContent()).toBe(`Time (${SHOP_ZONE})`);
  });
});
