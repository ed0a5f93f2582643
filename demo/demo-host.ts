// The demo's issuer host process (`tsx demo/demo-host.ts --dir .state/demo`, which
// demo-host-process.ts starts beside the terminal): it opens the host's embedded PostgreSQL (its
// folder made by demo-host-files.ts), makes the demo's rows — the demo shop, the demo terminal
// registered with its key and allow-listed for tickets and coupons, the demo's CRL, a staff token for
// the issuer's tools in .state/demo/issuer-host.json, the demo cards' issuance (issued-cards.json) —
// and serves. Only this process opens the
// database: embedded PostgreSQL admits one. Each step checks what is there first, so every start
// repairs what an interrupted one left out.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { CommandAuthority } from '../issuer-host/authority/command-authority.js';
import { loadHostConfig } from '../issuer-host/config.js';
import { CrlVersions } from '../issuer-host/db/crl-versions.js';
import { type HostDatabase, openHostDatabase } from '../issuer-host/db/host-database.js';
import { StaffTokens } from '../issuer-host/db/staff-tokens.js';
import { TerminalRegistry } from '../issuer-host/db/terminal-registry.js';
import { writeSecret } from '../issuer-host/host-folder.js';
import { cardOfCertificate, recordIssuance } from '../issuer-host/ledger/issuance.js';
import { certificatePin } from '../issuer-host/pki/host-certificate.js';
import { createHostServer } from '../issuer-host/server/host-server.js';
import { fromHex, toHex } from '../protocol/bytes.js';
import { errorMessage, isTerminalError } from '../protocol/errors.js';
import {
  caKeyIdentifier,
  checkCrlOfCa,
  type ParsedCertificate,
  parseCertificate,
} from '../protocol/pki/index.js';
import { HOST_LINK_FILE, type HostLinkFile } from '../tooling/issuer-host-link.js';
import {
  DEMO_HOST_DIR,
  type DemoIssuedCard,
  demoTerminalIdentity,
  ensureDemoHost,
  ISSUED_CARDS_FILE,
} from './demo-host-files.js';

const DEMO_SHOP = { shopId: 'demo-shop', name: 'Corner Shop' } as const;
const ACTOR = 'demo-setup';

/** The demo's rows in the host database: shop, terminal, allow-list, CRL, the staff tools' token. */
export async function seedDemoHost(db: HostDatabase, dir: string): Promise<void> {
  const settings = loadHostConfig(join(dir, DEMO_HOST_DIR, 'host.json'));
  const registry = new TerminalRegistry(db);
  if (!(await registry.listShops()).some((s) => s.shopId === DEMO_SHOP.shopId)) {
    await registry.createShop({ ...DEMO_SHOP, actor: ACTOR });
  }
  const identity = demoTerminalIdentity(dir);
  const terminalId = identity.serverInfo.terminalId;
  const registered = await registry.find(terminalId);
  if (!registered) {
    await registry.register({
      terminalId,
      shopId: DEMO_SHOP.shopId,
      publicKey: identity.publicKey,
      actor: ACTOR,
    });
  } else if (toHex(registered.publicKey) !== toHex(identity.publicKey)) {
    console.error(`demo host: terminal ${terminalId} is registered with another key than ${identity.path}`);
  }
  if (settings.authority) {
    const authority = await CommandAuthority.open({ ...settings.authority, db });
    if (!(await authority.allowedEntry(terminalId))) {
      await authority.allow(
        { terminalId, contentTypes: ['ticket', 'coupon'], maxIssuances: null, validitySeconds: 365 * 86_400 },
        ACTOR,
      );
    }
  }
  const ca = parseCertificate(settings.caCertificateDer);
  const crls = new CrlVersions(db);
  const issuerKeyId = toHex(caKeyIdentifier(ca));
  if (!(await crls.current(issuerKeyId))) {
    const der = new Uint8Array(readFileSync(join(dir, 'builtin.crl')));
    const crl = checkCrlOfCa(der, ca);
    await crls.publish({
      issuerKeyId,
      crlNumber: crl.crlNumber,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      revokedCount: crl.revoked.length,
      der,
      actor: ACTOR,
    });
  }
  await recordDemoIssuance(db, dir, ca);
  const linkFile = join(dir, HOST_LINK_FILE);
  if (!existsSync(linkFile)) {
    const { token } = await new StaffTokens(db).create({
      role: 'issuer-admin',
      label: 'demo issuer tools (issuer-host.json)',
      actor: ACTOR,
    });
    const link: HostLinkFile = {
      url: `https://127.0.0.1:${settings.listen.port}`,
      pins: [certificatePin(settings.tls!.certificatePem)],
      caCertificate: 'ca.pem',
      token,
    };
    writeSecret(linkFile, `${JSON.stringify(link, null, 2)}\n`);
  }
}

