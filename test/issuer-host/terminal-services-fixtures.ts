// Terminals as the hosts wire them (terminal-services.ts), against a TLS issuer host, for the tests of
// release proofs travelling through the host (host-release-fetch.test.ts,
// host-content-release-fetch.test.ts): each registered in shop-1 with its own data folder, its
// recovery started, its events kept, and a way to put a card in a reader and wait until the pass and
// the host fetches it started are done.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { publishCrl } from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { terminalConfigSchema } from '../../electron/services/config.js';
import type { RecoveryEvent } from '../../electron/services/recovery/terminal-recovery.js';
import { createSimulatedSlots, type SimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import { startTerminalServices, type TerminalServices } from '../../electron/services/terminal-services.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { TerminalRegistry } from '../../issuer-host/db/terminal-registry.js';
import type { TerminalError } from '../../protocol/errors.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { useHostDatabases } from './host-db-fixtures.js';
import { issuerWorld, type RunningHost, startHost } from './host-fixtures.js';

export interface Till {
  s: TerminalServices;
  slots: SimulatedSlots;
  events: RecoveryEvent[];
  /** Puts the card in the reader (taking out what was there) and waits as settled() does. */
  place(slot: 'payer' | 'payee', card: VirtualCard): Promise<void>;
  /** The insertion's pass and the host fetches it started. */
  settled(): Promise<void>;
}

export interface TillWorld {
  db: HostDatabase;
  /** Where the terminals' folders go. */
  dir: string;
  caFile: string;
  crlFile: string;
}

export async function till(
  world: TillWorld,
  terminalId: string,
  urls: string[],
  pins: string[],
  timeoutMs = 10_000,
): Promise<Till> {
  const dataDir = mkdtempSync(join(world.dir, `${terminalId}-`));
  const config = terminalConfigSchema.parse({
    dataDir,
    currency: 978,
    caCertificate: world.caFile,
    builtinCrl: world.crlFile,
    slots: { backend: 'simulated', cards: { payer: 'unused', payee: 'unused' } },
    host: { urls, pins, terminalId, timeoutMs },
  });
  const slots = createSimulatedSlots({ waitingTimeMs: 500 });
  const s = await startTerminalServices(config, { slots });
  await new TerminalRegistry(world.db).register({
    terminalId,
    shopId: 'shop-1',
    publicKey: s.host!.identity.publicKey,
    actor: 'cli',
  });
  const events: RecoveryEvent[] = [];
  s.recovery.on((e) => events.push(e));
  await s.recovery.start();
  const settled = async () => {
    await s.recovery.settled();
    await s.releaseProofs!.settled();
    await s.recovery.settled();
  };
  return {
    s,
    slots,
    events,
    settled,
    async place(slot, card) {
      slots.remove(slot);
      slots.insert(slot, card);
      await new Promise((r) => setImmediate(r));
      await settled();
    },
  };
}

/** The errors the terminal's delivery of fetched proofs reported. */
export const deliveryErrors = (t: Till): TerminalError[] =>
  t.events.flatMap((e) => (e.type === 'error' && e.trigger === 'delivery' ? [e.error] : []));

/**
 * The file's issuer host: embedded PostgreSQL, TLS with the issuer's PKI, shop-1, a folder for the
 * terminals with the CA and a CRL; closed and removed after the file. `till` makes a terminal of it.
 */
export function useTillHost(name: string, issuer: IssuerState) {
  const dbs = useHostDatabases({ postgres: false });
  const world = issuerWorld(name, issuer);
  const dir = mkdtempSync(join(tmpdir(), 'till-host-'));
  const files = { caFile: join(dir, 'ca.der'), crlFile: join(dir, 'crl.der') };
  let db: HostDatabase | undefined;
  let host: RunningHost | undefined;
  let pin = '';
  beforeAll(async () => {
    writeFileSync(files.caFile, world.caDer);
    writeFileSync(files.crlFile, publishCrl(world.issuer, { validityDays: 7 }));
    db = await dbs.fresh('embedded');
    const tls = world.hostTls();
    pin = tls.pin;
    host = await startHost({ db, world, tls });
    await new TerminalRegistry(db).createShop({ shopId: 'shop-1', name: 'Shop', actor: 'cli' });
  }, 60_000);
  afterAll(async () => {
    await host?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the host starts in beforeAll');
    return v;
  };
  return {
    world,
    get db() {
      return started(db);
    },
    get host() {
      return started(host);
    },
    get pin() {
      return pin;
    },
    /** A terminal of this host (its addresses and pins by default). */
    till(terminalId: string, urls?: string[], pins?: string[], timeoutMs?: number): Promise<Till> {
      return till(
        { db: started(db), dir, ...files },
        terminalId,
        urls ?? [started(host).url],
        pins ?? [pin],
        timeoutMs,
      );
    },
  };
}
