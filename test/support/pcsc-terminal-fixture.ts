// A terminal over a REAL pcscd for end-to-end tests: a private pcscd (test/support/pcscd-harness.ts)
// with one vpcd reader.conf entry, i.e. two readers "Virtual PCD A 00 00" (payer) and "... 00 01"
// (payee); an issuer, two card files (FileBackend, so another process could serve them too), the CA
// certificate, a built-in CRL and a terminal.json with backend 'pcsc' naming both readers. The cards
// are served by this process through VpcdConnector; the terminal services run here too (or, for the
// kill tests, in a child process that reads the same terminal.json).
//
// Fault injection, per APDU (matched by INS, fired once):
//   pull-before / pull-after   the card goes mute before / after executing the command; VpcdConnector
//                              then pulls it from the reader (what a card yanked mid-command looks like)
//   tear-before-write / -after power is cut at the command's persistent write (PersistentStore
//                              tearing); the card goes mute and is pulled as above
//   stall-before / stall-after the APDU (or the card's answer) is held forever at JS level, so the
//                              terminal's waiting time runs out; pull the card afterwards to release
//                              pcscd's reader and the libuv worker stuck in SCardTransmit
// The stalls happen in a small TCP tap between VpcdConnector and vpcd: VirtualCard.transmit() is
// synchronous and VpcdConnector has no hook to answer late, and blocking this process's event loop
// would hang the PC/SC client living in the same process.
//
// Presence: pcscd polls vpcd about every 400 ms, so a pulled card is seen up to ~1 s later. insert()
// and remove() wait (bounded) until this process's PC/SC clients see the change; a card is never put
// back before its removal was seen, or pcscd would miss the power cycle.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { type SettlementState, settlementStateCodec } from '../../card-sim/applets/settlement/state.js';
import { loadCardState } from '../../card-sim/card-files.js';
import {
  createIssuer,
  loadIssuer,
  type PersonalizeOptions,
  personalizeCard,
  publishCrl,
  saveIssuer,
} from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { FileBackend } from '../../card-sim/os/persistence-backend.js';
import type { TearingDecision } from '../../card-sim/os/persistent-store.js';
import { createSettlementCard, type SimulatedCard } from '../../card-sim/settlement-card.js';
import { encodeVpcdFrame, VpcdConnector, VpcdFrameDecoder } from '../../card-sim/transport/vpcd-connector.js';
import type { JournalRecord } from '../../db/journal.js';
import { loadConfig, type TerminalConfigFile } from '../../electron/services/config.js';
import { PcscClient } from '../../electron/services/pcsc/pcsc-client.js';
import { SLOT_NAMES, type SlotName } from '../../electron/services/slots/reader-slots.js';
import { startTerminalServices, type TerminalServices } from '../../electron/services/terminal-services.js';
import { fromHex } from '../../protocol/bytes.js';
import { toPem } from '../../protocol/pki/index.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { type PcscdHarness, startPcscd } from './pcscd-harness.js';

export const E2E_CURRENCY = 978;
const WAIT_MS = 15_000;
const DAY_MS = 86_400_000;

/** YYYYMMDD of a date (UTC). */
export function validityOf(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '');
}

/** Card defaults: valid for three years from today, keys 1 of 1..5 (transfer) and 1..3 (update). */
export function defaultCard(): PersonalizeOptions {
  return {
    validity: validityOf(new Date(Date.now() + 3 * 365 * DAY_MS)),
    balance: 10_000,
    maxBalance: 100_000,
    transferKeyId: 1,
    transferKeyIdLimit: 5,
    updateKeyId: 1,
    updateKeyIdLimit: 3,
  };
}

export type CardFault =
  | 'pull-before'
  | 'pull-after'
  | 'tear-before-write'
  | 'tear-after-write'
  | 'stall-before'
  | 'stall-after';

export interface ArmedFault {
  ins: number;
  fault: CardFault;
  fired: boolean;
  /** Matches the APDU instead of `ins` (e.g. "the k-th APDU"); called once per command APDU. */
  match?: (apdu: Uint8Array) => boolean;
}

