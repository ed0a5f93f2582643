// The contract's channels for the shop's day beyond the payment: who is at the terminal (operator
// sign-in, lock), the card operations (issue, sell, send and alter an item; refund a sale; unblock
// a PIN), receipts (shown, exported as PDF or ESC/POS), and the demo card tray. contract.ts spreads
// them into the one contract, from which every side derives its types. Zod only (and pure rules):
// the renderer bundles it.
import { z } from 'zod';
import { amountSchema } from '../../protocol/amount.js';
import { empty, errorInfo, pinDigits, slotName } from './contract-parts.js';
import { receiptSchema } from './documents.js';

/** The same rule as the configuration's operator IDs (services/operators/operator-config.ts). */
export const OPERATOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
/** A card item's label and body limits (protocol/settlement/contents-codec.ts; view-shapes.ts ties them). */
export const MAX_ITEM_LABEL_BYTES = 48;
export const MAX_ITEM_BODY_BYTES = 512;

const operatorId = z.string().regex(OPERATOR_ID_PATTERN, 'is not an operator ID');
const flowId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'is not a flow ID');
const itemId = z.string().regex(/^[0-9A-Fa-f]{32}$/, 'is not an item ID (32 hex digits)');
const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const itemLabel = z
  .string()
  .trim()
  .min(1)
  .refine((s) => utf8Bytes(s) <= MAX_ITEM_LABEL_BYTES, `at most ${MAX_ITEM_LABEL_BYTES} bytes`)
  .refine((s) => !CONTROL.test(s), 'must not hold control characters');
const bodyText = z
  .string()
  .refine((s) => utf8Bytes(s) <= MAX_ITEM_BODY_BYTES, `at most ${MAX_ITEM_BODY_BYTES} bytes`)
  .refine((s) => !CONTROL.test(s), 'must not hold control characters');

export const OPERATOR_ROLES_WIRE = ['cashier', 'supervisor'] as const;
const operatorView = z.object({ id: z.string(), name: z.string(), role: z.enum(OPERATOR_ROLES_WIRE) });
export type OperatorViewWire = z.infer<typeof operatorView>;

/** Who is at the terminal. 'open': the configuration lists no operators, so no one signs in. */
export const deskState = z.discriminatedUnion('state', [
  z.object({ state: z.literal('open') }),
  z.object({ state: z.literal('signed-out') }),
  z.object({ state: z.literal('signed-in'), operator: operatorView, msUntilLock: z.number().min(0) }),
  z.object({ state: z.literal('locked'), operator: operatorView }),
]);
export type DeskStateWire = z.infer<typeof deskState>;

/** How a card operation (other than a payment) ended; a completed one carries its receipt. */
export const operationOutcome = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('completed'),
    flowId,
    receipt: receiptSchema.optional(),
    warnings: z.array(z.string()),
  }),
  z.object({ status: z.literal('refused'), flowId: flowId.optional(), error: errorInfo }),
  z.object({ status: z.literal('rolled-back'), flowId, error: errorInfo }),
  z.object({
    status: z.literal('interrupted'),
    flowId,
    error: errorInfo,
    /** What recovery with the cards present did: completed, rolled-back, waiting, not-attempted... */
    recovery: z.string(),
    /** Value may be in flight until recovery settles it (the in-doubt list). */
    inDoubt: z.boolean(),
  }),
]);
export type OperationOutcomeWire = z.infer<typeof operationOutcome>;

const saleView = z.object({
  flowId,
  at: z.string(),
  amount: z.number().int(),
  customerId: z.string(),
  customerLabel: z.string(),
  shopId: z.string(),
  shopLabel: z.string(),
});

/** A sale as a refund sees it: what it was, what was refunded of it, what is left. */
export const refundable = z.object({
  sale: saleView,
  /** Refunds completed, or still in flight, of this sale. */
  refunded: z.number().int(),
  left: z.number().int(),
});
export type RefundableWire = z.infer<typeof refundable>;

