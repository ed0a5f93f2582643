// A card's issuance as the issuer's staff tools send it to the issuer host, and what the host answers
// (docs/issuer-host.md, "Issuance"). The tools send the card's certificate (public: the card shows it
// to every terminal), never the card file: the host reads the holder ID, serial and end from the
// certificate after checking the issuer CA signed it. A staff request (issuer-admin token).
import { z } from 'zod';

export const ISSUANCES_PATH = '/admin/ledger/issuances';
/** A card holds a 32-bit balance: no issuance is larger. */
export const MAX_ISSUANCE_AMOUNT = 0xffff_ffff;

export const issuanceRequestSchema = z.strictObject({
  /** The card certificate, DER in hex. */
  certificate: z.string().regex(/^(?:[0-9A-Fa-f]{2}){16,2048}$/, 'is the card certificate, DER in hex'),
  /** ISO 4217 numeric: one of the currencies the issuer issues. */
  currency: z.number().int().min(1).max(999),
  /** The value issued on the card (its balance when personalized), minor units. */
  amount: z.number().int().min(1).max(MAX_ISSUANCE_AMOUNT),
});
export type IssuanceRequest = z.infer<typeof issuanceRequestSchema>;

export const issuanceSchema = z.object({
  issuanceId: z.string(),
  holderId: z.string(),
  currency: z.number(),
  amount: z.string(),
  certificateSerial: z.string().nullable(),
  notAfter: z.string().nullable(),
  recordedBy: z.string(),
  recordedAt: z.string(),
});
export type IssuanceJson = z.infer<typeof issuanceSchema>;

/** 201 when recorded now, 200 when the same issuance was recorded before (`replayed`). */
export const issuanceResponseSchema = issuanceSchema.extend({ replayed: z.boolean() });
export type IssuanceResponse = z.infer<typeof issuanceResponseSchema>;
