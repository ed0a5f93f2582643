// Reader slots over PC/SC: readers that pcscd reports are bound to the payer and payee slots by the
// slot mapping, and a session with a slot's card is a PcscChannel whose transmits default to the
// communication monitor's waiting time.
//
// Binding: a reader is bound when it appears and its slot has no reader yet; another reader matching
// the same slot waits as a candidate and is bound, in order of appearance, when the bound one goes.
//
// pcscd going away: the PcscClient reports 'service-lost' once and is useless from then on. The
// slots then emit service-lost, card-removed and reader-detached for what they showed, close that
// client and keep constructing new ones (backoff from reconnect.initialDelayMs, doubling up to
// maxDelayMs) until one lists its readers; they then emit service-restored followed by
// reader-attached and card-inserted for what the new daemon shows, and live events from there on.
// Readers the dying daemon reports removed before its PnP monitor fails may show up as
// reader-detached just before service-lost. Channels opened before the loss stay broken; connect()
// again once the card is back. libpcsclite reads the socket path once per process, so the new
// client talks to the same socket: a pcscd restarted there is found again.
//
// Closing a client safely (pcsclite 1.0.1): a reader's end ('_end') is emitted with MakeCallback
// while the native code holds that reader's mutex, and MakeCallback runs the pending microtasks; every
// other native callback uses Nan::Call, which runs none. So promise continuations queued by a
// service-lost callback run inside the next reader's '_end', and if one of them calls
// CardReader.close() on that reader (PcscClient.close() does, for readers it has not dropped yet) the
// main thread locks a mutex it already holds and the process hangs. Hence a lost client is closed
// only from a timer and only once all its readers have ended (or after RETIRE_WAIT_MS), and close()
// closes the current client from a macrotask, never from inside a native callback.
import { toHex } from '../../../protocol/bytes.js';
import type { CardChannel } from '../../../protocol/card-channel.js';
import { isTerminalError, TerminalError } from '../../../protocol/errors.js';
import { PcscClient, type PcscConnectOptions, type PcscEvent } from '../pcsc/pcsc-client.js';
import {
  type ReaderSlots,
  SLOT_NAMES,
  type SlotEvent,
  type SlotName,
  type SlotStatus,
} from './reader-slots.js';
import { type CompiledSlotMapping, compileSlotMapping, type SlotMapping } from './slot-mapping.js';

export interface ReconnectOptions {
  /** Delay before the first attempt to reach pcscd again; default 250 ms. */
  initialDelayMs: number;
  /** Upper bound of the doubling delay between attempts; default 5 s. */
  maxDelayMs: number;
}

export interface PcscSlotsOptions {
  mapping: SlotMapping;
  /** The communication monitor's waiting time: the default timeout of every transmit. */
  waitingTimeMs: number;
  /**
   * A client to start with. The slots own it from then on: they close it on close() or once its
   * pcscd is gone (and then construct their own).
   */
  client?: PcscClient;
  /** pcscd socket (PCSCLITE_CSOCK_NAME) for the clients the slots construct. */
  socketPath?: string;
  reconnect?: ReconnectOptions;
  /** How long to wait for a new client's first reader list; default 5 s. */
  listTimeoutMs?: number;
  /** Passed to PcscClient.connect(); its defaultTimeoutMs is always waitingTimeMs. */
  connectOptions?: Omit<PcscConnectOptions, 'defaultTimeoutMs'>;
}

export interface PcscSlots extends ReaderSlots {
  /** False while pcscd is unreachable: between service-lost and service-restored, or when it was down at start. */
  readonly serviceAvailable: boolean;
}

const DEFAULT_RECONNECT: ReconnectOptions = { initialDelayMs: 250, maxDelayMs: 5_000 };
/** How long a lost client's readers get to end before it is closed anyway. */
const RETIRE_WAIT_MS = 2_000;

/**
 * Creates the slots and waits for pcscd's first reader list. When pcscd is not reachable the slots
 * still resolve, with serviceAvailable false, and keep trying (service-restored once it answers).
 * Rejects with E_INPUT_INVALID for an invalid mapping or options.
 */
export async function createPcscSlots(options: PcscSlotsOptions): Promise<PcscSlots> {
  const slots = new PcscReaderSlots(options);
  await slots.start(options.client);
  return slots;
}

interface KnownReader {
  slot: SlotName | undefined;
  cardPresent: boolean;
  atr: string | undefined;
}

class PcscReaderSlots implements PcscSlots {
  private readonly mapping: CompiledSlotMapping;
  private readonly waitingTimeMs: number;
  private readonly socketPath: string | undefined;
  private readonly reconnect: ReconnectOptions;
  private readonly listTimeoutMs: number;
  private readonly connectOptions: Omit<PcscConnectOptions, 'defaultTimeoutMs'>;
  private readonly listeners = new Set<(event: SlotEvent) => void>();

