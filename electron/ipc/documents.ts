// The shop's documents as they leave the main process: a receipt and a Z report, every field already
// written for people (locale, currency, time zone) beside the exact numbers. Zod schemas from which the
// types derive, importing nothing but zod (and the zod-only shop-flow.ts), so the IPC contract can
// carry them and the renderer's print views can take them as they are.
import { z } from 'zod';
import { FLOW_RESULTS, SHOP_FLOW_KINDS } from './shop-flow.js';

export const receiptRowSchema = z.object({
  label: z.string(),
  value: z.string(),
  /** The amount that matters most (paid, refunded): printed large. */
  total: z.boolean().optional(),
});
export type ReceiptRow = z.infer<typeof receiptRowSchema>;

export const receiptSchema = z.object({
  kind: z.enum(SHOP_FLOW_KINDS),
  shopName: z.string(),
  /** "Sale", "Refund"… */
  title: z.string(),
  /** Terminal, date, time, time zone, operator. */
  header: z.array(receiptRowSchema),
  /** Cards, items, amounts, the customer's balance when allowed. */
  body: z.array(receiptRowSchema),
  result: z.object({ code: z.enum(FLOW_RESULTS), text: z.string() }),
  flowId: z.string(),
});
export type Receipt = z.infer<typeof receiptSchema>;

/** An amount exact (minor units) and as the shop writes it. */
export const amountSchema = z.object({ minor: z.number().int(), text: z.string() });
export type Amount = z.infer<typeof amountSchema>;

export const zLineSchema = z.object({
  kind: z.enum([...SHOP_FLOW_KINDS, 'total']),
  label: z.string(),
  /** Completed flows. */
  count: z.number().int(),
  /** Flows that ended without completing, or are in doubt. */
  notCompleted: z.number().int(),
  /** Items moved or issued by the completed flows. */
  items: z.number().int(),
  /** E-money into the shop's card, and out of it. */
  valueIn: amountSchema,
  valueOut: amountSchema,
  /** valueIn − valueOut. */
  net: amountSchema,
});
export type ZLine = z.infer<typeof zLineSchema>;

export const zReportSchema = z.object({
  reportNumber: z.number().int(),
  shopName: z.string(),
  terminalId: z.string(),
  businessDay: z.string(),
  timeZone: z.string(),
  /** The day's span on the shop's clock ("14 Jul 2026 00:00:00 GMT+1" …). */
  from: z.string(),
  to: z.string(),
  generatedAt: z.string(),
  currencyCode: z.string(),
  minorUnits: z.number().int(),
  /** One line per kind, in a fixed order, zeros included. */
  kinds: z.array(zLineSchema),
  total: zLineSchema,
  operators: z.array(
    z.object({
      /** Empty for flows made before operators signed in. */
      id: z.string(),
      name: z.string(),
      lines: z.array(zLineSchema),
      total: zLineSchema,
    }),
  ),
  openInDoubt: z.array(
    z.object({
      flowId: z.string(),
      kind: z.enum(SHOP_FLOW_KINDS),
      amount: amountSchema.optional(),
      /** On the shop's clock, and as the instant (ISO, UTC). */
      since: z.string(),
      sinceInstant: z.string(),
      operator: z.string(),
    }),
  ),
});
export type ZReport = z.infer<typeof zReportSchema>;
