// Refunds on the screen: a sale paid by the cashier, looked up by its flow ID, refused for a cashier
// confirming alone, a wrong supervisor PIN and more than the sale (each moving nothing), then refunded
// with the shop card's PIN and the supervisor's, its receipt, and a second refund refused: nothing left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OperatorFixture, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
let saleFlowId = '';
const byTest = (id: string) => ui.byTest(id);
const dialog = () => byTest('refund-dialog');
const balances = () => ({
  alice: ui.cards.payer.store.read().balance,
  shop: ui.cards.payee.store.read().balance,
});

async function fillRefund(o: { amount?: string; supervisor?: string; pin?: string }) {
  if (o.amount !== undefined) await ui.page.locator('#refund-amount').fill(o.amount);
  await ui.page.locator('#refund-shop-pin').fill('0000');
  await ui.page.locator('#refund-supervisor').fill(o.supervisor ?? 'sam');
  await ui.page.locator('#refund-supervisor-pin').fill(o.pin ?? '9999');
  await dialog().getByRole('button', { name: 'Refund', exact: true }).click();
}

describe('operator screen: refunds', () => {
  beforeAll(async () => {
    ui = await startOperatorScreen({ operator: 'casey' });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('takes a sale of 12.50 and keeps its flow ID from the receipt', async () => {
    await ui.page.locator('#amount').fill('12.50');
    await ui.page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 15_000 })
      .toContain('Payment complete');
    await byTest('pay-result').getByRole('button', { name: 'Receipt…' }).click();
    saleFlowId = (await byTest('receipt').locator('.till-flow .mono').textContent()) ?? '';
    expect(saleFlowId).toMatch(/^[0-9a-f-]{36}$/);
    await byTest('receipt-dialog').getByRole('button', { name: 'Close' }).click();
  });

  it('looks the sale up and shows what is left to refund', async () => {
    await ui.page.getByRole('button', { name: 'Refund a sale…' }).click();
    await ui.page.locator('#refund-sale').fill('not-a-sale');
    await dialog().getByRole('button', { name: 'Look up' }).click();
    await expect.poll(() => byTest('refund-lookup-error').getAttribute('data-code')).toBe('E_INPUT_INVALID');
    await ui.page.locator('#refund-sale').fill(saleFlowId);
    await dialog().getByRole('button', { name: 'Look up' }).click();
    await expect.poll(() => byTest('refund-left').textContent()).toBe('€12.50');
    expect(await byTest('refund-sale-facts').textContent()).toContain('€12.50 from Alice to Corner Shop');
    expect(await ui.page.locator('#refund-amount').inputValue()).toBe('12.50');
    await ui.shoot('60-refund-dialog');
  });

  it('refuses the cashier confirming the refund herself, moving nothing', async () => {
    const before = balances();
    await fillRefund({ supervisor: 'casey', pin: '1111' });
    const error = byTest('refund-result-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('E_ACCESS_DENIED');
    expect(await error.textContent()).toContain('The operator who confirmed is not a supervisor.');
    expect(balances()).toEqual(before);
    await ui.shoot('61-refund-refused');
  });

  it('refuses a wrong supervisor PIN in the operator’s words, moving nothing', async () => {
    const before = balances();
    await fillRefund({ pin: '9998' });
    const error = byTest('refund-result-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('E_PIN_WRONG');
    expect(await error.textContent()).toContain('Wrong operator ID or PIN.');
    expect(balances()).toEqual(before);
  });

  it('refuses more than the sale, moving nothing', async () => {
    const before = balances();
    await fillRefund({ amount: '12.51' });
    await expect.poll(() => byTest('refund-result-error').getAttribute('data-code')).toBe('E_REFUND_LIMIT');
    expect(await byTest('refund-result-error').textContent()).toContain('more than what is left of the sale');
    expect(balances()).toEqual(before);
  });

  it('refunds the sale with the supervisor’s confirmation: the shop card pays the customer card back', async () => {
    const before = balances();
    await fillRefund({ amount: '12.50' });
    await byTest('receipt-dialog').waitFor({ timeout: 15_000 });
    const receipt = await byTest('receipt').textContent();
    expect(receipt).toContain('Refund');
    expect(receipt).toContain(`Refund of${saleFlowId}`);
    expect(receipt).toContain('Refunded€12.50');
    expect(balances()).toEqual({ alice: before.alice + 12_50, shop: before.shop - 12_50 });
    await ui.shoot('62-refund-receipt');
    await byTest('receipt-dialog').getByRole('button', { name: 'Close' }).click();
  });

  it('refuses to refund it twice: nothing is left', async () => {
    await ui.page.getByRole('button', { name: 'Refund a sale…' }).click();
    await ui.page.locator('#refund-sale').fill(saleFlowId);
    await dialog().getByRole('button', { name: 'Look up' }).click();
    await expect.poll(() => byTest('refund-left').textContent()).toBe('€0.00');
    const before = balances();
    await fillRefund({ amount: '0.01' });
    await expect.poll(() => byTest('refund-result-error').getAttribute('data-code')).toBe('E_REFUND_LIMIT');
    expect(await byTest('refund-result-error').textContent()).toContain('refunded in full');
    expect(balances()).toEqual(before);
    const refunds = ui.services.flows
      .all()
      .filter((f) => ui.services.journal.entriesForFlow(f.flowId)[0]?.payload.refundOf === saleFlowId);
    expect(refunds).toHaveLength(1);
    expect(ui.services.journal.entriesForFlow(refunds[0]!.flowId)[0]?.payload).toMatchObject({
      operator: 'casey',
      confirmedBy: 'sam',
    });
  });
});