/** The card's VirtualCard as the connector sees it: the card OS plus the mute and tearing faults. */
class FaultInjectingCard implements VirtualCard {
  armed: ArmedFault | undefined;

  constructor(readonly sim: SimulatedCard) {}

  get atr(): Uint8Array {
    return this.sim.os.atr;
  }
  powerUp(): void {
    this.sim.os.powerUp();
  }
  powerDown(): void {
    this.sim.os.powerDown();
  }
  reset(): void {
    this.sim.os.reset();
  }

  transmit(apdu: Uint8Array): Uint8Array {
    const a = this.armed;
    const os = this.sim.os;
    if (!a || a.fired || apdu[1] !== a.ins || a.fault.startsWith('stall')) return os.transmit(apdu);
    a.fired = true;
    switch (a.fault) {
      case 'pull-before':
        return new Uint8Array(0); // mute: the connector pulls the card
      case 'pull-after':
        os.transmit(apdu);
        return new Uint8Array(0);
      default: {
        const store = this.sim.store;
        const at = store.commitCount;
        const cut: TearingDecision = a.fault === 'tear-before-write' ? 'cut-before-write' : 'cut-after-write';
        store.tearing = (i) => (i === at ? cut : 'proceed');
        try {
          return os.transmit(apdu); // empty once torn: the connector pulls the card
        } finally {
          store.tearing = undefined;
        }
      }
    }
  }
}

/**
 * A TCP tap between a VpcdConnector and its vpcd slot. Frames pass unchanged, except that an armed
 * stall holds one command APDU (stall-before) or the card's answer to it (stall-after) forever, and
 * from then on nothing passes either way: a card that stopped talking. Either side closing closes
 * the other, so pulling the card still reaches pcscd.
 */
export class VpcdTap {
  armed: ArmedFault | undefined;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private stallListeners = new Set<() => void>();
  port = 0;

  constructor(private readonly upstreamPort: number) {}

