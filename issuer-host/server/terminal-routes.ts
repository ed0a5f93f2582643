// Endpoints for terminals (signed requests). Phase 1 has one: a hello that proves the terminal's key
// and clock are accepted and tells it the host's time and current CRL number, so it knows whether to
// fetch /crl. It stores nothing (beyond the request's nonce).
//
// POST /terminal/hello  { software, crlNumber? } → { terminalId, shopId, serverTime, crl }
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { toHex } from '../../protocol/bytes.js';
import { caKeyIdentifier, type ParsedCertificate } from '../../protocol/pki/index.js';
import { CrlVersions } from '../db/crl-versions.js';
import type { HostDatabase } from '../db/host-database.js';

export const helloRequestSchema = z.strictObject({
  /** The terminal software's name and version, for the host's log. */
  software: z.string().min(1).max(100),
  /** The cRLNumber the terminal holds (decimal), if any. */
  crlNumber: z
    .string()
    .regex(/^[0-9]{1,49}$/)
    .optional(),
});

export const helloResponseSchema = z.object({
  terminalId: z.string(),
  shopId: z.string(),
  serverTime: z.string(),
  crl: z.object({ crlNumber: z.string(), nextUpdate: z.string(), newer: z.boolean() }).nullable(),
});

export function registerTerminalRoutes(
  app: FastifyInstance,
  options: { db: HostDatabase; ca: ParsedCertificate; now: () => number },
): void {
  const crls = new CrlVersions(options.db);
  const issuerKeyId = toHex(caKeyIdentifier(options.ca));

  app.withTypeProvider<ZodTypeProvider>().post(
    '/terminal/hello',
    {
      config: { access: { kind: 'terminal' }, body: 'json' },
      schema: { body: helloRequestSchema, response: { 200: helloResponseSchema } },
    },
    async (request) => {
      const principal = request.principal;
      if (principal?.kind !== 'terminal') throw new Error('terminal route reached without a terminal');
      request.log.info(
        { terminalId: principal.terminalId, software: request.body.software },
        'terminal hello',
      );
      const current = await crls.current(issuerKeyId);
      const held = request.body.crlNumber === undefined ? -1n : BigInt(request.body.crlNumber);
      return {
        terminalId: principal.terminalId,
        shopId: principal.shopId,
        serverTime: new Date(options.now()).toISOString(),
        crl: current
          ? {
              crlNumber: current.crlNumber.toString(),
              nextUpdate: current.nextUpdate.toISOString(),
              newer: current.crlNumber > held,
            }
          : null,
      };
    },
  );
}
