// An issuer, its host and the host's clients for server tests: the issuer state (CA, CRLs), the host's
// TLS key and certificate from that CA, a running host on a loopback port, staff tokens, registered
// terminals with their keys, and a snapshot of everything the host stores.
import type { FastifyInstance } from 'fastify';
import {
  createIssuer,
  personalizeCard,
  publishCrl,
  revokeCertificate,
} from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { CrlVersions } from '../../issuer-host/db/crl-versions.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { type StaffRole, StaffTokens } from '../../issuer-host/db/staff-tokens.js';
import { TerminalRegistry } from '../../issuer-host/db/terminal-registry.js';
import {
  certificatePem,
  certificatePin,
  generateHostKey,
  issueHostCertificate,
} from '../../issuer-host/pki/host-certificate.js';
import { createHostServer, type HostServerOptions } from '../../issuer-host/server/host-server.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { generateP256KeyPair, type KeyPair } from '../../protocol/crypto-suite.js';
import { HostClient } from '../../protocol/host-link/host-client.js';
import { caKeyIdentifier, checkCrlOfCa, parseCertificate } from '../../protocol/pki/index.js';

export interface IssuerWorld {
  issuer: IssuerState;
  caDer: Uint8Array;
  /** A new CRL of this issuer (numbers count up), optionally revoking a freshly issued card. */
  nextCrl(options?: { revokeOne?: boolean; now?: Date; validityDays?: number }): Uint8Array;
  /** The host's TLS material for these names. */
  hostTls(names?: { dns?: string[]; ip?: string[] }): {
    certificatePem: string;
    privateKeyPem: string;
    pin: string;
  };
}

export function issuerWorld(name = 'Host Test', existing?: IssuerState): IssuerWorld {
  const issuer = existing ?? createIssuer({ name, currency: 978 });
  const caDer = fromHex(issuer.caCertificate);
  return {
    issuer,
    caDer,
    nextCrl: ({ revokeOne = false, now, validityDays } = {}) => {
      if (revokeOne) {
        personalizeCard(issuer, {
          validity: '20301231',
          balance: 0,
          maxBalance: 1000,
          transferKeyId: 1,
          transferKeyIdLimit: 4,
          updateKeyId: 1,
          updateKeyIdLimit: 2,
        });
        revokeCertificate(issuer, BigInt(issuer.issued.at(-1)!.serial), new Date(), 1);
      }
      return publishCrl(issuer, {
        ...(now ? { now } : {}),
        ...(validityDays !== undefined ? { validityDays } : {}),
      });
    },
    hostTls: ({ dns = ['localhost'], ip = ['127.0.0.1'] } = {}) => {
      const key = generateHostKey();
      const now = Date.now();
      const der = issueHostCertificate({
        caPrivateKey: fromHex(issuer.caPrivateKey),
        caCertificateDer: caDer,
        hostPublicKey: key.publicKey,
        dnsNames: dns,
        ipAddresses: ip,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 86_400_000),
      });
      const pem = certificatePem(der);
      return { certificatePem: pem, privateKeyPem: key.privateKeyPem, pin: certificatePin(pem) };
    },
  };
}

export interface RunningHost {
  app: FastifyInstance;
  /** http(s)://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

export async function startHost(
  options: Omit<HostServerOptions, 'caCertificateDer'> & { world: IssuerWorld },
): Promise<RunningHost> {
  const { world, ...rest } = options;
  const app = await createHostServer({ ...rest, caCertificateDer: world.caDer });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, close: () => app.close() };
}

export async function staffToken(db: HostDatabase, role: StaffRole): Promise<string> {
  return (await new StaffTokens(db).create({ role, label: `test ${role}`, actor: 'cli' })).token;
}

export interface TestTerminal {
  terminalId: string;
  keys: KeyPair;
}

/** Registers a terminal (and its shop, if new) directly in the database. */
export async function registeredTerminal(
  db: HostDatabase,
  terminalId: string,
  shopId = 'shop-1',
): Promise<TestTerminal> {
  const registry = new TerminalRegistry(db);
  if (!(await registry.listShops()).some((s) => s.shopId === shopId)) {
    await registry.createShop({ shopId, name: `Shop ${shopId}`, actor: 'cli' });
  }
  const keys = generateP256KeyPair();
  await registry.register({ terminalId, shopId, publicKey: keys.publicKey, actor: 'cli' });
  return { terminalId, keys };
}

/** A plain-HTTP client of a test host, signing as `terminal` when given. */
export function plainClient(
  host: RunningHost,
  world: IssuerWorld,
  terminal?: TestTerminal,
  now?: () => number,
): HostClient {
  return new HostClient({
    baseUrl: host.url,
    caCertificateDer: world.caDer,
    pins: [],
    allowPlainHttp: true,
    ...(terminal
      ? { terminal: { terminalId: terminal.terminalId, privateKey: terminal.keys.privateKey } }
      : {}),
    ...(now ? { now } : {}),
  });
}

/** The command-generating server's tables (migration 002). */
export const AUTHORITY_TABLES = [
  'authority_identity',
  'authority_allow_list',
  'authority_servers',
  'authority_commands',
  'authority_log',
] as const;

/** Clearing's tables (migrations 003-). */
export const CLEARING_TABLES = [
  'clearing_chains',
  'clearing_uploads',
  'clearing_entries',
  'ledger_accounts',
  'ledger_transfers',
  'ledger_exceptions',
  'ledger_transfer_flows',
  'release_proofs',
  'content_release_proofs',
  'content_returns',
  'refund_cases',
  'ledger_issuances',
] as const;

/** Every row the host stores, to show that a refused request changed nothing. */
export async function hostSnapshot(
  db: HostDatabase,
  options: { withNonces?: boolean } = {},
): Promise<Record<string, unknown[]>> {
  const tables = [
    'shops',
    'terminals',
    'staff_tokens',
    'crl_versions',
    'audit_events',
    ...AUTHORITY_TABLES,
    ...CLEARING_TABLES,
  ];
  if (options.withNonces ?? true) tables.push('request_nonces');
  const out: Record<string, unknown[]> = {};
  for (const table of tables) out[table] = await db.query(`SELECT * FROM ${table} ORDER BY 1, 2`);
  return out;
}

/** Stores a CRL of the world's CA straight into the host database (as POST /crl would). */
export async function publishCrlDirectly(
  db: HostDatabase,
  world: IssuerWorld,
  der: Uint8Array,
): Promise<void> {
  const crl = checkCrlOfCa(der, parseCertificate(world.caDer));
  await new CrlVersions(db).publish({
    issuerKeyId: toHex(caKeyIdentifier(parseCertificate(world.caDer))),
    crlNumber: crl.crlNumber,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    revokedCount: crl.revoked.length,
    der,
    actor: 'cli',
  });
}
