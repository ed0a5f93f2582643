// Clearing endpoints (docs/issuer-host.md, "Clearing").
//
// POST /terminal/clearing/upload   terminal  journal entries as the chain hashed them → the host's chain
// GET  /terminal/clearing/cursor   terminal  how far the host holds the terminal's chain
// GET  /terminal/clearing/release-proofs?card=  terminal  release proofs for a payer card, to deliver
// GET  /terminal/clearing/content-release-proofs?card=  terminal  content release proofs for a sender card
// GET  /admin/clearing/chains      clearing:read  every terminal's chain at the host
// GET  /admin/clearing/alerts?after=&limit=  clearing:read  refused uploads (gap, edit, fork, proof), oldest first
// GET  /admin/clearing/status      clearing:read  whether uploads are booked only on the cards' proofs
//
// A refused upload is rolled back whole; then one alert (clearing.gap, clearing.edited,
// clearing.fork, clearing.proof; throttled per kind and terminal) is recorded, outside that
// transaction.
import { bytesToHex } from '@noble/hashes/utils.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CLEARING_CURSOR_PATH,
  CLEARING_UPLOAD_PATH,
  CONTENT_RELEASE_PROOFS_PATH,
  clearingCursorSchema,
  contentReleaseProofSchema,
  DEFAULT_UPLOAD_BODY_BYTES,
  RELEASE_PROOFS_PATH,
  releaseProofSchema,
  uploadRequestSchema,
  uploadResponseSchema,
} from '../../protocol/host-link/clearing-wire.js';
import { type Booker, ChainRefusal, ingestUpload } from '../clearing/ingest.js';
import { appendThrottledAlert } from '../db/audit-log.js';
import { chainState, listChains, listClearingAlerts } from '../db/clearing-records.js';
import { contentReleaseProofsForCard } from '../db/content-release-records.js';
import type { HostDatabase } from '../db/host-database.js';
import { releaseProofsForCard } from '../db/ledger-records.js';

export interface ClearingRouteOptions {
  db: HostDatabase;
  now: () => number;
  uploadBodyBytes?: number;
  /** Books the new entries of an upload in its transaction (the ledger). */
  book?: Booker;
  /**
   * The transfer key IDs the booker checks the cards' proofs with (clearing/transfer-proofs.ts);
   * absent: the host books what the terminals' chains say (the status says so).
   */
  proofKeyIds?: readonly number[];
}

/** What GET /admin/clearing/status answers. */
export const clearingStatusSchema = z.object({
  proofs: z.enum(['verified', 'not-verified']),
  keyIds: z.array(z.number()),
  trusts: z.string(),
});

export function clearingStatus(
  proofKeyIds: readonly number[] | undefined,
): z.infer<typeof clearingStatusSchema> {
  return proofKeyIds === undefined
    ? {
        proofs: 'not-verified',
        keyIds: [],
        trusts:
          "no clearing key set: the ledger books what any registered terminal's well-chained journal says, without checking the cards' MACs",
      }
    : {
        proofs: 'verified',
        keyIds: [...proofKeyIds],
        trusts:
          "the ledger books a movement only on a card's proof that verifies under the issuer's transfer keys",
      };
}

const cardQuery = z.strictObject({
  card: z.string().regex(/^[0-9A-Fa-f]{32}$/, 'a holder ID: 16 bytes of hex'),
});

