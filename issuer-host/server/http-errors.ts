// The one place that turns whatever went wrong in a request into the host's one error shape,
// `{ code, message }` with a code of protocol/errors.ts, and its HTTP status. Refusals the host makes
// itself are TerminalErrors; Fastify's own (body too large, unsupported media type, bad JSON, schema
// validation) are mapped here; anything else is E_INTERNAL with a message that reveals nothing.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { type ErrorCode, isTerminalError } from '../../protocol/errors.js';

export interface HostErrorBody {
  code: ErrorCode;
  message: string;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  E_INPUT_INVALID: 400,
  E_PKI_MALFORMED: 400,
  E_PKI_UNSUPPORTED: 400,
  E_PKI_SIGNATURE: 400,
  E_PKI_EXPIRED: 400,
  E_CRL_STALE: 400,
  E_AUTH_MISSING: 401,
  E_AUTH_INVALID: 401,
  E_AUTH_UNKNOWN_TERMINAL: 401,
  E_AUTH_REVOKED: 401,
  E_AUTH_STALE: 401,
  E_AUTH_REPLAY: 401,
  E_AUTH_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_CONFLICT: 409,
  E_CRL_NOT_NEWER: 409,
  E_UPLOAD_GAP: 409,
  E_UPLOAD_EDITED: 409,
  E_UPLOAD_FORK: 409,
  E_UPLOAD_PROOF: 409,
  E_ISSUANCE_CONFLICT: 409,
  E_REQUEST_TOO_LARGE: 413,
  E_HOST_DB: 503,
  E_HOST_DB_TOO_NEW: 503,
};

/** What a 401 answer names as the ways to authenticate (RFC 9110 §11.6.1). */
export const WWW_AUTHENTICATE = 'STL-Signature realm="issuer-host", Bearer realm="issuer-host"';

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** The error shape and status of anything thrown while serving a request. */
export function toHostError(error: unknown): { status: number; body: HostErrorBody; internal: boolean } {
  if (isTerminalError(error)) {
    // A refusal may name a more precise 4xx status (e.g. 415 for a body of the wrong media type).
    const own = (error as { statusCode?: unknown }).statusCode;
    const status = typeof own === 'number' && own >= 400 && own < 500 ? own : httpStatusOf(error.code);
    if (error.code === 'E_HOST_DB') {
      // The driver's message may quote SQL or the server address: it goes to the log, not the client.
      return {
        status,
        body: { code: error.code, message: 'the host database refused the operation or cannot be reached' },
        internal: true,
      };
    }
    return { status, body: { code: error.code, message: error.message }, internal: status >= 500 };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const first = error.validation[0];
    const where = [error.validationContext, first?.instancePath.replace(/^\//, '').replaceAll('/', '.')]
      .filter(Boolean)
      .join('.');
    return {
      status: 400,
      body: {
        code: 'E_INPUT_INVALID',
        message: `${where || 'request'}: ${first?.message ?? 'is not valid'}`,
      },
      internal: false,
    };
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      body: { code: 'E_REQUEST_TOO_LARGE', message: 'the request body is larger than this endpoint accepts' },
      internal: false,
    };
  }
  const status = fastify.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      status,
      body: { code: 'E_INPUT_INVALID', message: fastify.message ?? 'the request is not valid' },
      internal: false,
    };
  }
  return {
    status: 500,
    body: { code: 'E_INTERNAL', message: 'internal error in the issuer host' },
    internal: true,
  };
}

export function sendHostError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, internal } = toHostError(error);
  if (internal) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: body.code }, body.message);
  if (status === 401) reply.header('www-authenticate', WWW_AUTHENTICATE);
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}
