// The ledger, for the issuer's staff (permission ledger:read; docs/issuer-host.md, "Ledger").
//
// GET /admin/ledger/balances?kind=&ref=                 every account's balance (minor units, decimal)
// GET /admin/ledger/transfers?key=&card=&after=&limit=  transfers, oldest first
// GET /admin/ledger/exceptions                          bookings the fleet's journals disagree on
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HostDatabase } from '../db/host-database.js';
import { balances, listExceptions, listTransfers } from '../db/ledger-records.js';

const account = z.object({ kind: z.enum(['card', 'in-flight']), ref: z.string() });
const cardHex = z.string().regex(/^[0-9A-Fa-f]{32}$/, 'a holder ID: 16 bytes of hex');

export function registerLedgerRoutes(app: FastifyInstance, options: { db: HostDatabase }): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const access = { kind: 'staff', permission: 'ledger:read' } as const;

  typed.get(
    '/admin/ledger/balances',
    {
      config: { access },
      schema: {
        querystring: z.strictObject({
          kind: z.enum(['card', 'in-flight']).optional(),
          ref: z.string().max(64).optional(),
        }),
        response: { 200: z.array(account.extend({ currency: z.number(), balance: z.string() })) },
      },
    },
    async (request) =>
      (
        await balances(options.db, {
          ...(request.query.kind ? { kind: request.query.kind } : {}),
          ...(request.query.ref ? { ref: request.query.ref.toUpperCase() } : {}),
        })
      ).map((b) => ({ ...b, balance: b.balance.toString() })),
  );

  typed.get(
    '/admin/ledger/transfers',
    {
      config: { access },
      schema: {
        querystring: z.strictObject({
          key: z
            .string()
            .regex(/^[0-9A-Fa-f]{32}:[0-9A-Fa-f]{2,64}$/)
            .optional(),
          card: cardHex.optional(),
          after: z
            .string()
            .regex(/^[0-9]{1,18}$/)
            .optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
        }),
        response: {
          200: z.array(
            z.object({
              transferId: z.string(),
              transferKey: z.string(),
              phase: z.enum(['pending', 'post', 'void']),
              pendingId: z.string().nullable(),
              debit: account,
              credit: account,
              amount: z.string(),
              currency: z.number(),
              terminalId: z.string(),
              shopId: z.string(),
              seq: z.number(),
              flowId: z.string(),
              entryAt: z.string(),
            }),
          ),
        },
      },
    },
    async (request) =>
      (
        await listTransfers(options.db, {
          ...(request.query.key ? { transferKey: request.query.key.toUpperCase() } : {}),
          ...(request.query.card ? { cardId: request.query.card.toUpperCase() } : {}),
          afterId: BigInt(request.query.after ?? '0'),
          limit: request.query.limit ?? 1000,
        })
      ).map((t) => ({
        ...t,
        transferId: t.transferId.toString(),
        pendingId: t.pendingId?.toString() ?? null,
        amount: t.amount.toString(),
        entryAt: t.entryAt.toISOString(),
      })),
  );

  typed.get(
    '/admin/ledger/exceptions',
    {
      config: { access },
      schema: {
        response: {
          200: z.array(
            z.object({
              exceptionId: z.string(),
              transferKey: z.string(),
              kind: z.string(),
              terminalId: z.string(),
              flowId: z.string(),
              seq: z.number(),
              detail: z.record(z.string(), z.unknown()),
              at: z.string(),
            }),
          ),
        },
      },
    },
    async () =>
      (await listExceptions(options.db)).map((e) => ({
        ...e,
        exceptionId: e.exceptionId.toString(),
        at: e.at.toISOString(),
      })),
  );
}