  private client: PcscClient | undefined;
  private unsubscribe: (() => void) | undefined;
  /** The current client's changes are reported as events (else only recorded, until goLive()). */
  private live = false;
  /** What listeners were last told: service-restored (or start) vs service-lost. */
  private serviceUp = false;
  /** The current client's readers, in order of appearance. */
  private readers = new Map<string, KnownReader>();
  private readonly bound: Record<SlotName, string | undefined> = { payer: undefined, payee: undefined };
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private lostDetail = 'pcscd has not been reached yet';
  private closed = false;
  /** Lost clients not closed yet: each function closes its client now (idempotent). */
  private readonly retiring = new Set<() => Promise<void>>();

  constructor(options: PcscSlotsOptions) {
    this.mapping = compileSlotMapping(options.mapping);
    if (!Number.isFinite(options.waitingTimeMs) || options.waitingTimeMs <= 0) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `waitingTimeMs must be a positive number, not ${options.waitingTimeMs}`,
      );
    }
    this.waitingTimeMs = options.waitingTimeMs;
    this.socketPath = options.socketPath;
    this.reconnect = options.reconnect ?? DEFAULT_RECONNECT;
    const { initialDelayMs, maxDelayMs } = this.reconnect;
    if (!(initialDelayMs > 0) || !(maxDelayMs >= initialDelayMs) || !Number.isFinite(maxDelayMs)) {
      throw new TerminalError('E_INPUT_INVALID', 'reconnect needs 0 < initialDelayMs <= maxDelayMs', {
        initialDelayMs,
        maxDelayMs,
      });
    }
    this.retryDelayMs = initialDelayMs;
    this.listTimeoutMs = options.listTimeoutMs ?? 5_000;
    this.connectOptions = options.connectOptions ?? {};
  }

  get serviceAvailable(): boolean {
    return this.serviceUp && this.live;
  }

  /** First contact: adopts the given client or constructs one, and waits for its reader list. */
  async start(client: PcscClient | undefined): Promise<void> {
    let first = client;
    if (!first) {
      try {
        first = new PcscClient(this.clientOptions());
      } catch (e) {
        if (!isTerminalError(e, 'E_READER_UNAVAILABLE')) throw e;
        this.lostDetail = e.message;
        this.scheduleReconnect();
        return;
      }
    }
    await this.establish(first);
  }

  status(): SlotStatus[] {
    return SLOT_NAMES.map((slot) => {
      const reader = this.bound[slot];
      const known = reader === undefined ? undefined : this.readers.get(reader);
      const cardPresent = known?.cardPresent === true;
      return {
        slot,
        reader,
        readerPresent: reader !== undefined,
        cardPresent,
        atr: cardPresent ? known?.atr : undefined,
      };
    });
  }

  on(listener: (event: SlotEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async connect(slot: SlotName): Promise<CardChannel> {
    if (!SLOT_NAMES.includes(slot)) {
      throw new TerminalError('E_INPUT_INVALID', `no such slot: ${String(slot)}`, { slot });
    }
    if (this.closed) throw new TerminalError('E_TRANSPORT', 'the reader slots are closed', { slot });
    const client = this.client;
    if (!client || !this.live) {
      throw new TerminalError('E_READER_UNAVAILABLE', `pcscd is not available: ${this.lostDetail}`, { slot });
    }
    const reader = this.bound[slot];
    if (reader === undefined) {
      throw new TerminalError('E_READER_UNAVAILABLE', `no reader is attached to the ${slot} slot`, {
        slot,
        selector: this.mapping.mapping[slot],
      });
    }
    try {
      return await client.connect(reader, { ...this.connectOptions, defaultTimeoutMs: this.waitingTimeMs });
    } catch (e) {
      if (e instanceof TerminalError) throw new TerminalError(e.code, e.message, { ...e.details, slot });
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.listeners.clear();
    const client = this.client;
    this.dropClient();
    await macrotask(); // not from inside a native callback (see the top of this file)
    await Promise.all([client?.close(), ...[...this.retiring].map((finish) => finish())]);
  }

  // --- client lifecycle ---

  private clientOptions() {
    return this.socketPath === undefined ? {} : { socketPath: this.socketPath };
  }

  /** Makes `client` the current one and waits for its reader list; then goes live or retries. */
  private async establish(client: PcscClient): Promise<void> {
    if (this.closed) {
      await macrotask();
      await client.close();
      return;
    }
    this.adopt(client);
    try {
      await client.listReaders({ timeoutMs: this.listTimeoutMs });
    } catch (e) {
      if (this.client === client) this.onServiceLost(client, e instanceof Error ? e.message : String(e));
      return; // else: lost (and handled) or closed meanwhile
    }
    if (this.client !== client || this.closed) return;
    this.goLive();
  }

  /** Subscribes to `client` and records the readers it already knows, silently. */
  private adopt(client: PcscClient): void {
    this.client = client;
    this.live = false;
    this.readers = new Map();
    this.bound.payer = undefined;
    this.bound.payee = undefined;
    this.unsubscribe = client.on((event) => {
      if (this.client === client) this.onClientEvent(client, event);
    });
    for (const name of client.readerNames()) this.readerAdded(name);
  }

  /** Reports the current client's view to listeners and forwards its events from now on. */
  private goLive(): void {
    this.live = true;
    this.retryDelayMs = this.reconnect.initialDelayMs;
    if (!this.serviceUp) {
      this.serviceUp = true;
      this.emit({ type: 'service-restored' });
      for (const slot of SLOT_NAMES) {
        const reader = this.bound[slot];
        if (reader !== undefined) this.announceAttached(slot, reader);
      }
    }
  }

  private dropClient(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.client = undefined;
    this.live = false;
  }

  private onServiceLost(client: PcscClient, detail: string): void {
    if (this.client !== client) return;
    const wasLive = this.live;
    this.lostDetail = detail;
    if (wasLive && this.serviceUp) {
      this.serviceUp = false;
      this.emit({ type: 'service-lost', detail });
      for (const slot of SLOT_NAMES) {
        const reader = this.bound[slot];
        if (reader === undefined) continue;
        if (this.readers.get(reader)?.cardPresent) this.emit({ type: 'card-removed', slot, reader });
        this.emit({ type: 'reader-detached', slot, reader });
      }
    }
    this.dropClient();
    this.readers = new Map();
    this.bound.payer = undefined;
    this.bound.payee = undefined;
    this.retire(client);
    this.scheduleReconnect();
  }

  /**
   * Closes a client that is no longer used, once its readers have ended (pcscd gone: each reader's
   * status thread fails and ends) or after RETIRE_WAIT_MS, and always from a timer.
   */
  private retire(client: PcscClient): void {
    let closing: Promise<void> | undefined;
    const finish = (): Promise<void> => {
      closing ??= (async () => {
        off();
        clearTimeout(fallback);
        await macrotask();
        await client.close().catch(() => undefined);
        this.retiring.delete(finish);
      })();
      return closing;
    };
    const off = client.on((event) => {
      if (event.type === 'reader-removed' && client.readerNames().length === 0) void finish();
    });
    const fallback = setTimeout(() => void finish(), RETIRE_WAIT_MS).unref();
    this.retiring.add(finish);
    if (client.readerNames().length === 0) void finish();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.reconnect.maxDelayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.tryReconnect();
    }, delay);
  }

  private tryReconnect(): void {
    if (this.closed || this.client) return;
    let client: PcscClient;
    try {
      client = new PcscClient(this.clientOptions());
    } catch (e) {
      this.lostDetail = e instanceof Error ? e.message : String(e);
      this.scheduleReconnect();
      return;
    }
    void this.establish(client);
  }

  // --- reader and card events of the current client ---

  private onClientEvent(client: PcscClient, event: PcscEvent): void {
    switch (event.type) {
      case 'reader-added':
        this.readerAdded(event.reader);
        break;
      case 'reader-removed':
        this.readerRemoved(event.reader);
        break;
      case 'card-inserted':
        this.cardChanged(event.reader, true, toHex(event.atr));
        break;
      case 'card-removed':
        this.cardChanged(event.reader, false, undefined);
        break;
      case 'service-lost':
        this.onServiceLost(client, event.error.message);
        break;
    }
  }

  private readerAdded(name: string): void {
    if (this.readers.has(name)) return;
    const status = this.client?.status(name);
    const cardPresent = status?.cardPresent === true && status.atr !== undefined;
    this.readers.set(name, {
      slot: this.mapping.match(name),
      cardPresent,
      atr: cardPresent && status?.atr ? toHex(status.atr) : undefined,
    });
    this.bindFree();
  }

  private readerRemoved(name: string): void {
    const known = this.readers.get(name);
    if (!known) return;
    this.readers.delete(name);
    const slot = known.slot;
    if (slot === undefined || this.bound[slot] !== name) return;
    this.bound[slot] = undefined;
    if (this.live) {
      if (known.cardPresent) this.emit({ type: 'card-removed', slot, reader: name });
      this.emit({ type: 'reader-detached', slot, reader: name });
    }
    this.bindFree();
  }

  private cardChanged(name: string, present: boolean, atr: string | undefined): void {
    const known = this.readers.get(name);
    if (!known || known.cardPresent === present) return;
    known.cardPresent = present;
    known.atr = atr;
    const slot = known.slot;
    if (slot === undefined || this.bound[slot] !== name || !this.live) return;
    if (present) this.emit({ type: 'card-inserted', slot, reader: name, atr: atr ?? '' });
    else this.emit({ type: 'card-removed', slot, reader: name });
  }

  /** Binds the first candidate reader to each slot that has none. */
  private bindFree(): void {
    for (const slot of SLOT_NAMES) {
      if (this.bound[slot] !== undefined) continue;
      for (const [name, known] of this.readers) {
        if (known.slot !== slot) continue;
        this.bound[slot] = name;
        if (this.live) this.announceAttached(slot, name);
        break;
      }
    }
  }

  private announceAttached(slot: SlotName, reader: string): void {
    this.emit({ type: 'reader-attached', slot, reader });
    const known = this.readers.get(reader);
    if (known?.cardPresent) this.emit({ type: 'card-inserted', slot, reader, atr: known.atr ?? '' });
  }

  private emit(event: SlotEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // a listener's failure is its own business
      }
    }
  }
}

/** Resolves from a timer callback: outside any native callback and its microtask checkpoint. */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
