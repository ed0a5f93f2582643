// The contract's building blocks that more than one of its files use (contract.ts, contract-shop.ts):
// slot names, the error shape, the empty request. Zod only, like the contract: the renderer bundles it.
import { z } from 'zod';

export const slotName = z.enum(['payer', 'payee']);
export type SlotNameWire = z.infer<typeof slotName>;

/** Requests carry no more than this many characters in any string. */
export const MAX_TEXT = 200;
export const empty = z.strictObject({});
export const hex = z.string();
export const isoTime = z.string();
export const errorInfo = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type ErrorInfo = z.infer<typeof errorInfo>;

/** An owner or operator PIN as typed: 4 to 12 digits. */
export const pinDigits = z.string().regex(/^\d{4,12}$/);