  async listen(): Promise<void> {
    const server = net.createServer((down) => this.onCard(down));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** Resolves when an armed stall has swallowed its frame. */
  onStall(listener: () => void): () => void {
    this.stallListeners.add(listener);
    return () => this.stallListeners.delete(listener);
  }

  private stalled(): void {
    for (const l of [...this.stallListeners]) l();
  }

  private onCard(down: net.Socket): void {
    down.pause();
    down.setNoDelay(true);
    const up = net.connect({ host: '127.0.0.1', port: this.upstreamPort });
    up.setNoDelay(true);
    for (const s of [down, up]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        up.destroy();
        down.destroy();
      });
    }
    up.once('connect', () => down.resume());
    const fromVpcd = new VpcdFrameDecoder();
    const fromCard = new VpcdFrameDecoder();
    let frozen = false;
    let holdAnswer = false;
    up.on('data', (chunk: Buffer) => {
      for (const frame of fromVpcd.push(chunk)) {
        if (frozen) continue;
        const a = this.armed;
        if (frame.length > 1 && a && !a.fired && (a.match ? a.match(frame) : frame[1] === a.ins)) {
          a.fired = true;
          if (a.fault === 'stall-before') {
            frozen = true;
            this.stalled();
            continue;
          }
          holdAnswer = true;
        }
        if (!down.destroyed) down.write(encodeVpcdFrame(frame));
      }
    });
    down.on('data', (chunk: Buffer) => {
      for (const frame of fromCard.push(chunk)) {
        if (frozen) continue;
        if (holdAnswer && frame.length >= 2) {
          holdAnswer = false;
          frozen = true;
          this.stalled();
          continue;
        }
        if (!up.destroyed) up.write(encodeVpcdFrame(frame));
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface CardSlot {
  slot: SlotName;
  reader: string;
  file: string;
  sim: SimulatedCard;
  card: FaultInjectingCard;
  connector: VpcdConnector;
  tap: VpcdTap;
}

export interface PcscTerminalOptions {
  payer?: Partial<PersonalizeOptions>;
  payee?: Partial<PersonalizeOptions>;
  /** The communication monitor's waiting time in terminal.json; default 2000 ms. */
  waitingTimeMs?: number;
  expiredPolicy?: 'refuse' | 'warn';
}

export interface ServicesOptions {
  /** Fresh folder for the transaction log (and CRL store); default: keep the current one. */
  freshData?: boolean;
  /** Built-in CRL (DER) to ship with this terminal; default: the one written at start. */
  builtinCrl?: Uint8Array;
  /** Default: the policy given to startPcscTerminal(). */
  expiredPolicy?: 'refuse' | 'warn';
  afterJournalAppend?: (r: JournalRecord) => void;
}

export interface PcscTerminal {
  harness: PcscdHarness;
  dir: string;
  /** terminal.json: backend pcsc, payer and payee mapped to the two reader names. */
  configPath: string;
  issuerPath: string;
  caPath: string;
  readers: Record<SlotName, string>;
  slot: Record<SlotName, CardSlot>;
  /** The terminal services running in this process, if any. */
  readonly services: TerminalServices | undefined;
  /** Starts terminal services from terminal.json (stopping any running ones first). */
  startServices(o?: ServicesOptions): Promise<TerminalServices>;
  stopServices(): Promise<void>;
  /** Rewrites terminal.json (paths relative to it). */
  writeConfig(patch: Partial<TerminalConfigFile>): void;
  config(): TerminalConfigFile;
  /** Personalizes new cards (from the issuer file) and swaps them into the readers. */
  setCards(o: { payer?: Partial<PersonalizeOptions>; payee?: Partial<PersonalizeOptions> }): Promise<void>;
  /** Replaces the images of the cards in place (same cards, memory rewritten) without pulling them. */
  restoreCards(images: Record<SlotName, SettlementState>): void;
  insert(slot: SlotName): Promise<void>;
  /** Pulls the card and waits until the PC/SC clients here see the slot empty. */
  remove(slot: SlotName): Promise<void>;
  /** Waits until this process's PC/SC clients see the card in (or out of) the slot. */
  waitPresence(slot: SlotName, present: boolean): Promise<void>;
  /** Arms one fault on the first APDU with this INS sent to the card in `slot`. */
  arm(slot: SlotName, ins: number, fault: CardFault): { fired(): boolean };
  /** Resolves when an armed stall on `slot` swallowed its frame. */
  stalled(slot: SlotName): Promise<void>;
  clearFaults(): void;
  /** The card's persistent state, from its file. */
  state(slot: SlotName): SettlementState;
  balances(): Record<SlotName, number>;
  total(): number;
  issuer(): IssuerState;
  saveIssuer(issuer: IssuerState): void;
  stop(): Promise<void>;
}

export async function startPcscTerminal(o: PcscTerminalOptions = {}): Promise<PcscTerminal> {
  const harness = await startPcscd({ readers: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'pcsc-terminal-'));
  let monitor: PcscClient | undefined;
  let services: TerminalServices | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const names = await harness.readerNames();
    const readers: Record<SlotName, string> = { payer: names[0]!, payee: names[1]! };
    const issuerPath = join(dir, 'issuer.json');
    const caPath = join(dir, 'ca.pem');
    const configPath = join(dir, 'terminal.json');
    const builtinPath = join(dir, 'builtin.crl');
    let dataCounter = 0;

    const issuer = createIssuer({
      name: 'PCSC E2E Issuer',
      currency: E2E_CURRENCY,
      updateKeys: 3,
      transferKeys: 6,
    });
    writeFileSync(caPath, toPem('CERTIFICATE', fromHex(issuer.caCertificate)));
    writeFileSync(builtinPath, publishCrl(issuer, { now: new Date(Date.now() - 60_000), validityDays: 30 }));
    saveIssuer(issuerPath, issuer);

    const baseCrl = { expiredPolicy: o.expiredPolicy ?? 'refuse', fetchTimeoutMs: 5000 } as const;
    const baseConfig: TerminalConfigFile = {
      dataDir: 'data-0',
      currency: E2E_CURRENCY,
      currencyCode: 'EUR',
      minorUnits: 2,
      locale: 'en-IE',
      caCertificate: 'ca.pem',
      builtinCrl: 'builtin.crl',
      crl: baseCrl,
      waitingTimeMs: o.waitingTimeMs ?? 2_000,
      slots: { backend: 'pcsc', readers },
      shop: { name: 'E2E Shop', terminalId: 'E2E-01', timeZone: 'Europe/Dublin' },
    };
    let currentConfig = baseConfig;
    const writeConfig = (patch: Partial<TerminalConfigFile>) => {
      currentConfig = { ...currentConfig, ...patch };
      writeFileSync(configPath, `${JSON.stringify(currentConfig, null, 2)}\n`);
    };
    writeConfig({});

    monitor = new PcscClient({ socketPath: harness.socketPath });
    await monitor.listReaders();
    const mon = monitor;

    const personalize = (slot: SlotName, p: Partial<PersonalizeOptions> = {}): SettlementState => {
      const state = loadIssuer(issuerPath);
      const image = personalizeCard(state, { ...defaultCard(), label: slot, ...p });
      saveIssuer(issuerPath, state);
      return image;
    };

    const waitPresence = async (slot: SlotName, present: boolean, timeoutMs = WAIT_MS) => {
      const reader = readers[slot];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = mon.status(reader)?.cardPresent === present;
        const slotStatus = services?.slots.status().find((s) => s.slot === slot);
        const seenBySlots = !services || slotStatus?.cardPresent === present;
        if (seen && seenBySlots) return;
        if (Date.now() > deadline) {
          throw new Error(
            `the ${slot} card never became ${present ? 'present' : 'absent'}: monitor ${JSON.stringify(
              mon.status(reader),
            )}, slots ${JSON.stringify(slotStatus)}`,
          );
        }
        await sleep(25);
      }
    };

    const taps: Record<SlotName, VpcdTap> = {
      payer: new VpcdTap(harness.ports[0]!),
      payee: new VpcdTap(harness.ports[1]!),
    };
    for (const t of Object.values(taps)) {
      await t.listen();
      cleanups.push(() => t.close());
    }

    const makeSlot = (slot: SlotName, image: SettlementState): CardSlot => {
      const file = join(dir, `${slot}-card.json`);
      new FileBackend(file).store(settlementStateCodec.encode(image));
      const sim = createSettlementCard({ backend: new FileBackend(file) });
      const card = new FaultInjectingCard(sim);
      const tap = taps[slot];
      const connector = new VpcdConnector({ port: tap.port, card });
      return { slot, reader: readers[slot], file, sim, card, connector, tap };
    };

    const slot: Record<SlotName, CardSlot> = {
      payer: makeSlot('payer', personalize('payer', o.payer)),
      payee: makeSlot('payee', personalize('payee', o.payee)),
    };
    cleanups.push(async () => {
      for (const s of Object.values(slot)) await s.connector.close();
    });

    const insert = async (name: SlotName) => {
      const s = slot[name];
      if (s.connector.state === 'inserted') return waitPresence(name, true);
      // pcscd must have seen the card go (e.g. pulled by a fault) before it comes back.
      await waitPresence(name, false);
      // Now and then vpcd leaves a card reconnecting after a pull unseen (its new connection waits
      // behind the old one): a card not reported within a few polls is taken out and put in again.
      for (let attempt = 1; ; attempt++) {
        await s.connector.insert();
        try {
          await waitPresence(name, true, attempt < 3 ? 4_000 : WAIT_MS);
          return;
        } catch (e) {
          if (attempt >= 3) throw e;
        }
        await s.connector.remove();
        await waitPresence(name, false);
      }
    };
    const remove = async (name: SlotName) => {
      await slot[name].connector.remove();
      await waitPresence(name, false);
    };

    await Promise.all(SLOT_NAMES.map((n) => slot[n].connector.insert()));
    for (const n of SLOT_NAMES) await waitPresence(n, true);

    const stopServices = async () => {
      const s = services;
      services = undefined;
      await s?.close();
    };

    const terminal: PcscTerminal = {
      harness,
      dir,
      configPath,
      issuerPath,
      caPath,
      readers,
      slot,
      get services() {
        return services;
      },
      async startServices(so = {}) {
        await stopServices();
        const patch: Partial<TerminalConfigFile> = {
          builtinCrl: baseConfig.builtinCrl,
          crl: { ...currentConfig.crl, expiredPolicy: so.expiredPolicy ?? baseCrl.expiredPolicy },
        };
        if (so.freshData) patch.dataDir = `data-${++dataCounter}`;
        if (so.builtinCrl) {
          const file = `builtin-${++dataCounter}.crl`;
          writeFileSync(join(dir, file), so.builtinCrl);
          patch.builtinCrl = file;
        }
        writeConfig(patch);
        services = await startTerminalServices(loadConfig(configPath), {
          afterJournalAppend: so.afterJournalAppend,
        });
        // The new client learns each reader's card state from its own status thread.
        for (const n of SLOT_NAMES) await waitPresence(n, slot[n].connector.state === 'inserted');
        return services;
      },
      stopServices,
      writeConfig,
      config: () => structuredClone(currentConfig),
      async setCards(c) {
        for (const name of SLOT_NAMES) {
          const p = c[name];
          if (!p) continue;
          const old = slot[name];
          await old.connector.close();
          await waitPresence(name, false);
          slot[name] = makeSlot(name, personalize(name, p));
          await slot[name].connector.insert();
        }
        for (const name of SLOT_NAMES) await waitPresence(name, true);
      },
      restoreCards(images) {
        for (const name of SLOT_NAMES) {
          const s = slot[name];
          new FileBackend(s.file).store(settlementStateCodec.encode(images[name]));
          s.sim.store.reload();
        }
      },
      insert,
      remove,
      waitPresence,
      arm(name, ins, fault) {
        const armed: ArmedFault = { ins, fault, fired: false };
        if (fault.startsWith('stall')) slot[name].tap.armed = armed;
        else slot[name].card.armed = armed;
        return { fired: () => armed.fired };
      },
      stalled(name) {
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            off();
            reject(new Error(`no stall on the ${name} card`));
          }, WAIT_MS);
          const off = slot[name].tap.onStall(() => {
            clearTimeout(timer);
            off();
            resolve();
          });
        });
      },
      clearFaults() {
        for (const s of Object.values(slot)) {
          s.card.armed = undefined;
          s.tap.armed = undefined;
        }
      },
      state: (name) => loadCardState(slot[name].file),
      balances: () => ({
        payer: loadCardState(slot.payer.file).balance,
        payee: loadCardState(slot.payee.file).balance,
      }),
      total() {
        const b = terminal.balances();
        return b.payer + b.payee;
      },
      issuer: () => loadIssuer(issuerPath),
      saveIssuer: (state) => saveIssuer(issuerPath, state),
      async stop() {
        await stopServices().catch(() => undefined);
        for (const c of cleanups.reverse()) await c().catch(() => undefined);
        await mon.close();
        await harness.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return terminal;
  } catch (e) {
    await services?.close().catch(() => undefined);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await monitor?.close().catch(() => undefined);
    await harness.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

const ROOT = join(import.meta.dirname, '../..');
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
export const CLI_ENTRY = {
  card: join(ROOT, 'card-sim/cli/main.ts'),
  terminal: join(ROOT, 'electron/cli/main.ts'),
} as const;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the card or terminal CLI in a child process (node --import tsx); stopped with SIGTERM after
 * timeoutMs (default 20 s). Asynchronous on purpose: this process serves the cards, so its event
 * loop must keep running while the child talks to them.
 */
export function runCli(
  which: keyof typeof CLI_ENTRY,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_ENTRY[which], ...args], {
      cwd: ROOT,
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    // SIGTERM, so that a hang is told apart from the SIGKILL of STLM_FAULT_KILL_AFTER_APPEND.
    const timer = setTimeout(() => child.kill('SIGTERM'), o.timeoutMs ?? 20_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Unsettled card records: open or debited debits, pending credits. */
export function unsettledRecords(s: SettlementState): number {
  return (
    s.debitLog.filter((r) => r.status === 'open' || r.status === 'debited').length +
    s.creditLog.filter((r) => r.status === 'pending').length
  );
}
