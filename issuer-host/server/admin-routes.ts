// Staff endpoints: shops, terminal registration and revocation, the audit log and the CRL history.
// Every one needs a staff token whose role holds the route's permission (access.ts).
//
// POST /admin/shops                          terminals:manage  { shopId, name }
// GET  /admin/shops                          terminals:read
// POST /admin/terminals                      terminals:manage  { terminalId, shopId, publicKey (hex) }
// GET  /admin/terminals?shopId=              terminals:read
// POST /admin/terminals/:terminalId/revoke   terminals:manage  { reason? }
// GET  /admin/audit?after=&limit=&kind=      audit:read
// GET  /admin/crls?limit=                    audit:read
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { caKeyIdentifier, type ParsedCertificate } from '../../protocol/pki/index.js';
import { AuditLog } from '../db/audit-log.js';
import { CrlVersions } from '../db/crl-versions.js';
import type { HostDatabase } from '../db/host-database.js';
import {
  ENTITY_ID_PATTERN,
  type ShopRecord,
  type TerminalRecord,
  TerminalRegistry,
} from '../db/terminal-registry.js';
import { actorOf } from './access.js';
import { crlSummarySchema, summaryOf } from './crl-routes.js';

const entityId = z.string().regex(ENTITY_ID_PATTERN, 'is 1 to 64 letters, digits, ".", "_" or "-"');

const shopSchema = z.object({
  shopId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
});
const terminalSchema = z.object({
  terminalId: z.string(),
  shopId: z.string(),
  publicKey: z.string(),
  status: z.enum(['active', 'revoked']),
  registeredAt: z.string(),
  registeredBy: z.string(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
});
const auditEventSchema = z.object({
  eventId: z.string(),
  at: z.string(),
  kind: z.string(),
  severity: z.enum(['info', 'alert']),
  actor: z.string(),
  subject: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});

export function registerAdminRoutes(
  app: FastifyInstance,
  options: { db: HostDatabase; ca: ParsedCertificate },
): void {
  const registry = new TerminalRegistry(options.db);
  const audit = new AuditLog(options.db);
  const crls = new CrlVersions(options.db);
  const issuerKeyId = toHex(caKeyIdentifier(options.ca));
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.post(
    '/admin/shops',
    {
      config: { access: { kind: 'staff', permission: 'terminals:manage' }, body: 'json' },
      schema: {
        body: z.strictObject({ shopId: entityId, name: z.string().min(1).max(200) }),
        response: { 201: shopSchema },
      },
    },
    async (request, reply) => {
      const shop = await registry.createShop({ ...request.body, actor: actorOf(request.principal!) });
      return reply.status(201).send(shopJson(shop));
    },
  );

  typed.get(
    '/admin/shops',
    {
      config: { access: { kind: 'staff', permission: 'terminals:read' } },
      schema: { response: { 200: z.object({ shops: z.array(shopSchema) }) } },
    },
    async () => ({ shops: (await registry.listShops()).map(shopJson) }),
  );

  typed.post(
    '/admin/terminals',
    {
      config: { access: { kind: 'staff', permission: 'terminals:manage' }, body: 'json' },
      schema: {
        body: z.strictObject({
          terminalId: entityId,
          shopId: entityId,
          publicKey: z
            .string()
            .regex(/^04[0-9A-Fa-f]{128}$/, 'is a 65-byte uncompressed P-256 point in hex (04…)'),
        }),
        response: { 201: terminalSchema },
      },
    },
    async (request, reply) => {
      const terminal = await registry.register({
        terminalId: request.body.terminalId,
        shopId: request.body.shopId,
        publicKey: fromHex(request.body.publicKey),
        actor: actorOf(request.principal!),
      });
      return reply.status(201).send(terminalJson(terminal));
    },
  );

  typed.get(
    '/admin/terminals',
    {
      config: { access: { kind: 'staff', permission: 'terminals:read' } },
      schema: {
        querystring: z.strictObject({ shopId: entityId.optional() }),
        response: { 200: z.object({ terminals: z.array(terminalSchema) }) },
      },
    },
    async (request) => ({
      terminals: (await registry.list(request.query.shopId ? { shopId: request.query.shopId } : {})).map(
        terminalJson,
      ),
    }),
  );

  typed.post(
    '/admin/terminals/:terminalId/revoke',
    {
      config: { access: { kind: 'staff', permission: 'terminals:manage' }, body: 'json' },
      schema: {
        params: z.strictObject({ terminalId: entityId }),
        body: z.strictObject({ reason: z.string().min(1).max(200).optional() }),
        response: { 200: terminalSchema },
      },
    },
    async (request) =>
      terminalJson(
        await registry.revoke({
          terminalId: request.params.terminalId,
          actor: actorOf(request.principal!),
          ...(request.body.reason ? { reason: request.body.reason } : {}),
        }),
      ),
  );

  typed.get(
    '/admin/audit',
    {
      config: { access: { kind: 'staff', permission: 'audit:read' } },
      schema: {
        querystring: z.strictObject({
          after: z
            .string()
            .regex(/^[0-9]{1,18}$/)
            .optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          kind: z
            .string()
            .regex(/^[a-z]+(\.[a-z-]+)+$/)
            .optional(),
        }),
        response: { 200: z.object({ events: z.array(auditEventSchema) }) },
      },
    },
    async (request) => {
      const events = await audit.list({
        afterId: BigInt(request.query.after ?? '0'),
        limit: request.query.limit,
        ...(request.query.kind ? { kind: request.query.kind } : {}),
      });
      return {
        events: events.map((e) => ({ ...e, eventId: e.eventId.toString(), at: e.at.toISOString() })),
      };
    },
  );

  typed.get(
    '/admin/crls',
    {
      config: { access: { kind: 'staff', permission: 'audit:read' } },
      schema: {
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(50) }),
        response: { 200: z.object({ crls: z.array(crlSummarySchema) }) },
      },
    },
    async (request) => ({ crls: (await crls.history(issuerKeyId, request.query.limit)).map(summaryOf) }),
  );
}

function shopJson(shop: ShopRecord): z.infer<typeof shopSchema> {
  return { ...shop, createdAt: shop.createdAt.toISOString() };
}

function terminalJson(t: TerminalRecord): z.infer<typeof terminalSchema> {
  return {
    ...t,
    publicKey: toHex(t.publicKey),
    registeredAt: t.registeredAt.toISOString(),
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}
