// A completed (or ended) flow as the shop's documents see it: what kind of business it was, what
// moved, who did it, how it ended. The terminal maps its journal's flows to these (a value transfer
// from the customer's card to the shop's is a sale...); receipts and the Z report are built from them
// alone, so they never read the journal themselves. Amounts are minor units, as on the cards.
import { z } from 'zod';

export const SHOP_FLOW_KINDS = ['sale', 'refund', 'exchange', 'item-send', 'issue'] as const;
export type ShopFlowKind = (typeof SHOP_FLOW_KINDS)[number];

/** How the flow ended: value moved, nothing moved, or value in flight until recovery settles it. */
export const FLOW_RESULTS = ['completed', 'not-completed', 'in-doubt'] as const;
export type FlowResult = (typeof FLOW_RESULTS)[number];

/** A card amount: the cards hold unsigned 32-bit balances. */
export const amountSchema = z.number().int().positive().max(0xffffffff);
const flowId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a flow ID');

export const itemSchema = z.object({
  /** The item's label as the card lists it ("Concert 24 Dec, seat B12"). */
  label: z.string().max(200),
  /** ticket, coupon, or another content type the issuer defines. */
  type: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/),
});
export type ShopItem = z.infer<typeof itemSchema>;

/** One side of an exchange: e-money or an item. */
export const legSchema = z.union([
  z.object({ amount: amountSchema }).strict(),
  z.object({ item: itemSchema }).strict(),
]);
export type Leg = z.infer<typeof legSchema>;

export const operatorRefSchema = z.object({ id: z.string().min(1).max(32), name: z.string().max(60) });

const common = {
  flowId,
  /** When it ended (or, in doubt, when it started): an ISO instant with its offset. */
  at: z.iso.datetime({ offset: true }),
  /** Who ran it; absent for flows journaled before operators signed in. */
  operator: operatorRefSchema.optional(),
  result: z.enum(FLOW_RESULTS),
};

export const shopFlowSchema = z.discriminatedUnion('kind', [
  /** The customer's card pays the shop's. */
  z.object({ kind: z.literal('sale'), ...common, amount: amountSchema }),
  /** The shop's card pays back (part of) an earlier sale. */
  z.object({ kind: z.literal('refund'), ...common, amount: amountSchema, refundOf: flowId }),
  /** Both cards give in one exchange: item for e-money (a ticket sold or bought back), or item for item. */
  z
    .object({ kind: z.literal('exchange'), ...common, customerGives: legSchema, shopGives: legSchema })
    .refine((f) => 'item' in f.customerGives || 'item' in f.shopGives, {
      message: 'an exchange moves at least one item (e-money for e-money is a sale)',
    }),
  /** An item sent from one card to the other. */
  z.object({
    kind: z.literal('item-send'),
    ...common,
    direction: z.enum(['to-customer', 'to-shop']),
    item: itemSchema,
  }),
  /** An item issued on the shop's issuer card under a create right. */
  z.object({ kind: z.literal('issue'), ...common, item: itemSchema }),
]);

export type ShopFlow = z.infer<typeof shopFlowSchema>;

/** The e-money a flow moved into the shop's card and out of it (0 for one that did not complete). */
export function valueLegs(f: ShopFlow): { valueIn: number; valueOut: number } {
  if (f.result !== 'completed') return { valueIn: 0, valueOut: 0 };
  switch (f.kind) {
    case 'sale':
      return { valueIn: f.amount, valueOut: 0 };
    case 'refund':
      return { valueIn: 0, valueOut: f.amount };
    case 'exchange':
      return {
        valueIn: 'amount' in f.customerGives ? f.customerGives.amount : 0,
        valueOut: 'amount' in f.shopGives ? f.shopGives.amount : 0,
      };
    default:
      return { valueIn: 0, valueOut: 0 };
  }
}

/** The items a flow moved or created (0 for one that did not complete). */
export function itemCount(f: ShopFlow): number {
  if (f.result !== 'completed') return 0;
  switch (f.kind) {
    case 'exchange':
      return Number('item' in f.customerGives) + Number('item' in f.shopGives);
    case 'item-send':
    case 'issue':
      return 1;
    default:
      return 0;
  }
}
