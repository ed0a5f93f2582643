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
import { PinAttemptStore } from '../../db/pin-attempt-store.js';
import { TerminalError } from '../../protocol/errors.js';
import { fromPem } from '../../protocol/pki/index.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { CardOperations } from './card-operations.js';
import type { TerminalConfig } from './config.js';
import { ContentEngine } from './contents/content-engine.js';
import { CrlCache } from './crl/crl-cache.js';
import type { HostLinkClient } from './host-link/host-failover.js';
import { type HostLink, openHostLink } from './host-link/host-link.js';
import { JournalUploader } from './host-link/journal-uploader.js';
import { type WatchedDesk, watchDesk } from './operators/desk-watch.js';
import { createOperatorDesk, type OperatorDesk } from './operators/operator-desk.js';
import { HostReleaseProofs } from './recovery/host-release-proofs.js';
import { TerminalRecovery } from './recovery/terminal-recovery.js';
import { createDayReports, type DayReports } from './reports/day-summary.js';
import { type FlowFactsSource, journalFactsSource } from './reports/journal-facts.js';
import { transactionLog } from './reports/transaction-log.js';
import { createOwnerLogins, type OwnerLogins } from './settlement/owner-logins.js';
import { SettlementEngine } from './settlement/settlement-engine.js';
import { type CardTray, createCardTray } from './slots/card-tray.js';
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
  /** One card operation at a time, whichever window or connection asks (the IPC handlers use it). */
  operations: CardOperations;
  /** The journal as the shop reads it: flow facts, the transaction log, the end of day. */
  reports: { facts: FlowFactsSource; log: ReturnType<typeof transactionLog>; day: DayReports };
  /**
   * Who works at the terminal: operator sign-in, roles, idle lock. Absent when the configuration
   * lists no operators (the CLI's and the tests' terminals): then no one signs in and flows are
   * journaled without an operator.
   */
  desk?: WatchedDesk;
  /** Which screen opened each card's owner login, and ending them (after a sale, at the lock...). */
  ownerLogins: OwnerLogins;
  /** The demo card tray: only over simulated slots, and only when the host asked for it. */
  tray?: CardTray;
  /**
   * The one recovery surface: `recovery.start()` at start-up (a pass, then one on every card
   * insertion), `recovery.run()` on demand, `recovery.inDoubt()` for what is still open.
   */
  recovery: TerminalRecovery;
  /**
   * With a host: after every recovery pass that sees a card holding a debit, the release proofs the
   * host keeps for it are fetched in the background and delivered through `recovery`.
   */
  releaseProofs?: HostReleaseProofs | undefined;
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
  /** Build the demo card tray over the simulated slots (the browser host); never with real readers. */
  cardTray?: boolean;
  /**
   * Requests of the journal's uploader and of the release-proof fetch go through this instead of the
   * configured link's client (the fleet soak: host instances that move, a terminal taken offline).
   */
  hostClient?: Pick<HostLinkClient, 'call'>;
  /** The operator desk's clock and PIN check (tests). */
  desk?: { now?: () => number; check?: Parameters<typeof createOperatorDesk>[0]['check'] };
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
      host.urls.some((u) => new URL(u).origin === new URL(distributionPoint).origin);
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
    const opened = options.slots
      ? { slots: options.slots, tray: undefined }
      : await openSlots(config, options.openSimulatedCard, held, options.cardTray === true);
    const { slots, tray } = opened;
    const desk = config.operators?.length
      ? watchDesk(
          createOperatorDesk({
            operators: config.operators,
            idleLockMinutes: config.idleLockMinutes,
            now: options.desk?.now,
            check: options.desk?.check,
            attemptStore: new PinAttemptStore(db).counter('operator'),
          }),
        )
      : undefined;
    const engine = new SettlementEngine({
      slots,
      journal,
      flows,
      crl,
      caCertificateDer,
      currency: config.currency,
      now: options.now,
      afterJournalAppend: options.afterJournalAppend,
      stamp: desk ? () => operatorStamp(desk) : undefined,
    });
    const contents = new ContentEngine(engine, { journal, flows, slots });
    const reports = createReports(config, journal, flows, options.now);
    const ownerLogins = createOwnerLogins({ logout: (slot) => contents.logout(slot), slots });
    // The operator walks away (lock) or signs out: no customer's login outlives them.
    desk?.on((state) => {
      if (state.state !== 'signed-in') void ownerLogins.end(['payer', 'payee']);
    });
    const recovery = new TerminalRecovery({ engine, journal, flows, slots });
    // Release proofs other terminals made for a card presented here, from the host, after each pass.
    const hostClient = host && (options.hostClient ?? host.client);
    const releaseProofs = hostClient && new HostReleaseProofs({ recovery, client: hostClient });
    releaseProofs?.start();
    const owned = db;
    const uploader = hostClient && new JournalUploader({ db: owned, client: hostClient });
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
      operations: new CardOperations(),
      reports,
      desk,
      ownerLogins,
      tray,
      recovery,
      releaseProofs,
      async close() {
        try {
          uploader?.stop();
          releaseProofs?.close();
          desk?.close();
          ownerLogins.close();
          recovery.close();
          contents.close();
          // A fetch still waiting for the host ends with the link (its error is reported, not thrown).
          host?.close();
          await releaseProofs?.settled();
          await engine.close();
          await slots.close();
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

export type TerminalReports = TerminalServices['reports'];

/** The journal as the shop reads it, for the configured shop, money format and operators. */
export function createReports(
  config: Pick<TerminalConfig, 'currencyCode' | 'minorUnits' | 'locale' | 'shop' | 'operators'>,
  journal: Journal,
  flows: Flows,
  now?: () => Date,
): TerminalReports {
  const money = { currencyCode: config.currencyCode, minorUnits: config.minorUnits, locale: config.locale };
  const facts = journalFactsSource(journal, flows);
  return {
    facts,
    log: transactionLog({ journal, source: facts, money }),
    day: createDayReports({
      source: facts,
      settings: {
        shopName: config.shop.name,
        terminalId: config.shop.terminalId,
        timeZone: config.shop.timeZone,
        money,
      },
      operators: config.operators,
      now,
    }),
  };
}

/** The operator in the journal: the one signed in (or locked out, mid-flow), none when signed out. */
export function operatorStamp(desk: OperatorDesk): Record<string, unknown> {
  const state = desk.state();
  return state.state === 'signed-out' ? {} : { operator: state.operator.id };
}

async function openSlots(
  config: TerminalConfig,
  openSimulatedCard: TerminalServicesOptions['openSimulatedCard'],
  held: HeldSimulatedCard[],
  withTray: boolean,
): Promise<{ slots: ReaderSlots; tray?: CardTray }> {
  if (config.slots.backend === 'pcsc') {
    const { extendedLength } = config.slots;
    const slots = await createPcscSlots({
      mapping: config.slots.readers,
      waitingTimeMs: config.waitingTimeMs,
      connectOptions: extendedLength === undefined ? undefined : { extendedLength },
    });
    return { slots };
  }
  if (!openSimulatedCard) {
    throw new TerminalError(
      'E_INTERNAL',
      'the configuration uses simulated cards, but this host gave the terminal no way to open them',
    );
  }
  // Each card file is held while this terminal runs (E_CARD_IN_USE for any other program that tries
  // to open it), and opened once: the tray's cards that start in a slot are the slot's cards.
  const opened = new Map<string, VirtualCard>();
  const open = (file: string): VirtualCard => {
    const known = opened.get(file);
    if (known) return known;
    const h = openSimulatedCard(file);
    held.push(h);
    opened.set(file, h.card);
    return h.card;
  };
  const slots = createSimulatedSlots({ waitingTimeMs: config.waitingTimeMs });
  slots.insert('payer', open(config.slots.cards.payer));
  slots.insert('payee', open(config.slots.cards.payee));
  if (!withTray || !config.slots.tray?.length) return { slots };
  const tray = createCardTray(
    slots,
    config.slots.tray.map((c) => ({ id: c.id, label: c.label, note: c.note, card: open(c.file) })),
  );
  return { slots, tray };
}

function readDerOrPem(path: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(path));
  return bytes[0] === 0x30 ? bytes : fromPem(new TextDecoder().decode(bytes));
}
