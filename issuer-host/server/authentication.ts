// Authentication of every request (docs/issuer-host.md, "Authentication"), as Fastify hooks:
//
// onRequest (before the body is read): staff routes check the bearer token and its role entirely;
//   terminal routes check the signature headers' form and that the terminal is registered. So an
//   unauthenticated sender never gets a body read beyond the declared length.
// preValidation (the body has been read as bytes, within the route's size limit): the terminal's
//   signature over method, path, timestamp, nonce and the body's SHA-256; then that the terminal is
//   not revoked, the timestamp is within the window, and the nonce is new (claimed in the database,
//   so a replay is refused by every host instance). Only then is the body decoded (JSON) and
//   validated.
//
// Refusals that concern a known identity are security alerts in the audit log (throttled);
// refusals of unknown senders are only logged.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TerminalError } from '../../protocol/errors.js';
import {
  readSignedRequestHeaders,
  type SignedRequestCredentials,
  verifyRequestSignature,
} from '../../protocol/host-link/signed-request.js';
import { appendThrottledAlert } from '../db/audit-log.js';
import type { HostDatabase } from '../db/host-database.js';
import { RequestNonces } from '../db/request-nonces.js';
import { StaffTokens } from '../db/staff-tokens.js';
import { type TerminalRecord, TerminalRegistry } from '../db/terminal-registry.js';
import { type Principal, roleMay } from './access.js';

export interface AuthenticationOptions {
  db: HostDatabase;
  /** How far a request's timestamp may be from the host's clock, either way. */
  clockSkewMs: number;
  now: () => number;
}

interface PendingTerminal {
  terminal: TerminalRecord;
  credentials: SignedRequestCredentials;
}

const EMPTY = new Uint8Array(0);