const fileName = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/);
/** Where an exported document went: the browser downloads it, or the Electron app saved it. */
export const deliveredDocument = z.discriminatedUnion('delivery', [
  z.object({ delivery: z.literal('download'), fileName, mimeType: z.string(), base64: z.string() }),
  z.object({ delivery: z.literal('saved'), fileName, path: z.string() }),
  /** The operator closed the save dialog. */
  z.object({ delivery: z.literal('cancelled'), fileName }),
]);
export type DeliveredDocumentWire = z.infer<typeof deliveredDocument>;

export const TRAY_PLACES = ['payer', 'payee', 'tray'] as const;
const trayView = z.object({
  /** False where there is no tray (real readers, the Electron app): no cards, and moves are refused. */
  available: z.boolean(),
  cards: z.array(
    z.object({ id: z.string(), label: z.string(), note: z.string(), place: z.enum(TRAY_PLACES) }),
  ),
});
export type TrayViewWire = z.infer<typeof trayView>;

export const shopChannels = {
  'operator:status': { request: empty, response: deskState },
  'operator:sign-in': {
    request: z.strictObject({ operatorId, pin: pinDigits }),
    response: deskState,
  },
  'operator:sign-out': { request: empty, response: deskState },
  /** The operator leaves the terminal: the screen locks until someone signs in. */
  'operator:lock': { request: empty, response: deskState },
  /** Keys and clicks on the screen: the idle countdown starts again. */
  'operator:activity': { request: empty, response: deskState },

  /** Issue a ticket or coupon on the shop's issuer card (payee slot) under a create right. */
  'items:issue': {
    request: z.strictObject({
      type: z.enum(['ticket', 'coupon']),
      label: itemLabel,
      bodyText: bodyText.optional(),
    }),
    response: operationOutcome,
  },
  /**
   * Sell an item of the shop's card to the customer in one exchange: the customer's card gives
   * `price`, the shop's card the item. Paying with the card needs the customer's PIN: given here, or
   * already verified from this screen.
   */
  'items:sell': {
    request: z.strictObject({ itemId, price: amountSchema, customerPin: pinDigits.optional() }),
    response: operationOutcome,
  },
  /** Send an item from the card in `from` to the other; from the customer's card it needs their PIN. */
  'items:send': {
    request: z.strictObject({ itemId, from: slotName, customerPin: pinDigits.optional() }),
    response: operationOutcome,
  },
  /** Alter an issuer-alterable (or public) item's body in an issuer session with its issuer card. */
  'items:alter': {
    request: z.strictObject({ slot: slotName, itemId, bodyText }),
    response: operationOutcome,
  },

  /** What is left to refund of a sale, checked against the journal. */
  'refund:check': { request: z.strictObject({ saleFlowId: flowId }), response: refundable },
  /**
   * Pay (part of) a sale back from the shop's card (payee slot) to the customer's (payer slot):
   * needs the shop card's owner PIN and a supervisor's confirmation for this refund.
   */
  'refund:run': {
    request: z.strictObject({
      saleFlowId: flowId,
      amount: amountSchema,
      shopPin: pinDigits,
      supervisor: z.strictObject({ operatorId, pin: pinDigits }),
    }),
    response: operationOutcome,
  },

  /** The issuer's unblock code and a new PIN; the card checks the code and counts its tries. */
  'pin:unblock': {
    request: z.strictObject({ slot: slotName, unblockCode: z.string().regex(/^\d{8}$/), newPin: pinDigits }),
    response: z.object({ slot: slotName }),
  },

  'receipts:get': { request: z.strictObject({ flowId }), response: receiptSchema },
  'receipts:export': {
    request: z.strictObject({ flowId, format: z.enum(['pdf', 'escpos']) }),
    response: deliveredDocument,
  },

  'tray:status': { request: empty, response: trayView },
  'tray:move': {
    request: z.strictObject({ card: z.string().regex(/^[a-z][a-z0-9-]{0,23}$/), to: z.enum(TRAY_PLACES) }),
    response: trayView,
  },
} as const;

export const shopEvents = {
  /** Someone signed in or out, or the screen locked: every window shows it. */
  operator: deskState,
  /** The terminal ended a card's owner login (after a sale, at the lock, when its screen went). */
  'owner-logout': z.object({ slot: slotName }),
} as const;
