// The issuer host's configuration file (JSON), validated on load; paths are relative to the file.
// `npm run host -- init` writes one. Example:
//
//   {
//     "caCertificate": "ca.pem",
//     "tls": { "certificate": "tls/host-cert.pem", "privateKey": "tls/host-key.pem" },
//     "listen": { "host": "0.0.0.0", "port": 8443 },
//     "database": { "url": "postgres://issuer@db.internal/issuer_host" },
//     "auth": { "clockSkewSeconds": 300 },
//     "limits": { "jsonBodyBytes": 65536, "crlBytes": 67108864 },
//     "authority": { "key": "authority-key.json", "eligibility": "allow-list", "rightLifetimeSeconds": 600 },
//     "clearing": { "keySet": "clearing-keys.json" },
//     "issuance": { "currencies": [978] },
//     "refunds": { "afterDays": 30, "scanIntervalSeconds": 600 }
//   }
//
// `authority` makes the host the issuer's command-generating server: its key file (written by init
// from the issuer file, mode 0600) holds the issuer ID and the authority signing key, nothing else
// of the issuer's secrets. `clearing.keySet` names the clearing verification key set (the transfer
// keys by ID, mode 0600: clearing/clearing-keys.ts), with which uploads are booked only on the cards'
// proofs; without it the host books what the terminals' chains say, and its status says so.
//
// Without database.url (and without the HOST_DATABASE_URL environment variable, which wins over
// the file) the host runs on embedded PostgreSQL in database.embeddedDir: zero set-up, one process.
// A password is best given in PGPASSWORD (node-postgres reads it) rather than in the file.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { TerminalError } from '../protocol/errors.js';
import { fromPem } from '../protocol/pki/index.js';
import {
  type CommandAuthorityOptions,
  DEFAULT_RIGHT_LIFETIME_SECONDS,
  ELIGIBILITIES,
} from './authority/command-authority.js';
import { loadClearingKeys, type TransferProofVerifier } from './clearing/clearing-keys.js';
import type { DatabaseTarget } from './db/host-database.js';
import { DEFAULT_REFUND_AFTER_MS } from './ledger/refund-cases.js';
import { DEFAULT_REFUND_SCAN_INTERVAL_MS } from './ledger/refund-scan-schedule.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_CRL_BYTES, DEFAULT_JSON_BODY_BYTES } from './server/host-server.js';

export const DEFAULT_HOST_DIR = '.state/host';
export const DEFAULT_HOST_PORT = 8443;
export const DATABASE_URL_ENV = 'HOST_DATABASE_URL';

export const hostConfigSchema = z
  .strictObject({
    /** The issuer CA's certificate (PEM or DER): whose CRLs the host distributes, who issued its TLS cert. */
    caCertificate: z.string().min(1),
    /** The host's TLS certificate and PKCS#8 private key (PEM). */
    tls: z.strictObject({ certificate: z.string().min(1), privateKey: z.string().min(1) }).optional(),
    /** Plain HTTP instead of TLS: only behind a TLS-terminating proxy, or in tests. */
    plainHttp: z.boolean().default(false),
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(DEFAULT_HOST_PORT),
      })
      .prefault({}),
    database: z
      .strictObject({
        /** postgres://user@host:port/database; absent: embedded PostgreSQL. */
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'is a postgres:// URL')
          .optional(),
        poolSize: z.number().int().min(1).max(100).default(10),
        embeddedDir: z.string().min(1).default('pgdata'),
      })
      .prefault({}),
    auth: z
      .strictObject({
        clockSkewSeconds: z
          .number()
          .int()
          .min(5)
          .max(3600)
          .default(DEFAULT_CLOCK_SKEW_MS / 1000),
      })
      .prefault({}),
    limits: z
      .strictObject({
        jsonBodyBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(DEFAULT_JSON_BODY_BYTES),
        crlBytes: z
          .number()
          .int()
          .min(1024)
          .max(1024 * 1024 * 1024)
          .default(DEFAULT_CRL_BYTES),
      })
      .prefault({}),
    authority: z
      .strictObject({
        /** The authority key file (issuer ID and authority signing key). */
        key: z.string().min(1),
        eligibility: z.enum(ELIGIBILITIES).default('allow-list'),
        rightLifetimeSeconds: z.number().int().min(10).max(86_400).default(DEFAULT_RIGHT_LIFETIME_SECONDS),
      })
      .optional(),
    clearing: z
      .strictObject({
        /** The clearing verification key set (the issuer's transfer keys by ID), mode 0600. */
        keySet: z.string().min(1),
      })
      .optional(),
    /** The currencies the issuer issues e-money in (init writes the issuer file's); none: no issuance recorded. */
    issuance: z
      .strictObject({ currencies: z.array(z.number().int().min(1).max(999)).max(16).default([]) })
      .prefault({}),
    refunds: z
      .strictObject({
        /** Value in flight longer than this becomes an issuer refund case. */
        afterDays: z
          .number()
          .int()
          .min(1)
          .max(3650)
          .default(DEFAULT_REFUND_AFTER_MS / 86_400_000),
        /** How often each instance scans for them; 0: only when staff ask. */
        scanIntervalSeconds: z
          .number()
          .int()
          .refine((s) => s === 0 || (s >= 10 && s <= 86_400), 'is 0 (off) or 10 to 86400 seconds')
          .default(DEFAULT_REFUND_SCAN_INTERVAL_MS / 1000),
      })
      .prefault({}),
  })
  .refine((c) => (c.tls === undefined) === c.plainHttp, {
    message: 'give either "tls" (certificate and key) or "plainHttp": true, not both or neither',
  });

