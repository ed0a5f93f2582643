// The CRL distribution point (seed 002: the terminal "preferably obtains a CRL from the authentication
// station via a network"), the only thing the host serves without authentication, and the staff
// upload of a new CRL.
//
// GET|HEAD /crl  the current CRL of the issuer CA, DER, application/pkix-crl. ETag = SHA-256 of the
//                DER (strong); Last-Modified = thisUpdate; Cache-Control max-age = seconds until
//                nextUpdate (no-cache once past it), Expires = nextUpdate. If-None-Match (which wins
//                when both are sent, RFC 9110 §13.2.2) and If-Modified-Since answer 304.
// POST /crl      (staff, crl:publish) a new CRL, DER: parsed, checked against the CA (issuer, key
//                identifier, signature), cRLNumber strictly above the current one, nextUpdate in the
//                future and thisUpdate not ahead of the host clock; otherwise refused, nothing stored.
//
// Every answer reads the database: several host instances serve the same CRL.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { toHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import { caKeyIdentifier, checkCrlOfCa, type ParsedCertificate } from '../../protocol/pki/index.js';
import { type CrlVersionHeader, CrlVersions } from '../db/crl-versions.js';
import type { HostDatabase } from '../db/host-database.js';
import { actorOf } from './access.js';

export interface CrlRoutesOptions {
  db: HostDatabase;
  ca: ParsedCertificate;
  /** Largest CRL accepted for upload. */
  maxCrlBytes: number;
  clockSkewMs: number;
  now: () => number;
}

export const crlSummarySchema = z.object({
  crlNumber: z.string(),
  thisUpdate: z.string(),
  nextUpdate: z.string(),
  revokedCount: z.number().int(),
  etag: z.string(),
  size: z.number().int(),
});

export function registerCrlRoutes(app: FastifyInstance, options: CrlRoutesOptions): void {
  const crls = new CrlVersions(options.db);
  const issuerKeyId = toHex(caKeyIdentifier(options.ca));
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get('/crl', { config: { access: { kind: 'public' } } }, async (request, reply) => {
    const current = await crls.current(issuerKeyId);
    if (current === undefined) {
      throw new TerminalError('E_NOT_FOUND', 'no CRL has been published at this host yet');
    }
    setCacheHeaders(reply, current, options.now());
    if (notModified(request, current)) return reply.status(304).send();
    const der = await crls.der(issuerKeyId, current.crlNumber);
    if (der === undefined) throw new TerminalError('E_INTERNAL', 'the current CRL vanished while being read');
    return reply
      .status(200)
      .type('application/pkix-crl')
      .send(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
  });

  typed.post(
    '/crl',
    {
      config: { access: { kind: 'staff', permission: 'crl:publish' }, body: 'crl' },
      bodyLimit: options.maxCrlBytes,
      schema: { response: { 201: crlSummarySchema } },
    },
    async (request, reply) => {
      const crl = checkCrlOfCa(request.body as Uint8Array, options.ca);
      const now = options.now();
      if (crl.nextUpdate.getTime() <= now) {
        throw new TerminalError(
          'E_CRL_STALE',
          `the CRL's nextUpdate ${crl.nextUpdate.toISOString()} has passed: terminals would refuse it`,
        );
      }
      if (crl.thisUpdate.getTime() > now + options.clockSkewMs) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          `the CRL's thisUpdate ${crl.thisUpdate.toISOString()} is ahead of the host clock: check the issuer's clock`,
        );
      }
      const stored = await crls.publish({
        issuerKeyId,
        crlNumber: crl.crlNumber,
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate,
        revokedCount: crl.revoked.length,
        der: crl.der,
        actor: actorOf(request.principal!),
      });
      return reply.status(201).send(summaryOf(stored));
    },
  );
}

export function summaryOf(header: CrlVersionHeader): z.infer<typeof crlSummarySchema> {
  return {
    crlNumber: header.crlNumber.toString(),
    thisUpdate: header.thisUpdate.toISOString(),
    nextUpdate: header.nextUpdate.toISOString(),
    revokedCount: header.revokedCount,
    etag: etagOf(header),
    size: header.size,
  };
}

function etagOf(header: CrlVersionHeader): string {
  return `"${toHex(header.derSha256).toLowerCase()}"`;
}

function setCacheHeaders(reply: FastifyReply, current: CrlVersionHeader, now: number): void {
  const secondsLeft = Math.floor((current.nextUpdate.getTime() - now) / 1000);
  reply.header('etag', etagOf(current));
  reply.header('last-modified', current.thisUpdate.toUTCString());
  reply.header('expires', current.nextUpdate.toUTCString());
  reply.header(
    'cache-control',
    secondsLeft > 0 ? `public, max-age=${secondsLeft}, no-transform` : 'public, no-cache, no-transform',
  );
}

/** RFC 9110 §13.1.2 (If-None-Match, weak comparison) then §13.1.3 (If-Modified-Since). */
function notModified(request: FastifyRequest, current: CrlVersionHeader): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const opaque = etagOf(current);
    return ifNoneMatch
      .split(',')
      .map((tag) => tag.trim().replace(/^W\//, ''))
      .some((tag) => tag === '*' || tag === opaque);
  }
  const ifModifiedSince = request.headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  if (Number.isNaN(since)) return false; // an invalid date is ignored
  return Math.floor(current.thisUpdate.getTime() / 1000) * 1000 <= since;
}
