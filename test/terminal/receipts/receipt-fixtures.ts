// One receipt input of every kind, for the demo shop, and the settings they are printed with.
import type { DocumentSettings } from '../../../electron/services/receipts/document-settings.js';
import type { ReceiptInput } from '../../../electron/services/receipts/receipt.js';

export const SETTINGS: DocumentSettings = {
  shopName: 'Corner Shop',
  terminalId: 'demo-shop-terminal',
  timeZone: 'Europe/Dublin',
  money: { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' },
};

export const ALICE = { holderId: 'a1b2c3d4e5f60718', label: 'Alice' };
export const SHOP = { holderId: '00112233445566ff', label: 'Corner Shop' };
const common = {
  at: '2026-07-14T16:05:09.000Z',
  operator: { id: 'casey', name: 'Casey' },
  result: 'completed' as const,
  shopCard: SHOP,
  customerCard: ALICE,
};
const concert = { type: 'ticket', label: 'Concert 24 Dec B12' };

export const SALE = {
  ...common,
  kind: 'sale' as const,
  flowId: '3f2a6c1e-8b7d-4c2a-9e1f-0a1b2c3d4e5f',
  amount: 12_50,
  customerBalance: { amount: 187_50, sessionAllowsBalance: true },
} satisfies ReceiptInput;

export const INPUTS: Record<string, ReceiptInput> = {
  sale: SALE,
  refund: {
    ...common,
    kind: 'refund',
    flowId: '9c1d2e3f-0000-4abc-8def-123456789abc',
    amount: 12_50,
    refundOf: SALE.flowId,
  },
  'exchange item for e-money': {
    ...common,
    kind: 'exchange',
    flowId: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
    customerGives: { amount: 15_00 },
    shopGives: { item: concert },
    customerBalance: { amount: 172_50, sessionAllowsBalance: true },
  },
  'exchange item for item': {
    ...common,
    kind: 'exchange',
    flowId: '11111111-2222-4333-8444-555555555555',
    customerGives: { item: { type: 'coupon', label: 'Free coffee' } },
    shopGives: { item: concert },
  },
  'item send': {
    ...common,
    kind: 'item-send',
    flowId: '22222222-3333-4444-8555-666666666666',
    direction: 'to-customer',
    item: { type: 'coupon', label: 'Free coffee' },
  },
  issue: {
    ...common,
    customerCard: undefined,
    kind: 'issue',
    flowId: '33333333-4444-4555-8666-777777777777',
    item: concert,
  },
};
