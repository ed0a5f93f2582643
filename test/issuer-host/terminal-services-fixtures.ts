// Terminals as the hosts wire them (terminal-services.ts), against a TLS issuer host, for the tests of
// release proofs travelling through the host (host-release-fetch.test.ts,
// host-content-release-fetch.test.ts): each registered in shop-1 with its own data folder, its
// recovery started, its events kept, and a way to put a card in a reader and wait until the pass and
// the host fetches it started are done.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { terminalConfigSchema } from '../../electron/services/config.js';
import type { RecoveryEvent } from '../../electron/services/recovery/terminal-recovery.js';
import { createSimulatedSlots, type SimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import { startTerminalServices, type TerminalServices } from '../../electron/services/terminal-services.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { TerminalRegistry } from '../../issuer-host/db/terminal-registry.js';
import type { TerminalError } from '../../protocol/errors.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';

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
