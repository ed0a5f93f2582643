// The ledger, for the issuer's staff (permission ledger:read; docs/issuer-host.md, "Ledger").
//
// GET /admin/ledger/balances?kind=&ref=                 every account's balance (minor units, decimal)
// GET /admin/ledger/transfers?key=&card=&after=&limit=  transfers, oldest first
// GET /admin/ledger/exceptions                          bookings the fleet's journals disagree on
// GET  /admin/reports/end-of-day?from=&to=     ledger:read     per terminal, per shop, for the issuer
// POST /admin/refund-cases/scan                refunds:manage  open a case for each transfer in flight too long
// GET  /admin/refund-cases?status=             refunds:read    the cases with the journal's proofs
// POST /admin/refund-cases/:caseId/settle      refunds:manage  { note? } book the refund to the payer card
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TerminalError } from '../../protocol/errors.js';
import type { HostDatabase } from '../db/host-database.js';
import { balances, listExceptions, listTransfers } from '../db/ledger-records.js';
import { type FleetReport, fleetReport, type PhaseTotals, type Totals } from '../ledger/fleet-report.js';
import {
  DEFAULT_REFUND_AFTER_MS,
  listCases,
  openDueCases,
  type RefundCase,
  settleCase,
} from '../ledger/refund-cases.js';
import { actorOf } from './access.js';

const ACCOUNT_KINDS = ['card', 'in-flight', 'issuer'] as const;
const account = z.object({ kind: z.enum(ACCOUNT_KINDS), ref: z.string() });
const cardHex = z.string().regex(/^[0-9A-Fa-f]{32}$/, 'a holder ID: 16 bytes of hex');

const caseSchema = z.object({
  caseId: z.string(),
  transferKey: z.string(),
  payerId: z.string(),
  amount: z.string(),
  currency: z.number(),
  inDoubtSince: z.string(),
  openedAt: z.string(),
  status: z.enum(['open', 'settled']),
  settledAt: z.string().nullable(),
  settledBy: z.string().nullable(),
  note: z.string().nullable(),
  proofs: z.array(z.unknown()),
});

function caseJson(c: RefundCase) {
  return {
    ...c,
    caseId: c.caseId.toString(),
    amount: c.amount.toString(),
    inDoubtSince: c.inDoubtSince.toISOString(),
    openedAt: c.openedAt.toISOString(),
    settledAt: c.settledAt?.toISOString() ?? null,
  };
}

export function registerLedgerRoutes(
  app: FastifyInstance,
  options: { db: HostDatabase; now: () => number; refundAfterMs?: number },
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const access = { kind: 'staff', permission: 'ledger:read' } as const;

  typed.get(
    '/admin/ledger/balances',
    {
      config: { access },
      schema: {
        querystring: z.strictObject({
          kind: z.enum(ACCOUNT_KINDS).optional(),
          ref: z.string().max(64).optional(),
        }),
        response: { 200: z.array(account.extend({ currency: z.number(), balance: z.string() })) },
      },
    },
    async (request) =>
      (
        await balances(options.db, {
          ...(request.query.kind ? { kind: request.query.kind } : {}),
          ...(request.query.ref ? { ref: accountRef(request.query.ref) } : {}),
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

  typed.post(
    '/admin/refund-cases/scan',
    {
      config: { access: { kind: 'staff', permission: 'refunds:manage' } },
      schema: { response: { 200: z.object({ opened: z.number() }) } },
    },
    async () => ({
      opened:
        (await openDueCases(options.db, {
          now: new Date(options.now()),
          ageMs: options.refundAfterMs ?? DEFAULT_REFUND_AFTER_MS,
        })) ?? 0,
    }),
  );

  typed.get(
    '/admin/refund-cases',
    {
      config: { access: { kind: 'staff', permission: 'refunds:read' } },
      schema: {
        querystring: z.strictObject({ status: z.enum(['open', 'settled']).optional() }),
        response: { 200: z.array(caseSchema) },
      },
    },
    async (request) => (await listCases(options.db, request.query.status)).map(caseJson),
  );

  typed.post(
    '/admin/refund-cases/:caseId/settle',
    {
      config: { access: { kind: 'staff', permission: 'refunds:manage' }, body: 'json' },
      schema: {
        params: z.strictObject({ caseId: z.string().regex(/^[1-9][0-9]{0,17}$/) }),
        body: z.strictObject({ note: z.string().min(1).max(500).optional() }),
        response: { 200: caseSchema },
      },
    },
    async (request) =>
      caseJson(
        await settleCase(options.db, {
          caseId: BigInt(request.params.caseId),
          actor: actorOf(request.principal!),
          ...(request.body.note ? { note: request.body.note } : {}),
          now: new Date(options.now()),
        }),
      ),
  );

  const totals = z.object({ count: z.number(), amount: z.string() });
  const phases = z.object({ posted: totals, voided: totals, pending: totals });
  const lineSchema = phases.extend({ currency: z.number(), exchanges: phases, sends: phases });
  typed.get(
    '/admin/reports/end-of-day',
    {
      config: { access },
      schema: {
        querystring: z.strictObject({
          from: z.iso.datetime({ offset: true }),
          to: z.iso.datetime({ offset: true }),
        }),
        response: {
          200: z.object({
            from: z.string(),
            to: z.string(),
            terminals: z.array(lineSchema.extend({ terminalId: z.string(), shopId: z.string() })),
            shops: z.array(lineSchema.extend({ shopId: z.string(), inFlight: z.string() })),
            issuer: z.array(
              lineSchema.extend({ inFlight: z.string(), issued: totals, outstanding: z.string() }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const from = new Date(request.query.from);
      const to = new Date(request.query.to);
      if (!(from < to) || to.getTime() - from.getTime() > 31 * 86_400_000) {
        throw new TerminalError('E_INPUT_INVALID', 'from must be before to, at most 31 days apart');
      }
      return reportJson(await fleetReport(options.db, { from, to }));
    },
  );
}

/** A holder ID in any case names the card's account; shop and issuer refs are as written. */
const accountRef = (ref: string) => (/^[0-9A-Fa-f]{32}$/.test(ref) ? ref.toUpperCase() : ref);

function reportJson(r: FleetReport) {
  const t = (x: Totals) => ({ count: x.count, amount: x.amount.toString() });
  const phases = (l: PhaseTotals) => ({ posted: t(l.posted), voided: t(l.voided), pending: t(l.pending) });
  const line = <L extends PhaseTotals & { exchanges: PhaseTotals; sends: PhaseTotals }>(l: L) => ({
    ...l,
    ...phases(l),
    exchanges: phases(l.exchanges),
    sends: phases(l.sends),
  });
  return {
    from: r.from.toISOString(),
    to: r.to.toISOString(),
    terminals: r.terminals.map(line),
    shops: r.shops.map((s) => ({ ...line(s), inFlight: s.inFlight.toString() })),
    issuer: r.issuer.map((s) => ({
      ...line(s),
      inFlight: s.inFlight.toString(),
      issued: t(s.issued),
      outstanding: s.outstanding.toString(),
    })),
  };
}
