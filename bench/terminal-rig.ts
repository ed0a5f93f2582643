// The set-up both benchmarks share: a private pcscd (test/support/pcscd-harness.ts) with vpcd readers,
// simulated settlement cards put into them through VpcdConnector, and the real terminal services
// (startTerminalServices: SQLite journal, CRL cache, PC/SC reader slots, settlement engine) on a
// temporary data folder. The cards run in this process, as in test/terminal/pcsc-slots.test.ts; every
// APDU still goes terminal → libpcsclite → pcscd → vpcd (TCP) → card and back.
//
// Readers: "Virtual PCD A 00 00" (payer) and "Virtual PCD A 00 01" (payee), one reader.conf entry.
// (Two entries do not work: with vsmartcard-vpcd 3.3 every libifdvpcd entry ends up on the ports of
// the last one, so a card on the first entry's ports is never seen.) Floor measurements reach the same
// cards through a PcscClient of the benchmark's own, in shared mode, between the terminal's operations.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createIssuer,
  type PersonalizeOptions,
  personalizeCard,
  publishCrl,
} from '../card-sim/issuer/issuer.js';
import type { IssuerState } from '../card-sim/issuer/issuer-state.js';
import { FileBackend, MemoryBackend, type PersistenceBackend } from '../card-sim/os/persistence-backend.js';
import { createSettlementCard, type SimulatedCard } from '../card-sim/settlement-card.js';
import { VpcdConnector } from '../card-sim/transport/vpcd-connector.js';
import type { JournalRecord } from '../db/journal.js';
import { type TerminalConfig, terminalConfigSchema } from '../electron/services/config.js';
import { PcscClient } from '../electron/services/pcsc/pcsc-client.js';
import type { SlotName } from '../electron/services/slots/reader-slots.js';
import { startTerminalServices, type TerminalServices } from '../electron/services/terminal-services.js';
import { fromHex } from '../protocol/bytes.js';
import type { CardChannel } from '../protocol/card-channel.js';
import type { VirtualCard } from '../protocol/virtual-card.js';
import { DEFAULT_CARD, TEST_CURRENCY } from '../test/support/card-fixtures.js';
import { type PcscdHarness, startPcscd } from '../test/support/pcscd-harness.js';
import { choiceOption } from './kit.js';

export type CardBackendKind = 'memory' | 'file';

/** The description of `--card-backend`, for the benchmarks on this rig. */
export const CARD_BACKEND_OPTION =
  "memory (default), or file: each card's memory in a file, fsynced at every card commit";

export function cardBackendOption(options: Map<string, string>): CardBackendKind {
  return choiceOption<CardBackendKind>(options, 'card-backend', ['memory', 'file'], 'memory');
}

export interface RigCard {
  sim: SimulatedCard;
  backend: PersistenceBackend;
  connector: VpcdConnector;
  /** APDUs this card has answered (GET RESPONSE included). */
  apdus: number;
  /** Warm resets (vpcd RESET: SCardDisconnect with SCARD_RESET_CARD, or SCardReconnect). */
  resets: number;
}

export interface Rig {
  harness: PcscdHarness;
  services: TerminalServices;
  issuer: IssuerState;
  cards: Record<SlotName, RigCard>;
  dir: string;
  /** Journal entries committed by the terminal so far. */
  readonly appends: number;
  /** APDUs both cards have answered so far (GET RESPONSE included). */
  readonly apdus: number;
  /** The entries committed since the last takeAppended() call. */
  takeAppended(): JournalRecord[];
  /** While set, every APDU a card answers is pushed here as "<slot>:<INS hex>". */
  trace: string[] | undefined;
  /** Replaces a card's persistent memory with `image` and has the card re-read it. */
  loadImage(slot: SlotName, image: string): void;
  /**
   * A PC/SC session with the card in `slot` through the benchmark's own PcscClient (shared mode, so
   * it works while the terminal holds a session too). 'leave' ends it without resetting the card.
   */
  openFloorChannel(slot: SlotName, disposition: 'leave' | 'reset'): Promise<CardChannel>;
  close(): Promise<void>;
}

const READERS: Record<SlotName, string> = { payer: 'Virtual PCD A 00 00', payee: 'Virtual PCD A 00 01' };