export function registerClearingRoutes(app: FastifyInstance, options: ClearingRouteOptions): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.post(
    CLEARING_UPLOAD_PATH,
    {
      bodyLimit: options.uploadBodyBytes ?? DEFAULT_UPLOAD_BODY_BYTES,
      config: { access: { kind: 'terminal' }, body: 'json' },
      schema: { body: uploadRequestSchema, response: { 200: uploadResponseSchema } },
    },
    async (request) => {
      const principal = request.principal;
      if (principal?.kind !== 'terminal') throw new Error('terminal route reached without a terminal');
      const context = {
        terminalId: principal.terminalId,
        shopId: principal.shopId,
        now: new Date(options.now()),
      };
      try {
        return await ingestUpload(options.db, context, request.body, options.book);
      } catch (e) {
        if (e instanceof ChainRefusal) {
          try {
            await appendThrottledAlert(options.db, {
              kind: e.alertKind,
              actor: `terminal:${principal.terminalId}`,
              subject: principal.terminalId,
              detail: {
                ...e.details,
                code: e.code,
                seq: e.seq,
                message: e.message.slice(0, 300),
                firstSeq: request.body.entries[0]!.seq,
                lastSeq: request.body.entries.at(-1)!.seq,
              },
            });
          } catch (alertError) {
            request.log.error({ err: alertError }, 'could not record a clearing alert');
          }
        }
        throw e;
      }
    },
  );

  typed.get(
    CLEARING_CURSOR_PATH,
    {
      config: { access: { kind: 'terminal' } },
      schema: { response: { 200: clearingCursorSchema } },
    },
    async (request) => {
      const principal = request.principal;
      if (principal?.kind !== 'terminal') throw new Error('terminal route reached without a terminal');
      const chain = await chainState(options.db, principal.terminalId);
      return { terminalId: principal.terminalId, lastSeq: chain.lastSeq, hash: bytesToHex(chain.hash) };
    },
  );

  // Any terminal may ask for a card's proofs: a proof only gives back to the payer card what it
  // debited, and only that card can take it (the card verifies it).
  typed.get(
    RELEASE_PROOFS_PATH,
    {
      config: { access: { kind: 'terminal' } },
      schema: {
        querystring: cardQuery,
        response: { 200: z.array(releaseProofSchema) },
      },
    },
    async (request) =>
      (await releaseProofsForCard(options.db, request.query.card.toUpperCase())).map((p) => ({
        payerId: p.payerId,
        payeeId: p.payeeId,
        amount: Number(p.amount),
        currency: p.currency,
        date: p.date,
        txRandom: p.txRandom,
        rxRandom: p.rxRandom,
        releaseProof: p.releaseProof,
      })),
  );

  // Likewise for contents: a proof only gives back to the sender card what it gave, and the card
  // verifies it under the receiver's key (the host kept it only once it verified so too).
  typed.get(
    CONTENT_RELEASE_PROOFS_PATH,
    {
      config: { access: { kind: 'terminal' } },
      schema: { querystring: cardQuery, response: { 200: z.array(contentReleaseProofSchema) } },
    },
    async (request) =>
      (await contentReleaseProofsForCard(options.db, request.query.card.toUpperCase())).map((p) => ({
        kind: p.flowKind === 'content-transfer' ? ('send' as const) : ('exchange' as const),
        senderId: p.senderId,
        receiverId: p.receiverId,
        txId: p.txId,
        releaseProof: p.releaseProof,
        offer: p.offer,
        ...(p.digest !== undefined ? { digest: p.digest } : {}),
      })),
  );

  typed.get(
    '/admin/clearing/chains',
    {
      config: { access: { kind: 'staff', permission: 'clearing:read' } },
      schema: {
        response: {
          200: z.array(
            z.object({
              terminalId: z.string(),
              shopId: z.string(),
              lastSeq: z.number(),
              hash: z.string(),
              updatedAt: z.string(),
            }),
          ),
        },
      },
    },
    async () =>
      (await listChains(options.db)).map((c) => ({
        ...c,
        hash: bytesToHex(c.hash),
        updatedAt: c.updatedAt.toISOString(),
      })),
  );

  typed.get(
    '/admin/clearing/status',
    {
      config: { access: { kind: 'staff', permission: 'clearing:read' } },
      schema: { response: { 200: clearingStatusSchema } },
    },
    async () => clearingStatus(options.proofKeyIds),
  );

  typed.get(
    '/admin/clearing/alerts',
    {
      config: { access: { kind: 'staff', permission: 'clearing:read' } },
      schema: {
        querystring: z.strictObject({
          after: z
            .string()
            .regex(/^[0-9]{1,18}$/)
            .optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
        }),
        response: {
          200: z.array(
            z.object({
              eventId: z.string(),
              at: z.string(),
              kind: z.string(),
              terminalId: z.string().nullable(),
              detail: z.record(z.string(), z.unknown()),
            }),
          ),
        },
      },
    },
    async (request) =>
      (
        await listClearingAlerts(options.db, {
          afterId: BigInt(request.query.after ?? '0'),
          limit: request.query.limit ?? 100,
        })
      ).map((a) => ({ ...a, eventId: a.eventId.toString(), at: a.at.toISOString() })),
  );
}
