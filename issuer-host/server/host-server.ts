// The issuer host's HTTP service (docs/issuer-host.md). Fastify, over TLS with the host certificate
// the issuer's CA issued (or plain HTTP where explicitly asked: tests, behind a TLS proxy).
//
// Stateless: every request reads and writes the database and nothing else, so several instances
// can serve one PostgreSQL database. Request bodies are read as bytes within the route's size limit
// and decoded only after authentication (authentication.ts); one error shape for every refusal
// (http-errors.ts).
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { TerminalError } from '../../protocol/errors.js';
import {
  type ParsedCertificate,
  parseCertificate,
  verifyCertificateSignature,
} from '../../protocol/pki/index.js';
import { CommandAuthority, type CommandAuthorityOptions } from '../authority/command-authority.js';
import type { TransferProofVerifier } from '../clearing/clearing-keys.js';
import type { Booker } from '../clearing/ingest.js';
import { provenBooker } from '../clearing/transfer-proofs.js';
import type { HostDatabase } from '../db/host-database.js';
import { contentLegBooker } from '../ledger/content-booker.js';
import { bookValueTransfers } from '../ledger/ledger-booker.js';
import { DEFAULT_REFUND_AFTER_MS } from '../ledger/refund-cases.js';
import { type RefundScanSchedule, scheduleRefundScan } from '../ledger/refund-scan-schedule.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerAuthentication } from './authentication.js';
import { registerAuthorityRoutes } from './authority-routes.js';
import { registerClearingRoutes } from './clearing-routes.js';
import { registerCrlRoutes } from './crl-routes.js';
import { sendHostError } from './http-errors.js';
import { registerIssuanceRoutes } from './issuance-routes.js';
import { registerLedgerRoutes } from './ledger-routes.js';
import { registerTerminalRoutes } from './terminal-routes.js';

export const DEFAULT_JSON_BODY_BYTES = 64 * 1024;
export const DEFAULT_CRL_BYTES = 64 * 1024 * 1024;
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface HostServerOptions {
  db: HostDatabase;
  /** The issuer CA's certificate (DER): whose CRLs the host distributes. */
  caCertificateDer: Uint8Array;
  /** PEM of the host's certificate and PKCS#8 private key; without it, plain HTTP. */
  tls?: { certificatePem: string; privateKeyPem: string };
  clockSkewMs?: number;
  /** Largest request body outside CRL uploads. */
  jsonBodyBytes?: number;
  maxCrlBytes?: number;
  /** Largest clearing upload body. */
  uploadBodyBytes?: number;
  /** How long value may stay in flight before a scan makes it a refund case (default 30 days). */
  refundAfterMs?: number;
  /** Scan for refund cases this often (ms); absent or 0: only when staff ask (POST /admin/refund-cases/scan). */
  refundScanIntervalMs?: number;
  /** The currencies the issuer issues e-money in: issuances in others are refused (default none). */
  issuanceCurrencies?: readonly number[];
  /**
   * The command-generating server: the issuer's authority key and how it grants. Without it the host
   * serves no /terminal/authority or /admin/authority routes.
   */
  authority?: Omit<CommandAuthorityOptions, 'db' | 'now'>;
  /**
   * The clearing verification key set: with it, an upload is booked only on the cards' proofs and
   * refused (E_UPLOAD_PROOF) when one fails; without it, the ledger books what the chains say.
   */
  clearingKeys?: TransferProofVerifier;
  /** The host's clock in ms (tests move it). */
  now?: () => number;
  logger?: FastifyServerOptions['logger'];
}

export async function createHostServer(options: HostServerOptions): Promise<FastifyInstance> {
  const ca = loadCa(options.caCertificateDer);
  const now = options.now ?? Date.now;
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const common = {
    logger: options.logger ?? false,
    bodyLimit: options.jsonBodyBytes ?? DEFAULT_JSON_BODY_BYTES,
    // A request must arrive whole within this time (headers and body), against slow senders.
    requestTimeout: 60_000,
    connectionTimeout: 120_000,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 100 },
  } satisfies FastifyServerOptions;
  const app: FastifyInstance = options.tls
    ? (Fastify({
        ...common,
        https: { cert: options.tls.certificatePem, key: options.tls.privateKeyPem, minVersion: 'TLSv1.3' },
      }) as unknown as FastifyInstance)
    : Fastify(common);

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => sendHostError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendHostError(
      new TerminalError('E_NOT_FOUND', `no ${request.method} ${request.url.split('?')[0]} here`),
      request,
      reply,
    ),
  );
  // Bodies stay bytes until authentication has checked the signature over them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/pkix-crl'],
    { parseAs: 'buffer' },
    (_request, body, done) => done(null, body),
  );
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  registerAuthentication(app, { db: options.db, clockSkewMs, now });
  registerCrlRoutes(app, {
    db: options.db,
    ca,
    maxCrlBytes: options.maxCrlBytes ?? DEFAULT_CRL_BYTES,
    clockSkewMs,
    now,
  });
  registerAdminRoutes(app, { db: options.db, ca });
  registerTerminalRoutes(app, { db: options.db, ca, now });
  registerClearingRoutes(app, {
    db: options.db,
    now,
    book: bothBookers(
      options.clearingKeys ? provenBooker(options.clearingKeys, bookValueTransfers) : bookValueTransfers,
      contentLegBooker(ca),
    ),
    ...(options.clearingKeys ? { proofKeyIds: options.clearingKeys.keyIds } : {}),
    ...(options.uploadBodyBytes !== undefined ? { uploadBodyBytes: options.uploadBodyBytes } : {}),
  });
  registerLedgerRoutes(app, {
    db: options.db,
    now,
    ...(options.refundAfterMs !== undefined ? { refundAfterMs: options.refundAfterMs } : {}),
  });
  registerIssuanceRoutes(app, { db: options.db, ca, now, currencies: options.issuanceCurrencies ?? [] });
  if (options.authority) {
    const authority = await CommandAuthority.open({
      ...options.authority,
      db: options.db,
      now: () => new Date(now()),
    });
    registerAuthorityRoutes(app, { authority });
  }
  if (options.refundScanIntervalMs) {
    const { refundScanIntervalMs: intervalMs } = options;
    let schedule: RefundScanSchedule | undefined;
    app.addHook('onReady', async () => {
      schedule = scheduleRefundScan({
        db: options.db,
        intervalMs,
        ageMs: options.refundAfterMs ?? DEFAULT_REFUND_AFTER_MS,
        now,
        log: app.log,
      });
    });
    // Stopped before the caller closes the database: a running scan ends first.
    app.addHook('onClose', async () => schedule?.stop());
  }
  await app.ready();
  return app;
}

/** Value transfers, then content legs, in the upload's one transaction: a refusal of either rolls back both. */
function bothBookers(transfers: Booker, contents: Booker): Booker {
  return async (tx, context, entries) => {
    await transfers(tx, context, entries);
    await contents(tx, context, entries);
  };
}

function loadCa(der: Uint8Array): ParsedCertificate {
  const ca = parseCertificate(der);
  if (!ca.isCa || !verifyCertificateSignature(ca, ca.publicKey)) {
    throw new TerminalError(
      'E_PKI_UNSUPPORTED',
      'the issuer CA certificate is not a self-signed CA certificate',
      {
        subject: ca.subjectName,
      },
    );
  }
  return ca;
}
