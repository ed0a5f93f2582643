// Issuance, for the issuer's staff (docs/issuer-host.md, "Issuance"): value the issuer created when
// it personalized a card enters the ledger, and a card's account shows it.
//
// POST /admin/ledger/issuances          ledger:issue  { certificate (hex DER), currency, amount }
//                                                     201 recorded, 200 the same issuance again
// GET  /admin/ledger/issuances?card=&after=&limit=    ledger:read
// GET  /admin/ledger/cards/:holderId     ledger:read  the card's issuance and balance per currency
//
// The staff tools send the card's certificate (public), never the card file: the host takes the holder
// ID, serial and end from it after checking the issuer CA signed it, so an issuance names a real card.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fromHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import {
  ISSUANCES_PATH,
  type IssuanceJson,
  issuanceRequestSchema,
  issuanceResponseSchema,
  issuanceSchema,
} from '../../protocol/host-link/issuance-wire.js';
import type { ParsedCertificate } from '../../protocol/pki/index.js';
import type { HostDatabase } from '../db/host-database.js';
import { balances } from '../db/ledger-records.js';
import { cardOfCertificate, type Issuance, listIssuances, recordIssuance } from '../ledger/issuance.js';
import { actorOf } from './access.js';

const holderIdSchema = z.string().regex(/^[0-9A-Fa-f]{32}$/, 'a holder ID: 16 bytes of hex');

function issuanceJson(i: Issuance): IssuanceJson {
  return {
    ...i,
    issuanceId: i.issuanceId.toString(),
    amount: i.amount.toString(),
    certificateSerial: i.certificateSerial?.toString() ?? null,
    notAfter: i.notAfter?.toISOString() ?? null,
    recordedAt: i.recordedAt.toISOString(),
  };
}

export function registerIssuanceRoutes(
  app: FastifyInstance,
  options: {
    db: HostDatabase;
    ca: ParsedCertificate;
    now: () => number;
    /** The currencies the issuer issues e-money in; any other is refused. */
    currencies: readonly number[];
  },
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const read = { kind: 'staff', permission: 'ledger:read' } as const;

  typed.post(
    ISSUANCES_PATH,
    {
      config: { access: { kind: 'staff', permission: 'ledger:issue' }, body: 'json' },
      schema: {
        body: issuanceRequestSchema,
        response: { 200: issuanceResponseSchema, 201: issuanceResponseSchema },
      },
    },
    async (request, reply) => {
      const { certificate, currency, amount } = request.body;
      if (!options.currencies.includes(currency)) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          options.currencies.length === 0
            ? 'this host records no issuance: configure the issuer’s currencies (host.json issuance.currencies)'
            : `currency ${currency} is not one the issuer issues (${options.currencies.join(', ')})`,
        );
      }
      const card = cardOfCertificate(fromHex(certificate), options.ca);
      const { issuance, replayed } = await recordIssuance(options.db, {
        ...card,
        currency,
        amount,
        actor: actorOf(request.principal!),
        now: new Date(options.now()),
      });
      return reply.status(replayed ? 200 : 201).send({ ...issuanceJson(issuance), replayed });
    },
  );

  typed.get(
    ISSUANCES_PATH,
    {
      config: { access: read },
      schema: {
        querystring: z.strictObject({
          card: holderIdSchema.optional(),
          after: z
            .string()
            .regex(/^[0-9]{1,18}$/)
            .optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
        }),
        response: { 200: z.array(issuanceSchema) },
      },
    },
    async (request) =>
      (
        await listIssuances(options.db, {
          ...(request.query.card ? { holderId: request.query.card.toUpperCase() } : {}),
          afterId: BigInt(request.query.after ?? '0'),
          limit: request.query.limit ?? 1000,
        })
      ).map(issuanceJson),
  );

  typed.get(
    '/admin/ledger/cards/:holderId',
    {
      config: { access: read },
      schema: {
        params: z.strictObject({ holderId: holderIdSchema }),
        response: {
          200: z.object({
            holderId: z.string(),
            issuance: issuanceSchema.nullable(),
            accounts: z.array(
              z.object({ currency: z.number(), issued: z.string(), moved: z.string(), balance: z.string() }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const holderId = request.params.holderId.toUpperCase();
      const [issuance] = await listIssuances(options.db, { holderId, limit: 1 });
      const accounts = await balances(options.db, { kind: 'card', ref: holderId });
      if (!issuance && accounts.length === 0)
        throw new TerminalError('E_NOT_FOUND', `the ledger holds nothing of card ${holderId}`);
      return {
        holderId,
        issuance: issuance ? issuanceJson(issuance) : null,
        // Its balance is what was issued to it plus what moved through the fleet's terminals.
        accounts: accounts.map((a) => {
          const issued = issuance?.currency === a.currency ? issuance.amount : 0n;
          return {
            currency: a.currency,
            issued: issued.toString(),
            moved: (a.balance - issued).toString(),
            balance: a.balance.toString(),
          };
        }),
      };
    },
  );
}