export async function startRig(o: {
  cardBackend: CardBackendKind;
  payer?: Partial<PersonalizeOptions>;
  payee?: Partial<PersonalizeOptions>;
  issuer?: IssuerState;
  /** What goes into the vpcd reader in place of the card OS (e.g. a LatencyCard around it). */
  wrapCard?: (slot: SlotName, sim: SimulatedCard) => VirtualCard;
}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-terminal-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  try {
    const now = new Date();
    const issuer =
      o.issuer ??
      createIssuer({ name: 'Bench Issuer', currency: TEST_CURRENCY, updateKeys: 3, transferKeys: 6, now });
    const harness = await startPcscd({ readers: 2, logLevel: 'error' });
    cleanups.push(() => harness.stop());
    const names = await harness.readerNames();
    if (names.join() !== [READERS.payer, READERS.payee].join()) {
      throw new Error(`unexpected reader names ${names.join(', ')}`);
    }

    let trace: string[] | undefined;
    const makeCard = (slot: SlotName, p: Partial<PersonalizeOptions> | undefined, port: number): RigCard => {
      const backend =
        o.cardBackend === 'file' ? new FileBackend(join(dir, `${slot}-card.json`)) : new MemoryBackend();
      const sim = createSettlementCard({
        backend,
        initial: personalizeCard(issuer, { ...DEFAULT_CARD, now, ...p }),
      });
      const card: RigCard = {
        sim,
        backend,
        connector: new VpcdConnector({ port, card: o.wrapCard?.(slot, sim) ?? sim.os }),
        apdus: 0,
        resets: 0,
      };
      const transmit = sim.os.transmit.bind(sim.os);
      sim.os.transmit = (apdu) => {
        card.apdus++;
        trace?.push(`${slot}:${(apdu[1] ?? 0).toString(16).padStart(2, '0')}`);
        return transmit(apdu);
      };
      const reset = sim.os.reset.bind(sim.os);
      sim.os.reset = () => {
        card.resets++;
        reset();
      };
      return card;
    };
    const cards = {
      payer: makeCard('payer', o.payer, harness.ports[0]!),
      payee: makeCard('payee', o.payee, harness.ports[1]!),
    };

    const config = benchTerminalConfig(dir, issuer, now, READERS);
    let appended: JournalRecord[] = [];
    let appends = 0;
    const services = await startTerminalServices(config, {
      afterJournalAppend: (r) => {
        appends++;
        appended.push(r);
      },
    });
    cleanups.push(() => services.close());

    for (const card of Object.values(cards)) {
      await card.connector.connect();
      cleanups.push(() => card.connector.close());
    }
    await waitFor(
      () => services.slots.status().every((s) => s.cardPresent),
      10_000,
      () => `the cards did not show up in pcscd: ${JSON.stringify(services.slots.status())}`,
    );
    const floorClient = new PcscClient({ socketPath: harness.socketPath });
    cleanups.push(() => floorClient.close());
    for (const reader of Object.values(READERS)) await floorClient.waitForCard(reader, { timeoutMs: 10_000 });

    return {
      harness,
      services,
      issuer,
      cards,
      dir,
      get appends() {
        return appends;
      },
      get apdus() {
        return cards.payer.apdus + cards.payee.apdus;
      },
      takeAppended() {
        const taken = appended;
        appended = [];
        return taken;
      },
      get trace() {
        return trace;
      },
      set trace(t) {
        trace = t;
      },
      loadImage(slot, image) {
        cards[slot].backend.store(image);
        cards[slot].sim.store.reload();
      },
      openFloorChannel(slot, disposition) {
        return floorClient.connect(READERS[slot], { defaultTimeoutMs: config.waitingTimeMs, disposition });
      },
      close: cleanUp,
    };
  } catch (e) {
    await cleanUp();
    throw e;
  }
}

/**
 * The terminal configuration of a benchmark: the issuer's CA certificate and a CRL published a minute
 * before `now` written into `dir`, the data folder under it, PC/SC readers by name.
 */
export function benchTerminalConfig(
  dir: string,
  issuer: IssuerState,
  now: Date,
  readers: Record<SlotName, string>,
): TerminalConfig {
  const caPath = join(dir, 'ca.der');
  const crlPath = join(dir, 'builtin.crl');
  writeFileSync(caPath, fromHex(issuer.caCertificate));
  writeFileSync(crlPath, publishCrl(issuer, { now: new Date(now.getTime() - 60_000), validityDays: 30 }));
  return terminalConfigSchema.parse({
    dataDir: join(dir, 'data'),
    currency: TEST_CURRENCY,
    caCertificate: caPath,
    builtinCrl: crlPath,
    waitingTimeMs: 5_000,
    slots: { backend: 'pcsc', readers },
  });
}

async function waitFor(check: () => boolean, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(message());
    await sleep(20);
  }
}
