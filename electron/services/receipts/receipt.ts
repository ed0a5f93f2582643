// A receipt as pure data: every field already written as the shop's locale, currency and time zone
// say, so the print view, the PDF and the thermal printer show the same text. Built from a shop flow
// and the two cards; the customer's balance appears only when the input says that customer's own
// session allowed the terminal to read it (an owner PIN given for this sale), never otherwise.
import { z } from 'zod';
import { TerminalError } from '../../../protocol/errors.js';
import type { Receipt, ReceiptRow } from '../../ipc/documents.js';
import { type Leg, type ShopFlow, type ShopItem, shopFlowSchema } from '../../ipc/shop-flow.js';
import {
  type DocumentSettings,
  documentSettings,
  localTime,
  maskCardId,
  money,
  parseOrRefuse,
  printable,
} from './document-settings.js';

const cardSchema = z.object({
  /** The holder ID from the card's certificate (hex). */
  holderId: z.string().regex(/^[0-9A-Fa-f]{8,64}$/, 'must be a holder ID (hex)'),
  /** The holder's name from the certificate ("Alice", "Corner Shop"). */
  label: z.string().max(80),
});
export type ReceiptCard = z.infer<typeof cardSchema>;

export const receiptInputSchema = z.intersection(
  shopFlowSchema,
  z.object({
    shopCard: cardSchema,
    /** Absent only for an issue (nothing reaches a customer). */
    customerCard: cardSchema.optional(),
    /**
     * The customer's balance after the flow, as their card showed it, and whether the customer's own
     * session allowed showing it. Without `sessionAllowsBalance: true` it is never on the receipt.
     */
    customerBalance: z
      .object({ amount: z.number().int().min(0).max(0xffffffff), sessionAllowsBalance: z.boolean() })
      .optional(),
  }),
);
export type ReceiptInput = z.input<typeof receiptInputSchema>;
export type { Receipt, ReceiptRow };

const TITLES: Record<ShopFlow['kind'], string> = {
  sale: 'Sale',
  refund: 'Refund',
  exchange: 'Exchange',
  'item-send': 'Item sent',
  issue: 'Issue',
};

const RESULTS: Record<Receipt['result']['code'], string> = {
  completed: 'Completed',
  'not-completed': 'Not completed: no value moved',
  'in-doubt': 'Interrupted: the terminal completes or returns it',
};

/** Builds the receipt; refuses (E_INPUT_INVALID, naming the field) an input or settings that do not validate. */
export function buildReceipt(input: ReceiptInput, settings: DocumentSettings): Receipt {
  const s = documentSettings(settings);
  const r = parseOrRefuse(receiptInputSchema, input, 'receipt input');
  if (r.kind !== 'issue' && !r.customerCard) {
    throw new TerminalError('E_INPUT_INVALID', `receipt input: customerCard is needed for a ${r.kind}`);
  }
  const amount = (minor: number) => money(minor, s.money);
  const card = (c: ReceiptCard) => `${printable(c.label) || 'Card'} ${maskCardId(c.holderId)}`;
  const item = (i: ShopItem) => `${capital(i.type)}: ${printable(i.label) || '(no label)'}`;
  const leg = (l: Leg) => ('amount' in l ? amount(l.amount) : item(l.item));
  const shop = card(r.shopCard);
  const customer = r.customerCard ? card(r.customerCard) : '';

  const t = localTime(new Date(r.at), s);
  const header: ReceiptRow[] = [
    { label: 'Terminal', value: printable(s.terminalId) },
    { label: 'Date', value: t.date },
    { label: 'Time', value: t.time },
    { label: 'Time zone', value: t.timeZone },
  ];
  if (r.operator) header.push({ label: 'Operator', value: printable(r.operator.name) || r.operator.id });

  // What did not complete is not said to have been paid.
  const done = r.result === 'completed';
  const body: ReceiptRow[] = [];
  switch (r.kind) {
    case 'sale':
      body.push({ label: 'Customer card', value: customer }, { label: 'Shop card', value: shop });
      body.push({ label: done ? 'Paid' : 'Amount', value: amount(r.amount), total: done });
      break;
    case 'refund':
      body.push({ label: 'Refund of', value: r.refundOf });
      body.push({ label: 'Shop card', value: shop }, { label: 'Customer card', value: customer });
      body.push({ label: done ? 'Refunded' : 'Amount', value: amount(r.amount), total: done });
      break;
    case 'exchange':
      body.push({ label: 'Customer card', value: customer }, { label: 'Shop card', value: shop });
      body.push({
        label: done ? 'Customer gave' : 'Customer offered',
        value: leg(r.customerGives),
        total: done && 'amount' in r.customerGives,
      });
      body.push({
        label: done ? 'Customer received' : 'Shop offered',
        value: leg(r.shopGives),
        total: done && 'amount' in r.shopGives,
      });
      break;
    case 'item-send': {
      const [from, to] = r.direction === 'to-customer' ? [shop, customer] : [customer, shop];
      body.push({ label: 'From card', value: from }, { label: 'To card', value: to });
      body.push({ label: 'Item', value: item(r.item) });
      break;
    }
    case 'issue':
      body.push(
        { label: done ? 'Issued on card' : 'Card', value: shop },
        { label: 'Item', value: item(r.item) },
      );
      break;
  }
  if (r.customerBalance?.sessionAllowsBalance === true && r.customerCard && r.result === 'completed') {
    body.push({ label: 'Customer balance', value: amount(r.customerBalance.amount) });
  }
  return {
    kind: r.kind,
    shopName: printable(s.shopName),
    title: TITLES[r.kind],
    header,
    body,
    result: { code: r.result, text: RESULTS[r.result] },
    flowId: r.flowId,
  };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
