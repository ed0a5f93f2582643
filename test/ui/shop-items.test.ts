// Items on the screen: a ticket issued on the shop's card, its receipt printed (print media: the
// receipt alone) and exported as PDF and ESC/POS (downloaded, read back), then sold to the customer
// in one exchange with their PIN, the customer's login ended after the sale, the seat changed by the
// supervisor in an issuer session, and a coupon given away.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEscPos } from '../terminal/receipts/escpos-decoder.js';
import { readPdf } from '../terminal/receipts/pdf-text.js';
import { type OperatorFixture, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
const byTest = (id: string) => ui.byTest(id);
const text = (hex: string | undefined) => Buffer.from(hex ?? '', 'hex').toString('utf8');

async function download(button: string): Promise<Uint8Array> {
  const [file] = await Promise.all([
    ui.page.waitForEvent('download'),
    byTest('receipt-dialog').getByRole('button', { name: button }).click(),
  ]);
  return new Uint8Array(readFileSync(await file.path()));
}

/** The actions button of the item labelled `label` on the slot's card. */
const actions = (slot: 'payer' | 'payee', label: string) =>
  byTest(`slot-${slot}`).getByRole('button', { name: `Actions for ${label}` });

describe('operator screen: issue, sell, receipts', () => {
  beforeAll(async () => {
    // The screen issues: its issuer host starts with the fixture (see issuingAtStart).
    ui = await startOperatorScreen({ issuingAtStart: true });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('issues a ticket on the shop’s card and shows its receipt', async () => {
    await ui.page.getByRole('button', { name: 'Issue ticket or coupon…' }).click();
    await byTest('issue-dialog').waitFor();
    await ui.page.locator('#issue-label').fill('Concert 24 Dec');
    await ui.page.locator('#issue-body').fill('seat B12');
    await ui.shoot('50-issue-dialog');
    await byTest('issue-dialog').getByRole('button', { name: 'Issue', exact: true }).click();
    await byTest('receipt-dialog').waitFor();
    const receipt = byTest('receipt');
    expect(await receipt.getAttribute('data-result')).toBe('completed');
    expect(await receipt.textContent()).toContain('Ticket: Concert 24 Dec');
    expect(await receipt.textContent()).toContain('Operator');
    await ui.shoot('51-issue-receipt');
    const item = ui.cards.payee.store.read().contents.find((c) => c.label === 'Concert 24 Dec');
    expect(text(item?.body)).toBe('seat B12');
  });

  it('prints the receipt alone, on the receipt roll', async () => {
    await ui.page.emulateMedia({ media: 'print' });
    const printed = readPdf(new Uint8Array(await ui.page.pdf({ preferCSSPageSize: true })));
    await ui.page.emulateMedia({ media: 'screen' });
    expect(printed.text).toContain('Corner Shop');
    expect(printed.text).toContain('Concert 24 Dec');
    expect(printed.text).not.toContain('Payer card');
    expect(printed.text).not.toContain('Transaction log');
    expect(Math.round(printed.width)).toBe(227); // 80 mm
  });

  it('exports the receipt as a PDF and as ESC/POS bytes, and says where they went', async () => {
    const flowId = await byTest('receipt').locator('.till-flow .mono').textContent();
    const pdf = readPdf(await download('Save as PDF'));
    expect(pdf.text).toContain('Corner Shop');
    expect(pdf.text).toContain('Concert 24 Dec');
    expect(pdf.text).toContain(flowId ?? 'no flow');
    expect(await byTest('receipt-delivery').textContent()).toMatch(
      /^Downloaded receipt-[0-9a-f]{8}\.pdf: the browser saves it/,
    );
    const printed = decodeEscPos(await download('Save for receipt printer'));
    expect(printed.cut).toBe(true);
    expect(printed.lines.join('\n')).toContain('Ticket: Concert 24 Dec');
    expect(await byTest('receipt-delivery').textContent()).toContain('.escpos');
    await ui.page.keyboard.press('Escape');
    await expect.poll(() => byTest('receipt-dialog').count()).toBe(0);
  });

  it('sells the ticket to the customer with their PIN, in one exchange, with a receipt showing their balance', async () => {
    await actions('payee', 'Concert 24 Dec').click();
    await byTest('item-dialog').waitFor();
    await ui.page.locator('#sell-price').fill('15.00');
    await ui.page.locator('#customer-pin').fill('9999');
    await ui.shoot('52-sell-dialog');
    await byTest('item-dialog').getByRole('button', { name: 'Sell', exact: true }).click();
    const error = byTest('item-result-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('E_PIN_WRONG');
    expect(ui.cards.payer.store.read().balance).toBe(200_00);
    await ui.page.locator('#customer-pin').fill('1234');
    await byTest('item-dialog').getByRole('button', { name: 'Sell', exact: true }).click();
    await byTest('receipt-dialog').waitFor();
    const receipt = await byTest('receipt').textContent();
    expect(receipt).toContain('Customer gave€15.00');
    expect(receipt).toContain('Customer receivedTicket: Concert 24 Dec');
    expect(receipt).toContain('Customer balance€185.00');
    await ui.shoot('53-sale-receipt');
    await byTest('receipt-dialog').getByRole('button', { name: 'Close' }).click();
    expect(ui.cards.payer.store.read().contents.map((c) => c.label)).toContain('Concert 24 Dec');
    // The customer's login ended with the sale: the balance is masked again.
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('••••');
    await expect.poll(() => byTest('payer-contents').textContent()).toContain('Concert 24 Dec');
  });

  it('lets the supervisor change the seat on the customer’s ticket in an issuer session', async () => {
    await actions('payer', 'Concert 24 Dec').click();
    await byTest('item-dialog').getByLabel('Change its details (issuer session)').check();
    await ui.page.locator('#item-details').fill('seat C7');
    await ui.shoot('54-change-seat');
    await byTest('item-dialog').getByRole('button', { name: 'Save the change' }).click();
    await expect.poll(() => byTest('item-result').textContent()).toContain('Change: done.');
    const ticket = ui.cards.payer.store.read().contents.find((c) => c.label === 'Concert 24 Dec');
    expect(text(ticket?.body)).toBe('seat C7');
    await byTest('item-dialog').getByRole('button', { name: 'Close' }).click();
  });

  it('gives a coupon from the shop’s card without the customer’s PIN', async () => {
    await ui.page.getByRole('button', { name: 'Issue ticket or coupon…' }).click();
    await ui.page.locator('#issue-type').selectOption('coupon');
    await ui.page.locator('#issue-label').fill('Free coffee');
    await byTest('issue-dialog').getByRole('button', { name: 'Issue', exact: true }).click();
    await byTest('receipt-dialog').getByRole('button', { name: 'Close' }).click();
    await actions('payee', 'Free coffee').click();
    await byTest('item-dialog').getByLabel('Give it to the customer').check();
    expect(await ui.page.locator('#customer-pin').count()).toBe(0);
    await byTest('item-dialog').getByRole('button', { name: 'Give', exact: true }).click();
    await byTest('receipt-dialog').waitFor();
    expect(await byTest('receipt').textContent()).toContain('Coupon: Free coffee');
    expect(ui.cards.payer.store.read().contents.map((c) => c.label)).toContain('Free coffee');
  });
});