export type HostConfigFile = z.input<typeof hostConfigSchema>;

export interface HostSettings {
  configPath: string;
  database: DatabaseTarget;
  listen: { host: string; port: number };
  tls?: { certificatePem: string; privateKeyPem: string; certificatePath: string; privateKeyPath: string };
  caCertificateDer: Uint8Array;
  clockSkewMs: number;
  jsonBodyBytes: number;
  maxCrlBytes: number;
  authority?: Omit<CommandAuthorityOptions, 'db' | 'now'>;
  /** The clearing verification key set; absent: uploads are booked without checking the cards' MACs. */
  clearingKeys?: TransferProofVerifier;
  issuanceCurrencies: number[];
  refundAfterMs: number;
  /** 0: no scheduled scan. */
  refundScanIntervalMs: number;
}

/** The authority key file: the issuer ID and the authority signing key, hex. */
export const authorityKeyFileSchema = z.strictObject({
  format: z.literal(1),
  issuerId: z.string().regex(/^[0-9A-F]{32}$/),
  authorityPrivateKey: z.string().regex(/^[0-9A-F]{64}$/),
});
export type AuthorityKeyFile = z.infer<typeof authorityKeyFileSchema>;

export function loadHostConfig(path: string, env: NodeJS.ProcessEnv = process.env): HostSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `cannot read host configuration ${path}: ${(e as Error).message}`,
    );
  }
  const parsed = hostConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new TerminalError(
      'E_INPUT_INVALID',
      `host configuration ${path}: ${first?.path.join('.') || '(file)'} ${first?.message}`,
      { issues: parsed.error.issues },
    );
  }
  const c = parsed.data;
  const base = dirname(resolve(path));
  const at = (p: string) => resolve(base, p);
  const url = env[DATABASE_URL_ENV] || c.database.url;
  const authority = c.authority ? readAuthorityKey(at(c.authority.key)) : undefined;
  const clearingKeys = c.clearing ? loadClearingKeys(at(c.clearing.keySet)) : undefined;
  if (authority && clearingKeys && authority.issuerId !== clearingKeys.issuerId) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `host configuration ${path}: the clearing key set is issuer ${clearingKeys.issuerId}'s, the authority key issuer ${authority.issuerId}'s`,
    );
  }
  return {
    configPath: resolve(path),
    database: url ? { url, poolSize: c.database.poolSize } : { dataDir: at(c.database.embeddedDir) },
    listen: c.listen,
    ...(c.tls
      ? {
          tls: {
            certificatePem: readText(at(c.tls.certificate), 'TLS certificate'),
            privateKeyPem: readText(at(c.tls.privateKey), 'TLS private key'),
            certificatePath: at(c.tls.certificate),
            privateKeyPath: at(c.tls.privateKey),
          },
        }
      : {}),
    caCertificateDer: readCertificate(at(c.caCertificate)),
    clockSkewMs: c.auth.clockSkewSeconds * 1000,
    jsonBodyBytes: c.limits.jsonBodyBytes,
    maxCrlBytes: c.limits.crlBytes,
    issuanceCurrencies: c.issuance.currencies,
    refundAfterMs: c.refunds.afterDays * 86_400_000,
    refundScanIntervalMs: c.refunds.scanIntervalSeconds * 1000,
    ...(c.authority && authority
      ? {
          authority: {
            issuer: authority,
            eligibility: c.authority.eligibility,
            rightLifetimeSeconds: c.authority.rightLifetimeSeconds,
          },
        }
      : {}),
    ...(clearingKeys ? { clearingKeys } : {}),
  };
}

function readAuthorityKey(path: string): { issuerId: string; authorityPrivateKey: string } {
  let parsed: ReturnType<typeof authorityKeyFileSchema.safeParse>;
  try {
    parsed = authorityKeyFileSchema.safeParse(JSON.parse(readText(path, 'authority key file')));
  } catch (e) {
    if (e instanceof TerminalError) throw e;
    throw new TerminalError('E_INPUT_INVALID', `the authority key file ${path} is not JSON`);
  }
  if (!parsed.success) {
    throw new TerminalError('E_INPUT_INVALID', `the authority key file ${path} is not valid`);
  }
  return { issuerId: parsed.data.issuerId, authorityPrivateKey: parsed.data.authorityPrivateKey };
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new TerminalError('E_INPUT_INVALID', `cannot read the ${what} ${path}: ${(e as Error).message}`);
  }
}

/** A certificate file in PEM or DER. */
export function readCertificate(path: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `cannot read the certificate ${path}: ${(e as Error).message}`,
    );
  }
  return bytes[0] === 0x30 ? new Uint8Array(bytes) : fromPem(bytes.toString('latin1'), 'CERTIFICATE');
}
