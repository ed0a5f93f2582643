// `npm run host -- <command>`: set up, run and look after the issuer host. serve is the default.
//
// init       a host folder from the issuer file: host.json, the CA certificate, a TLS key and a
//            certificate from the issuer CA, the authority key, the clearing key set; migrates the database and creates
//            the first staff token
// serve      runs the HTTP service
// migrate    applies pending database migrations and exits
// tls-issue  a new TLS certificate from the issuer CA (same key, so the same pin, unless --new-key)
// pin        prints the pin terminals configure for this host

import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadIssuer } from '../card-sim/issuer/issuer.js';
import { p256PublicKey } from '../protocol/crypto-suite.js';
import { TerminalError } from '../protocol/errors.js';
import {
  type Command,
  defineCommand,
  integerOption,
  type ParsedArgs,
  requireString,
} from '../tooling/cli-kit.js';
import { DEFAULT_HOST_DIR, DEFAULT_HOST_PORT, type HostSettings, loadHostConfig } from './config.js';
import { type HostDatabase, openHostDatabase } from './db/host-database.js';
import { migrateHostDatabase } from './db/migrate.js';
import { StaffTokens } from './db/staff-tokens.js';
import { issueTls, type TlsNames, writeHostFolder, writeSecret } from './host-folder.js';
import { certificatePem, certificatePin, generateHostKey } from './pki/host-certificate.js';
import { clearingStatus } from './server/clearing-routes.js';
import { createHostServer } from './server/host-server.js';

export const CONFIG_OPTION = { config: { type: 'string' } } as const;
export const CONFIG_HELP = { config: `host configuration (default ${DEFAULT_HOST_DIR}/host.json)` };

export function configPath(args: ParsedArgs): string {
  const given = args.values.config;
  return typeof given === 'string' ? given : join(DEFAULT_HOST_DIR, 'host.json');
}

export function loadSettings(args: ParsedArgs): HostSettings {
  const path = configPath(args);
  if (!existsSync(path)) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `no host configuration at ${path}: create one with "npm run host -- init --issuer <issuer.json>"`,
    );
  }
  return loadHostConfig(path);
}

