// Assembles the main process's services from the configuration, in order: the lock on the terminal's
// data, transaction log, the link to the issuer host (if configured), CRL cache, reader slots,
// settlement and content engines, and the one recovery surface. The Electron shell, the browser host,
// the console and the terminal CLI all start the terminal through this one function, and all recover
// through `recovery`. The terminal never opens a simulated card itself: for the 'simulated' slot
// backend its host hands it a factory (card-sim/card-files.ts's openSimulatedCard, which holds the card
// file), so these services depend on the card interface alone (protocol/virtual-card.ts).
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
import { JournalUploader } from './host-link/journal-uploader.js';
import { TerminalRecovery } from './recovery/terminal-recovery.js';
import { SettlementEngine } from './settlement/settlement-engine.js';
import { createPcscSlots } from './slots/pcsc-slots.js';
import type { ReaderSlots } from './slots/reader-slots.js';
import { createSimulatedSlots } from './slots/simulated-slots.js';
import { lockTerminalData } from './terminal-lock.js';

export interface TerminalServices {
  config: TerminalConfig;
  db: TerminalDatabase;
  journal: Journal;
  flows: Flows;
  crl: CrlCache;
  /** The link to the issuer host, when the configuration names one. */
  host?: HostLink | undefined;
  /**
   * The journal's background upload to the host (when there is one): `uploader.start()` where the
   * terminal runs for long (the shell, the browser host), `uploader.sync()` to force one.
   */
  uploader?: JournalUploader | undefined;
  slots: ReaderSlots;
  engine: SettlementEngine;
  /** Seed 000 contents: authentication, listing, transmission and exchange, on the engine's card sessions. */
  contents: ContentEngine;
  /**
   * The one recovery surface: `recovery.start()` at start-up (a pass, then one on every card
   * insertion), `recovery.run()` on demand, `recovery.inDoubt()` for what is still open.
   */
  recovery: TerminalRecovery;
  close(): Promise<void>;
}

/** A simulated card, held by this program until release() (card-sim/card-files.ts). */
export interface HeldSimulatedCard {
  card: VirtualCard;
  release(): void;
}

export interface TerminalServicesOptions {
  /** Fault injection for tests: runs after each committed journal entry. */
  afterJournalAppend?: (r: JournalRecord) => void;
  /** Reader slots to use instead of the ones the configuration names (tests). */
  slots?: ReaderSlots;
  now?: () => Date;
  /**
   * Opens and holds the simulated card in a card file, for the 'simulated' slot backend (the demo
   * shop). Hosts pass card-sim's openSimulatedCard; without it a simulated configuration is refused.
   */
  openSimulatedCard?: (file: string) => HeldSimulatedCard;
}

export async function startTerminalServices(
  config: TerminalConfig,
  options: TerminalServicesOptions = {},
): Promise<TerminalServices> {
  mkdirSync(config.dataDir, { recursive: true });
  // First: a second terminal on the same log and cards is refused before it touches either.
  const lock = lockTerminalData(config.dataDir);
  const held: HeldSimulatedCard[] = [];
  const releaseAll = () => {
    for (const h of held.splice(0)) h.release();
    lock.release();
  };
  let db: TerminalDatabase | undefined;
  let host: HostLink | undefined;
  try {
    db = openDatabase(join(config.dataDir, 'terminal.db'));
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
    const slots = options.slots ?? (await openSlots(config, options.openSimulatedCard, held));
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
    const recovery = new TerminalRecovery({ engine, journal, flows, slots });
    const owned = db;
    const uploader = host && new JournalUploader({ db: owned, client: host.client });
    return {
      config,
      db: owned,
      journal,
      flows,
      crl,
      host,
      uploader,
      slots,
      engine,
      contents,
      recovery,
      async close() {
        try {
          uploader?.stop();
          recovery.close();
          contents.close();
          await engine.close();
          await slots.close();
          host?.close();
          owned.close();
        } finally {
          releaseAll();
        }
      },
    };
  } catch (e) {
    host?.close();
    db?.close();
    releaseAll();
    throw e;
  }
}

async function openSlots(
  config: TerminalConfig,
  openSimulatedCard: TerminalServicesOptions['openSimulatedCard'],
  held: HeldSimulatedCard[],
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
  // Each card file is held while this terminal runs: the card is in its reader (E_CARD_IN_USE for
  // any other program that tries to open it).
  for (const slot of ['payer', 'payee'] as const) held.push(openSimulatedCard(config.slots.cards[slot]));
  const slots = createSimulatedSlots({ waitingTimeMs: config.waitingTimeMs });
  slots.insert('payer', held[0]!.card);
  slots.insert('payee', held[1]!.card);
  return slots;
}

function readDerOrPem(path: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(path));
  return bytes[0] === 0x30 ? bytes : fromPem(new TextDecoder().decode(bytes));
}
