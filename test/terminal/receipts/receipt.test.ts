// The receipt as data: the fields a shop's receipt must carry, written in the shop's locale, currency
// and time zone; card IDs masked; the customer's balance only when their session allowed it; text from
// cards made harmless; every malformed input refused with the field named.
import { describe, expect, it } from 'vitest';
import { buildReceipt, type ReceiptInput } from '../../../electron/services/receipts/receipt.js';
import { isTerminalError } from '../../../protocol/errors.js';
import { ALICE, INPUTS, SALE, SETTINGS, SHOP } from './receipt-fixtures.js';

const rowsOf = (r: ReturnType<typeof buildReceipt>) =>
  Object.fromEntries([...r.header, ...r.body].map((x) => [x.label, x.value]));

function refusal(input: unknown, settings: unknown = SETTINGS): string {
  try {
    buildReceipt(input as ReceiptInput, settings as typeof SETTINGS);
  } catch (e) {
    expect(isTerminalError(e, 'E_INPUT_INVALID'), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('a receipt', () => {
  it('for a sale carries shop, terminal, local date and time with the zone, operator, cards, amount, flow and result', () => {
    const r = buildReceipt(SALE, SETTINGS);
    expect(r).toEqual({
      kind: 'sale',
      shopName: 'Corner Shop',
      title: 'Sale',
      header: [
        { label: 'Terminal', value: 'demo-shop-terminal' },
        { label: 'Date', value: '14 Jul 2026' },
        { label: 'Time', value: '17:05:09 GMT+1' },
        { label: 'Time zone', value: 'Europe/Dublin' },
        { label: 'Operator', value: 'Casey' },
      ],
      body: [
        { label: 'Customer card', value: 'Alice A1B2…0718' },
        { label: 'Shop card', value: 'Corner Shop 0011…66FF' },
        { label: 'Paid', value: '€12.50', total: true },
        { label: 'Customer balance', value: '€187.50' },
      ],
      result: { code: 'completed', text: 'Completed' },
      flowId: SALE.flowId,
    });
  });

  it('has the right rows for every kind', () => {
    const rows = Object.fromEntries(
      Object.entries(INPUTS).map(([k, i]) => [k, rowsOf(buildReceipt(i, SETTINGS))]),
    );
    expect(rows.refund).toMatchObject({ 'Refund of': SALE.flowId, Refunded: '€12.50' });
    expect(rows['exchange item for e-money']).toMatchObject({
      'Customer gave': '€15.00',
      'Customer received': 'Ticket: Concert 24 Dec B12',
      'Customer balance': '€172.50',
    });
    expect(rows['exchange item for item']).toMatchObject({
      'Customer gave': 'Coupon: Free coffee',
      'Customer received': 'Ticket: Concert 24 Dec B12',
    });
    expect(rows['item send']).toMatchObject({
      'From card': 'Corner Shop 0011…66FF',
      'To card': 'Alice A1B2…0718',
      Item: 'Coupon: Free coffee',
    });
    expect(rows.issue).toMatchObject({
      'Issued on card': 'Corner Shop 0011…66FF',
      Item: 'Ticket: Concert 24 Dec B12',
    });
    expect(rows.issue).not.toHaveProperty('Customer card');
  });

  it('writes the local date and time of the configured zone, the zone named', () => {
    const late = { ...SALE, at: '2026-12-31T23:30:00Z' };
    const at = (timeZone: string) => rowsOf(buildReceipt(late, { ...SETTINGS, timeZone }));
    expect(at('Europe/Dublin')).toMatchObject({
      Date: '31 Dec 2026',
      Time: '23:30:00 GMT+0',
      'Time zone': 'Europe/Dublin',
    });
    expect(at('Europe/Berlin')).toMatchObject({
      Date: '1 Jan 2027',
      Time: '00:30:00 GMT+1',
      'Time zone': 'Europe/Berlin',
    });
    expect(at('America/New_York')).toMatchObject({ Date: '31 Dec 2026', Time: '18:30:00 GMT-5' });
    expect(at('Asia/Kolkata')).toMatchObject({ Date: '1 Jan 2027', Time: '05:00:00 GMT+5:30' });
  });

  it('writes amounts as the currency and locale say, with plain spaces', () => {
    const r = (money: typeof SETTINGS.money, amount: number) =>
      rowsOf(buildReceipt({ ...SALE, amount, customerBalance: undefined }, { ...SETTINGS, money })).Paid;
    expect(r({ currencyCode: 'EUR', minorUnits: 2, locale: 'de-DE' }, 1_234_56)).toBe('1.234,56 €');
    expect(r({ currencyCode: 'EUR', minorUnits: 2, locale: 'fr-FR' }, 1_234_56)).toBe('1 234,56 €');
    expect(r({ currencyCode: 'JPY', minorUnits: 0, locale: 'ja-JP' }, 1500)).toBe('￥1,500');
    expect(r({ currencyCode: 'GBP', minorUnits: 2, locale: 'en-GB' }, 5)).toBe('£0.05');
  });

  it('never shows a full card ID', () => {
    for (const input of Object.values(INPUTS)) {
      const text = JSON.stringify(buildReceipt(input, SETTINGS)).toLowerCase();
      expect(text).not.toContain(ALICE.holderId);
      expect(text).not.toContain(SHOP.holderId);
      expect(text).not.toContain(ALICE.holderId.slice(4, 12));
    }
  });

  it("shows the customer's balance only when the customer's session allowed it, and the sale completed", () => {
    const balance = (input: ReceiptInput) => rowsOf(buildReceipt(input, SETTINGS))['Customer balance'];
    expect(balance(SALE)).toBe('€187.50');
    expect(
      balance({ ...SALE, customerBalance: { amount: 187_50, sessionAllowsBalance: false } }),
    ).toBeUndefined();
    expect(balance({ ...SALE, customerBalance: undefined })).toBeUndefined();
    expect(balance({ ...SALE, result: 'not-completed' })).toBeUndefined();
    expect(
      JSON.stringify(
        buildReceipt({ ...SALE, customerBalance: { amount: 187_50, sessionAllowsBalance: false } }, SETTINGS),
      ),
    ).not.toContain('187');
  });

  it('does not say "paid" for what did not complete, and says what happened', () => {
    const failed = buildReceipt({ ...SALE, result: 'not-completed' }, SETTINGS);
    expect(rowsOf(failed)).toMatchObject({ Amount: '€12.50' });
    expect(rowsOf(failed)).not.toHaveProperty('Paid');
    expect(failed.body.some((r) => r.total)).toBe(false);
    expect(failed.result).toEqual({ code: 'not-completed', text: 'Not completed: no value moved' });
    expect(buildReceipt({ ...SALE, result: 'in-doubt' }, SETTINGS).result.text).toMatch(
      /completes or returns/,
    );
  });

  it('removes control and text-direction characters that a card label or name could carry', () => {
    const hostile = {
      ...SALE,
      customerCard: { ...ALICE, label: 'Al\u001bp\u0000\u0019\u00faice\u202e05.21\u0085' },
      operator: { id: 'casey', name: 'Ca\u0007sey\u2066' },
    };
    const r = buildReceipt(hostile, { ...SETTINGS, shopName: 'Corner\u001bi Shop' });
    expect(rowsOf(r)['Customer card']).toBe('Alpúice05.21 A1B2…0718');
    expect(rowsOf(r).Operator).toBe('Casey');
    expect(r.shopName).toBe('Corneri Shop');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
    expect(JSON.stringify(r)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\\u00/);
  });

  it('refuses malformed input, naming the field, and malformed settings', () => {
    expect(refusal({ ...SALE, amount: -1 })).toMatch(/amount/);
    expect(refusal({ ...SALE, amount: 12.5 })).toMatch(/amount/);
    expect(refusal({ ...SALE, amount: 2 ** 32 })).toMatch(/amount/);
    expect(refusal({ ...SALE, kind: 'gift' })).toMatch(/kind/);
    expect(refusal({ ...SALE, at: '14/07/2026' })).toMatch(/at/);
    expect(refusal({ ...SALE, flowId: 'a b' })).toMatch(/flowId/);
    expect(refusal({ ...SALE, customerCard: { holderId: 'xyz', label: 'A' } })).toMatch(
      /customerCard\.holderId/,
    );
    expect(refusal({ ...SALE, customerCard: undefined })).toMatch(/customerCard is needed/);
    expect(refusal({ ...SALE, result: 'maybe' })).toMatch(/result/);
    expect(
      refusal({
        ...INPUTS['exchange item for item'],
        customerGives: { amount: 100 },
        shopGives: { amount: 100 },
      }),
    ).toMatch(/at least one item/);
    expect(refusal({ ...INPUTS.refund, refundOf: undefined })).toMatch(/refundOf/);
    expect(refusal(SALE, { ...SETTINGS, timeZone: 'Mars/Olympus' })).toMatch(/timeZone/);
    expect(refusal(SALE, { ...SETTINGS, shopName: ' ' })).toMatch(/shopName/);
    expect(refusal(SALE, { ...SETTINGS, money: { ...SETTINGS.money, currencyCode: 'euro' } })).toMatch(
      /currencyCode/,
    );
  });
});