/**
 * The demo cards' issuance in the ledger, so the host's balances are the cards' own (each card is
 * recorded once; a later start finds them recorded). A demo made before issuance was recorded has no
 * issued-cards.json: its cards' values are not known here, and the host says so.
 */
async function recordDemoIssuance(db: HostDatabase, dir: string, ca: ParsedCertificate): Promise<void> {
  const file = join(dir, ISSUED_CARDS_FILE);
  if (!existsSync(file)) {
    console.error(
      `demo host: no ${file} (a demo made before issuance was booked): the ledger holds only what the terminal moved; remove ${dir} to start a fresh demo`,
    );
    return;
  }
  const cards = JSON.parse(readFileSync(file, 'utf8')) as DemoIssuedCard[];
  for (const card of cards) {
    if (card.amount === 0) continue;
    await recordIssuance(db, {
      ...cardOfCertificate(fromHex(card.certificate), ca),
      currency: card.currency,
      amount: card.amount,
      actor: ACTOR,
    });
  }
}

/**
 * The demo's rows seeded into `db`, and the demo host serving on it: its TLS, authority key and port
 * (from host.json). The caller closes the server, then the database.
 */
export async function listenDemoHost(
  dir: string,
  db: HostDatabase,
  logger: FastifyServerOptions['logger'] = false,
): Promise<{ app: FastifyInstance; url: string; pin: string }> {
  const settings = loadHostConfig(join(dir, DEMO_HOST_DIR, 'host.json'));
  await seedDemoHost(db, dir);
  const app = await createHostServer({
    db,
    caCertificateDer: settings.caCertificateDer,
    tls: settings.tls,
    authority: settings.authority,
    ...(settings.clearingKeys ? { clearingKeys: settings.clearingKeys } : {}),
    // A demo host folder made before host.json named the currencies: the demo issuer's.
    issuanceCurrencies: settings.issuanceCurrencies.length > 0 ? settings.issuanceCurrencies : [978],
    refundAfterMs: settings.refundAfterMs,
    refundScanIntervalMs: settings.refundScanIntervalMs,
    logger,
  });
  await app.listen(settings.listen);
  return {
    app,
    url: `https://${settings.listen.host}:${settings.listen.port}`,
    pin: certificatePin(settings.tls!.certificatePem),
  };
}

/** One line on stdout for the process that started this host: the protocol of demo-host-process.ts. */
export type DemoHostEvent =
  | { event: 'ready'; url: string; pin: string; database: string }
  | { event: 'failed'; code: string; message: string };

/** The host process: open (create) the database, seed it, serve; stops on SIGTERM or when stdin ends. */
export async function serveDemoHost(dir: string): Promise<void> {
  const say = (e: DemoHostEvent) => process.stdout.write(`${JSON.stringify(e)}\n`);
  let db: HostDatabase | undefined;
  try {
    db = await openHostDatabase(loadHostConfig(ensureDemoHost(dir)).database);
    const { app, url, pin } = await listenDemoHost(dir, db, { level: 'warn' });
    say({ event: 'ready', url, pin, database: db.location });
    await new Promise<void>((done) => {
      process.once('SIGTERM', done);
      process.once('SIGINT', done);
      // The terminal holds our stdin: when it goes away, so do we.
      process.stdin.once('end', done).once('close', done).resume();
    });
    process.stdin.destroy(); // else the open pipe keeps this process alive
    await app.close();
  } catch (e) {
    say({
      event: 'failed',
      code: isTerminalError(e) ? e.code : 'E_INTERNAL',
      message: errorMessage(e),
    });
    process.exitCode = 1;
  } finally {
    await db?.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { dir: { type: 'string' } }, strict: true });
  await serveDemoHost(values.dir ?? join('.state', 'demo'));
}
