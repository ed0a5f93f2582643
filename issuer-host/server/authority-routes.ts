// The command-generating server over HTTP (seed 000, S1101–S1109, modification 1): the issuing
// terminal's requests, signed as every terminal request, and the issuer staff's allow-list.
//
// POST   /terminal/authority/register              terminal   registration request → ack (create command)
// POST   /terminal/authority/authorize             terminal   authentication request → ack (create right)
// GET    /terminal/authority/status?limit=          terminal   its own allow-list entry, registration, log
// GET    /admin/authority                           authority:read    issuer ID, authority key, eligibility
// GET    /admin/authority/allow-list                authority:read
// PUT    /admin/authority/allow-list/:terminalId    authority:manage  { contentTypes?, maxIssuances?, validitySeconds? }
// DELETE /admin/authority/allow-list/:terminalId    authority:manage
// GET    /admin/authority/servers                   authority:read    registrations with their create commands
// GET    /admin/authority/log?terminalId=&before=&limit=   authority:read   newest first
//
// An ack is the answer (200), ok or reject: a reject is not an HTTP error, and its reason and message
// are in the authority's log. The request bodies are the protocol's messages, validated by the
// authority itself so that a malformed one is a logged 'bad-request' reject, not only a 400.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthorizationAck, RegistrationAck } from '../../protocol/issuing/authority-protocol.js';
import { CONTENT_TYPES } from '../../protocol/settlement/contents-codec.js';
import type { AuthoritySender, CommandAuthority } from '../authority/command-authority.js';
import { DEFAULT_GRANT } from '../authority/grants.js';
import { ENTITY_ID_PATTERN } from '../db/terminal-registry.js';
import { actorOf } from './access.js';

const entityId = z.string().regex(ENTITY_ID_PATTERN, 'is 1 to 64 letters, digits, ".", "_" or "-"');
const jsonObject = z.record(z.string(), z.unknown());
const limit = (fallback: number) => z.coerce.number().int().min(1).max(1000).default(fallback);

export function registerAuthorityRoutes(
  app: FastifyInstance,
  options: { authority: CommandAuthority },
): void {
  const { authority } = options;
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const terminal = { access: { kind: 'terminal' }, body: 'json' } as const;

  typed.post(
    '/terminal/authority/register',
    { config: terminal, schema: { body: z.unknown(), response: { 200: jsonObject } } },
    async (request) => ackJson(await authority.register(request.body, senderOf(request))),
  );

  typed.post(
    '/terminal/authority/authorize',
    { config: terminal, schema: { body: z.unknown(), response: { 200: jsonObject } } },
    async (request) => ackJson(await authority.authorize(request.body, senderOf(request))),
  );

  typed.get(
    '/terminal/authority/status',
    {
      config: { access: { kind: 'terminal' } },
      schema: { querystring: z.strictObject({ limit: limit(10) }), response: { 200: jsonObject } },
    },
    async (request) => {
      const { terminalId } = senderOf(request);
      const [allowed, registration, log] = await Promise.all([
        authority.allowedEntry(terminalId),
        authority.registration(terminalId),
        authority.log({ limit: request.query.limit, terminalId }),
      ]);
      return {
        issuerId: authority.issuerId,
        allowed: allowed ?? null,
        registration: registration ?? null,
        // Only what this terminal sent: another terminal's requests naming it stay with the staff.
        log: log.filter((line) => line.senderTerminalId === terminalId),
      };
    },
  );

  typed.get(
    '/admin/authority',
    {
      config: { access: { kind: 'staff', permission: 'authority:read' } },
      schema: { response: { 200: jsonObject } },
    },
    async () => ({
      issuerId: authority.issuerId,
      publicKey: authority.publicKey,
      eligibility: authority.eligibility,
      rightLifetimeSeconds: authority.rightLifetimeSeconds,
    }),
  );

  typed.get(
    '/admin/authority/allow-list',
    {
      config: { access: { kind: 'staff', permission: 'authority:read' } },
      schema: { response: { 200: jsonObject } },
    },
    async () => ({ allowList: await authority.allowList() }),
  );

  typed.put(
    '/admin/authority/allow-list/:terminalId',
    {
      config: { access: { kind: 'staff', permission: 'authority:manage' }, body: 'json' },
      schema: {
        params: z.strictObject({ terminalId: entityId }),
        body: z.strictObject({
          contentTypes: z.array(z.enum(CONTENT_TYPES)).min(1).max(4).default(DEFAULT_GRANT.contentTypes),
          maxIssuances: z.number().int().min(1).max(2_147_483_647).nullable().default(null),
          validitySeconds: z
            .number()
            .int()
            .min(1)
            .max(3650 * 86_400)
            .default(DEFAULT_GRANT.validitySeconds),
        }),
        response: { 200: jsonObject },
      },
    },
    async (request) => ({
      ...(await authority.allow(
        { terminalId: request.params.terminalId, ...request.body },
        actorOf(request.principal!),
      )),
    }),
  );

  typed.delete(
    '/admin/authority/allow-list/:terminalId',
    {
      config: { access: { kind: 'staff', permission: 'authority:manage' } },
      schema: { params: z.strictObject({ terminalId: entityId }), response: { 200: jsonObject } },
    },
    async (request) => ({
      terminalId: request.params.terminalId,
      removed: await authority.disallow(request.params.terminalId, actorOf(request.principal!)),
    }),
  );

  typed.get(
    '/admin/authority/servers',
    {
      config: { access: { kind: 'staff', permission: 'authority:read' } },
      schema: { response: { 200: jsonObject } },
    },
    async () => ({ servers: await authority.registrations() }),
  );

  typed.get(
    '/admin/authority/log',
    {
      config: { access: { kind: 'staff', permission: 'authority:read' } },
      schema: {
        querystring: z.strictObject({
          terminalId: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/)
            .optional(),
          before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
          limit: limit(50),
        }),
        response: { 200: jsonObject },
      },
    },
    async (request) => ({
      log: await authority.log({
        limit: request.query.limit,
        ...(request.query.terminalId ? { terminalId: request.query.terminalId } : {}),
        ...(request.query.before ? { beforeId: request.query.before } : {}),
      }),
    }),
  );
}

/** The authenticated terminal of a terminal route. */
function senderOf(request: FastifyRequest): AuthoritySender {
  const principal = request.principal;
  if (principal?.kind !== 'terminal') throw new Error('terminal route reached without a terminal');
  return { terminalId: principal.terminalId, publicKey: principal.publicKey };
}

/** An ack as it travels: a reject's error as TerminalError.toJSON(). */
function ackJson(ack: RegistrationAck | AuthorizationAck): Record<string, unknown> {
  if (ack.result === 'ok') return { ...ack };
  return { result: 'reject', reason: ack.reason, error: ack.error.toJSON() };
}