/** Runs `fn` on the configured host database (migrated) and closes it. */
export async function withHostDatabase<T>(
  args: ParsedArgs,
  fn: (db: HostDatabase) => Promise<T>,
): Promise<T> {
  const db = await openHostDatabase(loadSettings(args).database);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Who acts from this command line, for the audit log. */
export function cliActor(): string {
  return `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`.slice(0, 200);
}

const TLS_NAME_OPTIONS = {
  dns: { type: 'string', multiple: true },
  ip: { type: 'string', multiple: true },
  days: { type: 'string' },
} as const;
const TLS_NAME_HELP = {
  dns: 'DNS name terminals use for the host (repeatable; default localhost)',
  ip: 'IP address terminals use for the host (repeatable; default 127.0.0.1)',
  days: 'validity of the TLS certificate in days (default 397)',
};

function tlsNames(args: ParsedArgs): TlsNames {
  const list = (name: string) => (args.values[name] as string[] | undefined) ?? [];
  const dnsNames = list('dns');
  const ipAddresses = list('ip');
  const none = dnsNames.length === 0 && ipAddresses.length === 0;
  return {
    dnsNames: none ? ['localhost'] : dnsNames,
    ipAddresses: none ? ['127.0.0.1'] : ipAddresses,
    days: integerOption(args, 'days', 397, 3650),
  };
}

export const initCommand = defineCommand({
  name: 'init',
  summary:
    'Create a host folder: configuration, TLS key and certificate from the issuer CA, the authority key, the clearing key set, the database and a first admin token.',
  usage:
    '--issuer issuer.json [--dir .state/host] [--dns NAME]... [--ip ADDR]... [--port 8443] [--database-url URL] [--force]',
  options: {
    issuer: { type: 'string' },
    dir: { type: 'string' },
    port: { type: 'string' },
    'database-url': { type: 'string' },
    force: { type: 'boolean' },
    ...TLS_NAME_OPTIONS,
  },
  help: {
    issuer:
      'the issuer file (card-sim issuer-create): its CA issues the host certificate; its authority key signs create rights; its transfer keys check the cards’ proofs at clearing',
    dir: `folder to create (default ${DEFAULT_HOST_DIR})`,
    port: `TCP port (default ${DEFAULT_HOST_PORT})`,
    'database-url': 'a PostgreSQL server (postgres://…); default: embedded PostgreSQL in the folder',
    force: 'overwrite an existing configuration',
    ...TLS_NAME_HELP,
  },
  async run(args) {
    const dir = typeof args.values.dir === 'string' ? args.values.dir : DEFAULT_HOST_DIR;
    const configFile = join(dir, 'host.json');
    if (existsSync(configFile) && !args.values.force) {
      throw new TerminalError('E_INPUT_INVALID', `${configFile} exists; use --force to replace it`);
    }
    const url = args.values['database-url'];
    const { pin } = writeHostFolder({
      dir,
      issuer: loadIssuer(requireString(args, 'issuer')),
      port: integerOption(args, 'port', DEFAULT_HOST_PORT, 65_535),
      names: tlsNames(args),
      databaseUrl: typeof url === 'string' ? url : undefined,
    });
    const settings = loadHostConfig(configFile);
    const db = await openHostDatabase(settings.database);
    try {
      const admin = await new StaffTokens(db).create({
        role: 'issuer-admin',
        label: 'created by init',
        actor: cliActor(),
      });
      args.out(
        [
          `host folder ${dir} created (database: ${db.location})`,
          `TLS pin for the terminals: ${pin}`,
          `issuer-admin token ${admin.tokenId} (shown once, keep it secret):`,
          `  ${admin.token}`,
          `start it with: npm run host -- serve --config ${configFile}`,
        ].join('\n'),
        { dir, config: configFile, pin, database: db.location, tokenId: admin.tokenId, token: admin.token },
      );
    } finally {
      await db.close();
    }
  },
});

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'Run the issuer host (the default command).',
  usage: '[--config host.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  async run(args) {
    const settings = loadSettings(args);
    const db = await openHostDatabase(settings.database);
    const app = await createHostServer({
      db,
      caCertificateDer: settings.caCertificateDer,
      ...(settings.tls ? { tls: settings.tls } : {}),
      clockSkewMs: settings.clockSkewMs,
      jsonBodyBytes: settings.jsonBodyBytes,
      maxCrlBytes: settings.maxCrlBytes,
      ...(settings.authority ? { authority: settings.authority } : {}),
      ...(settings.clearingKeys ? { clearingKeys: settings.clearingKeys } : {}),
      issuanceCurrencies: settings.issuanceCurrencies,
      refundAfterMs: settings.refundAfterMs,
      refundScanIntervalMs: settings.refundScanIntervalMs,
      logger: { level: 'info' },
    }).catch(async (e: unknown) => {
      await db.close();
      throw e;
    });
    try {
      await app.listen(settings.listen);
    } catch (e) {
      await app.close();
      await db.close();
      throw new TerminalError(
        'E_INPUT_INVALID',
        `cannot listen on ${settings.listen.host}:${settings.listen.port}: ${(e as Error).message}`,
      );
    }
    const { port } = app.server.address() as { port: number };
    const scheme = settings.tls ? 'https' : 'http';
    args.out(
      [
        `issuer host listening on ${scheme}://${settings.listen.host}:${port} (database: ${db.location})`,
        settings.tls ? `TLS pin: ${certificatePin(settings.tls.certificatePem)}` : 'plain HTTP (no TLS)',
        settings.clearingKeys
          ? `clearing: uploads booked only on the cards' proofs (transfer keys ${settings.clearingKeys.keyIds.join(', ')})`
          : 'clearing: NO key set ("clearing.keySet"): uploads are booked on the terminals\' word, the cards\' MACs unchecked',
      ].join('\n'),
      {
        url: `${scheme}://${settings.listen.host}:${port}`,
        database: db.location,
        clearing: clearingStatus(settings.clearingKeys?.keyIds),
        ...(settings.tls ? { pin: certificatePin(settings.tls.certificatePem) } : {}),
      },
    );
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await app.close();
    await db.close();
  },
});

