// What a terminal uploads to the issuer host for clearing, and what the host answers (issue 12
// phase 3, docs/issuer-host.md "Clearing"). An upload carries journal entries exactly as the chain
// hashes them (docs/journal.md, "Hash chain"): each entry's seq, its flow (the flow ID and kind code
// on the flow's first entry, else the flow's number) and its record (CBOR: time, step, payload), and
// the first 8 bytes of its chain hash as the terminal stored it. The host recomputes the chain from
// the hash of the last entry it holds for the terminal: an entry whose bytes do not give its tag was
// edited; a seq it already holds with other bytes is a fork (or an edit); a batch that does not
// start at or before the host's next seq leaves a gap. The request is a signed terminal request
// (signed-request.ts), so the host knows which terminal's chain it continues.
import { z } from 'zod';

export const CLEARING_UPLOAD_PATH = '/terminal/clearing/upload';
export const CLEARING_CURSOR_PATH = '/terminal/clearing/cursor';
export const RELEASE_PROOFS_PATH = '/terminal/clearing/release-proofs';
export const CONTENT_RELEASE_PROOFS_PATH = '/terminal/clearing/content-release-proofs';
export const CLEARING_FORMAT = 1;
/** Entries per upload, at most. */
export const MAX_UPLOAD_ENTRIES = 1000;
/** A record's bytes, at most (the journal's payload limit, 64 KiB, and its time and step). */
export const MAX_RECORD_BYTES = 64 * 1024 + 128;
/** The largest upload body the host accepts by default (the route's own limit). */
export const DEFAULT_UPLOAD_BODY_BYTES = 2 * 1024 * 1024;

const FLOW_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const seqSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const hashHex = z.string().regex(/^[0-9a-f]{64}$/, '32 bytes of lower-case hex');

export const uploadEntrySchema = z
  .strictObject({
    seq: seqSchema,
    /** The seq of the flow's first entry (this entry's own seq on that entry). */
    flowNo: seqSchema,
    /** On a flow's first entry only: its ID (a UUID or text) and its kind's code. */
    flowId: z.string().regex(FLOW_ID, 'a flow ID is 1-128 letters, digits and ._:-').optional(),
    kind: z.number().int().min(0).max(255).optional(),
    /** The record (CBOR sequence: time, step, payload), base64. */
    record: z
      .string()
      .min(4)
      .max(Math.ceil(MAX_RECORD_BYTES / 3) * 4)
      .regex(BASE64, 'a record is base64'),
    /** The first 8 bytes of the entry's chain hash as the terminal stored it. */
    tag: z.string().regex(/^[0-9a-f]{16}$/, '8 bytes of lower-case hex'),
  })
  .refine((e) => e.flowNo <= e.seq, 'a flow opens at or before its entries')
  .refine(
    (e) => (e.flowNo === e.seq) === (e.flowId !== undefined && e.kind !== undefined),
    "a flow's first entry, and only it, names the flow ID and kind",
  )
  .refine((e) => (e.flowId === undefined) === (e.kind === undefined), 'flowId and kind go together');
export type UploadEntry = z.infer<typeof uploadEntrySchema>;

export const uploadRequestSchema = z
  .strictObject({
    format: z.literal(CLEARING_FORMAT),
    entries: z.array(uploadEntrySchema).min(1).max(MAX_UPLOAD_ENTRIES),
    /** The terminal's journal head when the batch was read, if the batch ends there: its full hash. */
    head: z.strictObject({ seq: seqSchema, hash: hashHex }).optional(),
  })
  .refine(
    (u) => u.entries.every((e, i) => i === 0 || e.seq === u.entries[i - 1]!.seq + 1),
    'entries are consecutive, by seq',
  );
export type UploadRequest = z.infer<typeof uploadRequestSchema>;

/** The host's chain of the terminal after the upload. */
export const clearingCursorSchema = z.strictObject({
  terminalId: z.string(),
  /** The last seq the host holds (0: none). */
  lastSeq: z.number().int().min(0),
  /** Its chain hash (32 zero bytes for none). */
  hash: hashHex,
});
export type ClearingCursor = z.infer<typeof clearingCursorSchema>;

export const uploadResponseSchema = clearingCursorSchema.extend({
  /** Entries of this upload the host had not held. */
  accepted: z.number().int().min(0),
  /** Entries it already held with the same bytes (a re-sent batch). */
  duplicates: z.number().int().min(0),
});
export type UploadResponse = z.infer<typeof uploadResponseSchema>;

/**
 * A release proof for a payer card, as the host serves it: what TerminalRecovery.deliver() takes
 * (the payee card's RELEASE CREDIT answer and the transfer's terms, for the payer's REFUND DEBIT).
 */
export const releaseProofSchema = z.object({
  payerId: z.string(),
  payeeId: z.string(),
  amount: z.number().int(),
  currency: z.number().int(),
  date: z.number().int(),
  txRandom: z.string(),
  rxRandom: z.string(),
  releaseProof: z.string(),
});
export type ReleaseProof = z.infer<typeof releaseProofSchema>;

const hexOf = (bytes: number) => z.string().regex(new RegExp(`^[0-9A-Fa-f]{${2 * bytes}}$`));

/**
 * A content release proof for a sender card, as the host serves it (docs/issuer-host.md, "Release
 * proofs"): the receiver's CONTENT RELEASE answer for a send ('send') or an exchange's first half
 * ('exchange'), the transfer it gives back (sender, receiver, transfer ID) and what the sender gave
 * (an amount of its purse, or an item by ID) with the half's payload digest, for the journal of the
 * terminal that takes it to the sender card (CONTENT RETURN). The card verifies the proof.
 */
export const contentReleaseProofSchema = z.object({
  /**
   * As the releasing terminal journaled it. Only a hint: a receiver's record does not tell a send from
   * an exchange's first half (signed alike), so the delivering terminal goes by the sender card's record.
   */
  kind: z.enum(['send', 'exchange']),
  senderId: hexOf(16),
  receiverId: hexOf(16),
  txId: hexOf(16),
  /** An ECDSA signature, as the card answered it (8 to 80 bytes, hex). */
  releaseProof: z.string().regex(/^(?:[0-9A-Fa-f]{2}){8,80}$/),
  offer: z.union([
    z.strictObject({
      amount: z.number().int().min(1).max(0xffffffff),
      currency: z.number().int().min(1).max(999),
    }),
    z.strictObject({ itemId: z.string().regex(/^(?:[0-9A-Fa-f]{2}){0,64}$/) }),
  ]),
  digest: hexOf(32).optional(),
});
export type ContentReleaseProof = z.infer<typeof contentReleaseProofSchema>;
