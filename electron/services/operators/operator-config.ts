// The terminal configuration's operators: who may sign in at this terminal, their role, and their PIN
// as a salted scrypt hash (the same form as the kiosk exit PIN; `npm run operator-pin` prints an
// entry). A malformed hash or a repeated ID is refused when the configuration is read.
import { z } from 'zod';
import { errorMessage } from '../../../protocol/errors.js';
import { OPERATOR_ROLES } from './operator-roles.js';
import { parsePinHash } from './pin-hash.js';

export const OPERATOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
const CONTROL_OR_BIDI = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

export const operatorEntrySchema = z.object({
  id: z.string().regex(OPERATOR_ID_PATTERN, 'must be 1 to 32 letters, digits, ".", "_" or "-"'),
  /** Shown on the screen, the journal and the receipts. */
  name: z
    .string()
    .trim()
    .min(1)
    .max(60)
    .refine((n) => !CONTROL_OR_BIDI.test(n), 'must not hold control or text-direction characters'),
  role: z.enum(OPERATOR_ROLES),
  pinHash: z
    .string()
    .min(1)
    .max(300)
    .superRefine((text, ctx) => {
      try {
        parsePinHash(text, 'the hash', 'npm run operator-pin');
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: errorMessage(e) });
      }
    }),
});

export const operatorsSchema = z
  .array(operatorEntrySchema)
  .max(200)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((o, i) => {
      if (seen.has(o.id))
        ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `"${o.id}" is listed twice` });
      seen.add(o.id);
    });
  });

export type OperatorEntry = z.infer<typeof operatorEntrySchema>;