export function registerAuthentication(app: FastifyInstance, options: AuthenticationOptions): void {
  const terminals = new TerminalRegistry(options.db);
  const tokens = new StaffTokens(options.db);
  const nonces = new RequestNonces(options.db);
  const pending = new WeakMap<FastifyRequest, PendingTerminal>();

  const alert = async (
    request: FastifyRequest,
    kind: string,
    subject: string,
    detail: Record<string, unknown> = {},
  ) => {
    try {
      await appendThrottledAlert(options.db, {
        kind,
        actor: subject.startsWith('tok-') ? `staff:${subject}` : `terminal:${subject}`,
        subject,
        detail: { method: request.method, path: request.url.slice(0, 200), ip: request.ip, ...detail },
      });
    } catch (e) {
      request.log.error({ err: e, kind, subject }, 'could not record a security alert');
    }
  };

  app.addHook('onRoute', (route) => {
    if (!route.config?.access) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no access: refusing to serve it`);
    }
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access.kind === 'public') return; // undefined: the not-found handler
    const authorization = request.headers.authorization;
    const signed = readSignedRequestHeaders(request.headers);

    if (access.kind === 'staff') {
      if (authorization === undefined) {
        if (signed.kind !== 'absent')
          refuse('E_AUTH_FORBIDDEN', 'this is a staff action: terminal credentials are not accepted');
        refuse('E_AUTH_MISSING', 'this needs a staff token (Authorization: Bearer <token>)');
      }
      if (signed.kind !== 'absent') {
        refuse('E_AUTH_INVALID', 'a request carries either a terminal signature or a staff token, not both');
      }
      const token = /^Bearer ([\x21-\x7e]+)$/.exec(authorization)?.[1];
      if (token === undefined) refuse('E_AUTH_INVALID', 'the Authorization header must be "Bearer <token>"');
      const record = await tokens.findByToken(token);
      if (record === undefined) refuse('E_AUTH_INVALID', 'the staff token is not known to this host');
      if (record.revokedAt !== null) {
        await alert(request, 'auth.revoked-token', record.tokenId);
        refuse('E_AUTH_REVOKED', `staff token ${record.tokenId} was revoked`);
      }
      if (record.expiresAt !== null && record.expiresAt.getTime() <= options.now()) {
        refuse(
          'E_AUTH_REVOKED',
          `staff token ${record.tokenId} expired at ${record.expiresAt.toISOString()}`,
        );
      }
      if (!roleMay(record.role, access.permission)) {
        await alert(request, 'auth.forbidden', record.tokenId, {
          role: record.role,
          permission: access.permission,
        });
        refuse('E_AUTH_FORBIDDEN', `role ${record.role} may not do this (needs ${access.permission})`);
      }
      request.principal = { kind: 'staff', tokenId: record.tokenId, role: record.role };
      return;
    }

    if (signed.kind === 'absent') {
      if (authorization !== undefined) {
        refuse(
          'E_AUTH_FORBIDDEN',
          'this is a terminal request: sign it with the terminal key; staff tokens are not accepted',
        );
      }
      refuse('E_AUTH_MISSING', 'this needs a request signed with a registered terminal key');
    }
    if (signed.kind === 'malformed')
      refuse('E_AUTH_INVALID', `the request signature headers are not valid: ${signed.problem}`);
    if (authorization !== undefined)
      refuse('E_AUTH_INVALID', 'a request carries either a terminal signature or a staff token, not both');
    const terminal = await terminals.find(signed.credentials.terminalId);
    if (terminal === undefined) {
      refuse(
        'E_AUTH_UNKNOWN_TERMINAL',
        `terminal ${signed.credentials.terminalId} is not registered at this host`,
      );
    }
    pending.set(request, { terminal, credentials: signed.credentials });
  });

  app.addHook('preValidation', async (request) => {
    const waiting = pending.get(request);
    if (waiting !== undefined) {
      pending.delete(request);
      request.principal = await verifyTerminal(request, waiting);
    }
    decodeBody(request);
  });

  async function verifyTerminal(
    request: FastifyRequest,
    { terminal, credentials }: PendingTerminal,
  ): Promise<Principal> {
    const id = terminal.terminalId;
    const body = request.body instanceof Uint8Array ? request.body : EMPTY;
    const parts = {
      method: request.method,
      path: request.url,
      terminalId: id,
      timestampMs: credentials.timestampMs,
      nonce: credentials.nonce,
      body,
    };
    if (!verifyRequestSignature(terminal.publicKey, parts, credentials.signature)) {
      await alert(request, 'auth.bad-signature', id);
      refuse('E_AUTH_INVALID', `the request signature does not verify with terminal ${id}'s registered key`);
    }
    if (terminal.status !== 'active') {
      await alert(request, 'auth.revoked-terminal', id);
      refuse('E_AUTH_REVOKED', `terminal ${id} was revoked`);
    }
    const now = options.now();
    const offset = credentials.timestampMs - now;
    if (Math.abs(offset) > options.clockSkewMs) {
      await alert(request, 'auth.stale-timestamp', id, { offsetMs: offset });
      refuse(
        'E_AUTH_STALE',
        `the request timestamp is ${Math.round(offset / 1000)} s from the host clock (at most ${options.clockSkewMs / 1000} s allowed)`,
      );
    }
    const fresh = await nonces.claim({
      terminalId: id,
      nonce: credentials.nonce,
      requestAt: new Date(credentials.timestampMs),
      // Nonces are kept twice the window: room for clock differences between host instances.
      pruneBefore: new Date(now - 2 * options.clockSkewMs),
    });
    if (!fresh) {
      await alert(request, 'auth.replay', id);
      refuse('E_AUTH_REPLAY', 'this request was already received (its nonce was used): a replay is refused');
    }
    return { kind: 'terminal', terminalId: id, shopId: terminal.shopId, publicKey: terminal.publicKey };
  }
}

const JSON_TYPE = 'application/json';
const CRL_TYPE = 'application/pkix-crl';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Turns the body bytes into what the route takes: parsed JSON, the CRL's bytes, or nothing. */
function decodeBody(request: FastifyRequest): void {
  const kind = request.routeOptions.config.body;
  const raw = request.body instanceof Uint8Array ? request.body : undefined;
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (kind === undefined) {
    if (raw !== undefined && raw.length > 0) refuse('E_INPUT_INVALID', 'this endpoint takes no request body');
    request.body = undefined;
    return;
  }
  const expected = kind === 'json' ? JSON_TYPE : CRL_TYPE;
  if (raw === undefined || raw.length === 0)
    refuse('E_INPUT_INVALID', `a request body (${expected}) is required`);
  if (type !== expected) {
    throw Object.assign(
      new TerminalError('E_INPUT_INVALID', `the body must be ${expected}, got ${type || 'no content type'}`),
      {
        statusCode: 415,
      },
    );
  }
  if (kind === 'crl') {
    request.body = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    return;
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    refuse('E_INPUT_INVALID', 'the JSON body is not valid UTF-8');
  }
  try {
    request.body = JSON.parse(text, (key, value) => {
      // The zod schemas build new objects from known keys only; refusing these keys outright also
      // keeps them from reaching anything that merges objects.
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        throw new SyntaxError(`the key "${key}" is not accepted`);
      }
      return value;
    });
  } catch (e) {
    refuse('E_INPUT_INVALID', `the body is not valid JSON: ${(e as Error).message}`);
  }
}

function refuse(code: ConstructorParameters<typeof TerminalError>[0], message: string): never {
  throw new TerminalError(code, message);
}
