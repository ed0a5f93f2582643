// Assembles the main process's services from the configuration, in order: transaction log, the link
// to the issuer host (if configured), CRL cache, reader slots, settlement engine. The Electron shell, the browser host and the terminal
// CLI all start the terminal through this one function. The terminal never opens a simulated card
// itself: for the 'simulated' slot backend its host hands it a factory (card-sim/card-files.ts's
// openSimulatedCard), so these services depend on the card interface alone (protocol/virtual-card.ts).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type TerminalDatabase } from '../../db/connection.js';
import { CrlStore } from '../../db/crl-store.js';
import { Flows } from '../../db/flows.js';
import { Journal, type JournalRecord } from '../../db/journal.js';
import { TerminalError } from '../../protocol/errors.js';
import { fromPem } from '../../protocol/pki/index.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import type { TerminalConfig } from './config.js';
import { ContentEngine } from './contents/content-engine.js';
import { CrlCache } from './crl/crl-cache.js';
import { type HostLink, openHostLink } from './host-link/host-link.js';
import { SettlementEngine } from './settlement/settlement-engine.js';
import { createPcscSlots } from './slots/pcsc-slots.js';
import type { ReaderSlots } from './slots/reader-slots.js';
import { createSimulatedSlots } from './slots/simulated-slots.js';

export interface TerminalServices {
  config: TerminalConfig;
  db: TerminalDatabase;
  journal: Journal;
  flows: Flows;
  crl: CrlCache;
  /** The link to the issuer host, when the configuration names one. */
  host?: HostLink | undefined;
  slots: ReaderSlots;
  engine: SettlementEngine;
  /**
   * Seed 000 contents: authentication, listing, transmission and exchange, on the engine's card
   * sessions. Its open flows are not part of engine.recover(): at start-up call both
   * (`await engine.recover(); await contents.recover();`).
   */
  contents: ContentEngine;
  close(): Promise<void>;
}

export interface TerminalServicesOptions {
  /** Fault injection for tests: runs after each committed journal entry. */
  afterJournalAppend?: (r: JournalRecord) => void;
  /** Reader slots to use instead of the ones the configuration names (tests). */
  slots?: ReaderSlots;
  now?: () => Date;
  /**
   * Opens the simulated card in a card file, for the 'simulated' slot backend (the demo shop). Hosts
   * pass card-sim's openSimulatedCard; without it a simulated configuration is refused.
   */
  openSimulatedCard?: (file: string) => VirtualCard;
}

export async function startTerminalServices(
  config: TerminalConfig,
  options: TerminalServicesOptions = {},
): Promise<TerminalServices> {
  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(join(config.dataDir, 'terminal.db'));
  let host: HostLink | undefined;
  try {
    const journal = new Journal(db);
    const flows = new Flows(db);
    const caCertificateDer = readDerOrPem(config.caCertificate);
    host = config.host && openHostLink(config.host, { dataDir: config.dataDir, caCertificateDer });
    // The host's /crl by default, over the pinned link; a distribution point elsewhere by plain fetch.
    const distributionPoint = config.crl.distributionPoint ?? host?.crlUrl;
    const onHost =
      host !== undefined &&
      distributionPoint !== undefined &&
      new URL(distributionPoint).origin === new URL(host.url).origin;
    const crl = new CrlCache({
      store: new CrlStore(db),
      caCertificateDer,
      builtinCrlDer: config.builtinCrl ? readDerOrPem(config.builtinCrl) : undefined,
      expiredPolicy: config.crl.expiredPolicy,
      fetchTimeoutMs: config.crl.fetchTimeoutMs,
      distributionPoint,
      fetchImpl: onHost ? host?.client.fetch : undefined,
      now: options.now,
    });
    const slots = options.slots ?? (await openSlots(config, options.openSimulatedCard));
    const engine = new SettlementEngine({
      slots,
      journal,
      flows,
      crl,
      caCertificateDer,
      currency: config.currency,
      now: options.now,
      afterJournalAppend: options.afterJournalAppend,
    });
    const contents = new ContentEngine(engine, { journal, flows, slots });
    return {
      config,
      db,
      journal,
      flows,
      crl,
      host,
      slots,
      engine,
      contents,
      async close() {
        contents.close();
        await engine.close();
        await slots.close();
        host?.close();
        db.close();
      },
    };
  } catch (e) {
    host?.close();
    db.close();
    throw e;
  }
}

async function openSlots(
  config: TerminalConfig,
  openSimulatedCard: TerminalServicesOptions['openSimulatedCard'],
): Promise<ReaderSlots> {
  if (config.slots.backend === 'pcsc') {
    return createPcscSlots({ mapping: config.slots.readers, waitingTimeMs: config.waitingTimeMs });
  }
  if (!openSimulatedCard) {
    throw new TerminalError(
      'E_INTERNAL',
      'the configuration uses simulated cards, but this host gave the terminal no way to open them',
    );
  }
  const slots = createSimulatedSlots({ waitingTimeMs: config.waitingTimeMs });
  slots.insert('payer', openSimulatedCard(config.slots.cards.payer));
  slots.insert('payee', openSimulatedCard(config.slots.cards.payee));
  return slots;
}

function readDerOrPem(path: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(path));
  return bytes[0] === 0x30 ? bytes : fromPem(new TextDecoder().decode(bytes));
}