export const migrateCommand = defineCommand({
  name: 'migrate',
  summary: 'Apply pending migrations to the host database and exit.',
  usage: '[--config host.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  async run(args) {
    const db = await openHostDatabase(loadSettings(args).database, { migrate: false });
    try {
      const result = await migrateHostDatabase(db);
      args.out(
        result.applied.length > 0
          ? `migrated ${db.location} from version ${result.from} to ${result.to}`
          : `${db.location} is at version ${result.to}: nothing to do`,
        result,
      );
    } finally {
      await db.close();
    }
  },
});

export const tlsIssueCommand = defineCommand({
  name: 'tls-issue',
  summary: 'Issue a new TLS certificate from the issuer CA (same key and pin unless --new-key).',
  usage: '--issuer issuer.json [--config host.json] [--dns NAME]... [--ip ADDR]... [--days N] [--new-key]',
  options: {
    issuer: { type: 'string' },
    'new-key': { type: 'boolean' },
    ...CONFIG_OPTION,
    ...TLS_NAME_OPTIONS,
  },
  help: {
    issuer: 'the issuer file whose CA issues the certificate',
    'new-key': 'also a new key: terminals must have the new pin before the host uses it',
    ...CONFIG_HELP,
    ...TLS_NAME_HELP,
  },
  run(args) {
    const settings = loadSettings(args);
    if (!settings.tls)
      throw new TerminalError('E_INPUT_INVALID', 'this host runs plain HTTP: it has no TLS files');
    const before = certificatePin(settings.tls.certificatePem);
    let keyPem = settings.tls.privateKeyPem;
    if (args.values['new-key']) keyPem = generateHostKey().privateKeyPem;
    const { der } = issueTls(
      loadIssuer(requireString(args, 'issuer')),
      publicKeyOfPem(keyPem),
      tlsNames(args),
    );
    writeSecret(settings.tls.privateKeyPath, keyPem);
    writeFileSync(settings.tls.certificatePath, certificatePem(der));
    const pin = certificatePin(der);
    const where = relative(process.cwd(), resolve(settings.tls.certificatePath));
    args.out(
      pin === before
        ? `new certificate in ${where}; the pin is unchanged (${pin}); restart the host to use it`
        : `new key and certificate in ${where}; NEW pin ${pin} (was ${before}): give it to every terminal before restarting the host`,
      { certificate: settings.tls.certificatePath, pin, previousPin: before },
    );
  },
});

export const pinCommand = defineCommand({
  name: 'pin',
  summary: 'Print the pin of the host’s TLS key, which terminals configure.',
  usage: '[--config host.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run(args) {
    const settings = loadSettings(args);
    if (!settings.tls)
      throw new TerminalError('E_INPUT_INVALID', 'this host runs plain HTTP: there is no pin');
    const pin = certificatePin(readFileSync(settings.tls.certificatePath, 'utf8'));
    args.out(pin, { pin });
  },
});

/** The 65-byte public key of the host's PKCS#8 PEM P-256 private key. */
function publicKeyOfPem(pem: string): Uint8Array {
  const jwk = createPrivateKey(pem).export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) {
    throw new TerminalError('E_INPUT_INVALID', 'the host TLS key is not a P-256 private key');
  }
  return p256PublicKey(new Uint8Array(Buffer.from(jwk.d, 'base64url')));
}

export const hostSetupCommands: Command[] = [
  initCommand,
  serveCommand,
  migrateCommand,
  tlsIssueCommand,
  pinCommand,
];
