// Terminal-side PC/SC access over the npm `pcsclite` module (libpcsclite talking to pcscd): the
// readers and their cards (this file), one card session (pcsc-channel.ts), and the native module's
// typed subset with the mapping of its failures (pcsc-native.ts).
//
// pcsclite's own API is callbacks and EventEmitters with untyped errors; this wraps it in promises,
// tracks reader and card presence, and turns every failure into a TerminalError:
//   E_READER_UNAVAILABLE  pcscd not running, reader unknown or unplugged
//   E_CARD_ABSENT         no card in the reader, or it was pulled
//   E_TRANSPORT_TIMEOUT   the card did not answer within the waiting time
//   E_TRANSPORT           anything else (sharing violation, comm error, closed channel, ...)
//
// Things to know about the native module (pcsclite 1.0.1) that shape this file:
// - Each CardReader has one SCARDHANDLE and one mutex; transmit/connect/disconnect run on the libuv
//   thread pool holding that mutex. SCardTransmit has no timeout, so a stalled card pins a pool
//   thread (4 by default, shared with fs and dns) until the card answers or is pulled. The timeout
//   here only abandons the wait; the channel is then broken and its disconnect runs after the
//   stalled call returns.
// - libpcsclite reads PCSCLITE_CSOCK_NAME (the pcscd socket path) once per process, at the first
//   SCardEstablishContext. `socketPath` sets it in process.env before that; a second client in the
//   same process cannot use a different daemon.
// - close() must call CardReader.close() and PCSCLite.close() or the status threads keep the process
//   alive; PCSCLite emits a spurious "Command cancelled" error after close(), so an error listener
//   stays attached for good.
import { TerminalError } from '../../../protocol/errors.js';
import { PcscChannel, type Protocol } from './pcsc-channel.js';
import {
  createNativeContext,
  disconnectNative,
  isTimeout,
  type NativeCardReader,
  type NativePcscLite,
  pcscError,
  withTimeout,
} from './pcsc-native.js';

export { PcscChannel, type Protocol } from './pcsc-channel.js';

const DEFAULT_TRANSMIT_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const ATR_WAIT_MS = 2_000;
/** How long listReaders() and close() wait for each reader's status thread to report once. */
const FIRST_STATUS_WAIT_MS = 2_000;

// --- public API ---

export type PcscEvent =
  | { type: 'reader-added'; reader: string }
  | { type: 'reader-removed'; reader: string }
  | { type: 'card-inserted'; reader: string; atr: Uint8Array }
  | { type: 'card-removed'; reader: string }
  /** The PnP monitor failed (pcscd stopped): this client will not see further changes. */
  | { type: 'service-lost'; error: TerminalError };

export interface ReaderStatus {
  name: string;
  /** undefined until pcscd has reported the reader's first state. */
  cardPresent: boolean | undefined;
  /** Card present but not answering (SCARD_STATE_MUTE). */
  mute: boolean;
  atr: Uint8Array | undefined;
}

export interface PcscConnectOptions {
  /** Which protocols to accept; default both, pcscd picks from the ATR. */
  protocols?: Protocol[];
  /** Timeout for transmit() calls that pass none; default 10 s. */
  defaultTimeoutMs?: number;
  /** SCardConnect timeout; default 10 s. */
  connectTimeoutMs?: number;
  /** What SCardDisconnect does to the card on close(); default 'reset' (ends any card session). */
  disposition?: 'leave' | 'reset' | 'unpower';
  /**
   * Whether the reader carries extended-length APDUs (docs/protocol.md §3). Default: with T=1 (contact
   * T=1, and every contactless card, which PC/SC presents as T=1), not with T=0; false for a reader
   * limited to short APDUs.
   */
  extendedLength?: boolean;
}

export interface PcscClientOptions {
  /** pcscd socket path; sets PCSCLITE_CSOCK_NAME for this process. Default: libpcsclite's default. */
  socketPath?: string;
}

interface ReaderEntry {
  native: NativeCardReader;
  status: ReaderStatus;
  channel: PcscChannel | undefined;
  /** connect() is under way. */
  opening: boolean;
  /** Set while a disconnect is still queued behind a stalled transmit. */
  pendingDisconnect: Promise<void> | undefined;
  /** pcsclite announced the reader's end: its native object must not be closed again. */
  ended?: boolean;
}

type Waiter = { check: () => boolean; wake: () => void };

/** The socket path libpcsclite was first used with in this process (it never rereads the env var). */
let socketInUse: string | undefined;

export class PcscClient {
  private readonly native: NativePcscLite;
  private readonly readers = new Map<string, ReaderEntry>();
  private readonly listeners = new Set<(e: PcscEvent) => void>();
  private readonly waiters = new Set<Waiter>();
  private enumerated = false;
  private serviceError: TerminalError | undefined;
  private closed = false;

  /** Opens a PC/SC context; throws E_READER_UNAVAILABLE when pcscd is not running. */
  constructor(options: PcscClientOptions = {}) {
    const wanted = options.socketPath ?? process.env.PCSCLITE_CSOCK_NAME ?? '';
    if (socketInUse !== undefined && socketInUse !== wanted) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        'libpcsclite is already bound to another pcscd socket in this process',
        { inUse: socketInUse || '(default)', requested: wanted || '(default)' },
      );
    }
    if (options.socketPath !== undefined) process.env.PCSCLITE_CSOCK_NAME = options.socketPath;
    socketInUse = wanted; // from here on libpcsclite has cached it, even if the daemon is not there
    try {
      this.native = createNativeContext();
    } catch (e) {
      throw pcscError(e, { socketPath: wanted || '(default)' });
    }
    // Keep for good: PCSCLite emits "Command cancelled" after close(), and an unhandled 'error' throws.
    this.native.on('error', (err) => this.onServiceError(err));
    this.native.on('reader', (reader) => this.onReader(reader));
    // The wrapper reports the reader list only as 'reader' events for new names; hook the native
    // start() callback (called on the next tick) to also learn when each enumeration is complete.
    const start = this.native.start;
    if (typeof start === 'function') {
      this.native.start = (cb) =>
        start.call(this.native, (err, names) => {
          cb(err, names);
          if (!err) this.enumerated = true;
          this.poke();
        });
    } else {
      setTimeout(() => {
        this.enumerated = true;
        this.poke();
      }, 500);
    }
  }

  /** Subscribes to reader and card events; returns the unsubscribe function. */
  on(listener: (e: PcscEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reader names as known right now (may be empty before the first enumeration). */
  readerNames(): string[] {
    return [...this.readers.keys()];
  }

  status(readerName: string): ReaderStatus | undefined {
    const status = this.readers.get(readerName)?.status;
    return status && { ...status, atr: status.atr?.slice() };
  }

  /**
   * The reader list once pcscd has answered (E_READER_UNAVAILABLE if it does not within timeoutMs),
   * and once each listed reader's card state is known (or FIRST_STATUS_WAIT_MS passed): every reader
   * reports it from its own status thread a moment after being listed, and until then status() says
   * cardPresent undefined, which callers that act at once (a CLI command) take for an empty reader.
   */
  async listReaders(opts: { timeoutMs?: number } = {}): Promise<string[]> {
    await this.waitUntil(
      () => this.enumerated,
      opts.timeoutMs ?? 5_000,
      () =>
        this.serviceError ??
        new TerminalError('E_READER_UNAVAILABLE', 'pcscd did not list its readers in time'),
    );
    await this.waitUntil(
      () => this.everyReaderReported(),
      FIRST_STATUS_WAIT_MS,
      () => new TerminalError('E_TRANSPORT_TIMEOUT', 'a reader did not report its state'),
    ).catch(() => undefined); // best effort: such a reader simply shows no card yet
    return this.readerNames();
  }

  async waitForReader(readerName: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.waitUntil(
      () => this.readers.has(readerName),
      opts.timeoutMs ?? 5_000,
      () =>
        new TerminalError('E_READER_UNAVAILABLE', `reader not found: ${readerName}`, { reader: readerName }),
    );
  }

  /** Resolves with the ATR once a card is present in the reader. */
  async waitForCard(readerName: string, opts: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const present = () => {
      const s = this.readers.get(readerName)?.status;
      return s?.cardPresent === true && s.atr !== undefined;
    };
    await this.waitUntil(present, opts.timeoutMs ?? 10_000, () =>
      this.readers.has(readerName)
        ? new TerminalError('E_CARD_ABSENT', `no card in ${readerName}`, { reader: readerName })
        : new TerminalError('E_READER_UNAVAILABLE', `reader not found: ${readerName}`, {
            reader: readerName,
          }),
    );
    return this.readers.get(readerName)!.status.atr!.slice();
  }

  /** Resolves once the reader reports no card (or the reader is gone). */
  async waitForCardAbsent(readerName: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    const absent = () => {
      const entry = this.readers.get(readerName);
      return entry === undefined || entry.status.cardPresent === false;
    };
    await this.waitUntil(
      absent,
      opts.timeoutMs ?? 10_000,
      () =>
        new TerminalError('E_TRANSPORT_TIMEOUT', `card still present in ${readerName}`, {
          reader: readerName,
          waitingFor: 'card-removed',
        }),
    );
  }

  /** Connects to the card in `readerName` in shared mode. */
  async connect(readerName: string, opts: PcscConnectOptions = {}): Promise<PcscChannel> {
    this.assertOpen();
    await this.listReaders();
    const entry = this.readers.get(readerName);
    if (!entry) {
      throw new TerminalError('E_READER_UNAVAILABLE', `reader not found: ${readerName}`, {
        reader: readerName,
      });
    }
    if (entry.channel || entry.opening) {
      throw new TerminalError('E_TRANSPORT', `a channel to ${readerName} is already open`, {
        reader: readerName,
      });
    }
    entry.opening = true;
    try {
      return await this.openChannel(readerName, entry, opts);
    } finally {
      entry.opening = false;
    }
  }

  private async openChannel(
    readerName: string,
    entry: ReaderEntry,
    opts: PcscConnectOptions,
  ): Promise<PcscChannel> {
    const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (entry.pendingDisconnect) {
      await withTimeout(
        entry.pendingDisconnect,
        connectTimeoutMs,
        () =>
          new TerminalError('E_TRANSPORT_TIMEOUT', `${readerName} is still busy with an abandoned exchange`, {
            reader: readerName,
          }),
      );
    }
    const native = entry.native;
    if (native.connected) {
      // A handle left over from a session whose disconnect failed (card or reader was gone).
      await disconnectNative(native, native.SCARD_LEAVE_CARD).catch(() => {
        native.connected = false;
      });
    }
    if (cardAbsent(entry)) {
      throw new TerminalError('E_CARD_ABSENT', `no card in ${readerName}`, { reader: readerName });
    }
    const protocols = opts.protocols ?? ['T=0', 'T=1'];
    let mask = 0;
    if (protocols.includes('T=0')) mask |= native.SCARD_PROTOCOL_T0;
    if (protocols.includes('T=1')) mask |= native.SCARD_PROTOCOL_T1;
    if (mask === 0) throw new TerminalError('E_INPUT_INVALID', 'no protocol requested');

    const connecting = new Promise<number>((resolve, reject) => {
      native.connect({ share_mode: native.SCARD_SHARE_SHARED, protocol: mask }, (err, protocol) => {
        if (err) reject(pcscError(err, { reader: readerName }));
        else resolve(protocol);
      });
    });
    let protocol: number;
    try {
      protocol = await withTimeout(
        connecting,
        connectTimeoutMs,
        () =>
          new TerminalError('E_TRANSPORT_TIMEOUT', `SCardConnect to ${readerName} did not complete`, {
            reader: readerName,
            timeoutMs: connectTimeoutMs,
          }),
      );
    } catch (e) {
      if (isTimeout(e)) {
        // The connect may still succeed later; make sure that handle gets released.
        entry.pendingDisconnect = connecting
          .then(() => disconnectNative(native, native.SCARD_LEAVE_CARD))
          .catch(() => undefined)
          .finally(() => {
            entry.pendingDisconnect = undefined;
          });
      }
      throw e;
    }
    if (typeof protocol !== 'number') {
      throw new TerminalError('E_TRANSPORT', `SCardConnect to ${readerName} returned no protocol`, {
        reader: readerName,
      });
    }
    // The status thread reports the ATR; after a successful connect it is at most a moment away.
    let atr = entry.status.atr;
    if (!entry.status.cardPresent || !atr) {
      atr = await this.waitForCard(readerName, { timeoutMs: ATR_WAIT_MS }).catch(() => new Uint8Array(0));
    }
    const disposition = {
      leave: native.SCARD_LEAVE_CARD,
      reset: native.SCARD_RESET_CARD,
      unpower: native.SCARD_UNPOWER_CARD,
    }[opts.disposition ?? 'reset'];
    const channel = new PcscChannel({
      readerName,
      native,
      protocol,
      protocolName: protocol === native.SCARD_PROTOCOL_T1 ? 'T=1' : 'T=0',
      extendedLength: protocol === native.SCARD_PROTOCOL_T1 && opts.extendedLength !== false,
      atr: atr.slice(),
      defaultTimeoutMs: opts.defaultTimeoutMs ?? DEFAULT_TRANSMIT_TIMEOUT_MS,
      disposition,
      onClose: (pending) => {
        if (entry.channel === channel) entry.channel = undefined;
        const tracked: Promise<void> = pending.finally(() => {
          if (entry.pendingDisconnect === tracked) entry.pendingDisconnect = undefined;
        });
        entry.pendingDisconnect = tracked;
      },
    });
    entry.channel = channel;
    if (cardAbsent(entry)) {
      // pulled while we were connecting (its card-removed event has already gone by)
      channel.markBroken(
        new TerminalError('E_CARD_ABSENT', `card removed from ${readerName}`, { reader: readerName }),
      );
    }
    return channel;
  }

  /** Closes every channel and the PC/SC context so the process can exit. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.readers.values()].map((e) => e.channel?.close()));
    // pcsclite 1.0.1: a CardReader closed before its status thread is inside SCardGetStatusChange
    // (e.g. still establishing its context, right after the reader was listed) ends that thread
    // without its final notification, so the reader's uv_async handle stays open and referenced
    // and the process never exits. The first status event shows the thread got that far.
    await this.firstStatusOfEveryReader();
    // Leave any 'end' notification being delivered right now before touching the native readers.
    await new Promise((resolve) => setImmediate(resolve));
    for (const entry of this.readers.values()) {
      if (entry.ended) continue;
      // CardReader.close() takes the reader mutex, which a stuck SCardTransmit holds: closing now
      // would block this thread until the card answers. Close once the stuck call has returned.
      if (entry.pendingDisconnect) void entry.pendingDisconnect.finally(() => entry.native.close());
      else entry.native.close();
    }
    this.native.close();
    this.readers.clear();
    for (const w of this.waiters) w.wake();
    this.waiters.clear();
  }

  // --- internals ---

  /**
   * Resolves, from a timer (never inside a native callback), once every reader has reported its
   * first status, or after FIRST_STATUS_WAIT_MS.
   */
  private firstStatusOfEveryReader(): Promise<void> {
    return new Promise((resolve) => {
      if (this.everyReaderReported()) return void setTimeout(resolve, 0);
      const waiter: Waiter = {
        check: () => this.everyReaderReported(),
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          setTimeout(resolve, 0);
        },
      };
      const timer = setTimeout(waiter.wake, FIRST_STATUS_WAIT_MS);
      this.waiters.add(waiter);
    });
  }

  /** Every known reader's status thread has reported the reader's state at least once. */
  private everyReaderReported(): boolean {
    return [...this.readers.values()].every((e) => e.status.cardPresent !== undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new TerminalError('E_TRANSPORT', 'the PC/SC client is closed');
    if (this.serviceError) throw this.serviceError;
  }

  private emit(event: PcscEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure is its own business
      }
    }
  }

  /** Re-evaluates pending waits. */
  private poke(): void {
    for (const w of [...this.waiters]) if (w.check()) w.wake();
  }

  private waitUntil(check: () => boolean, timeoutMs: number, onTimeout: () => TerminalError): Promise<void> {
    if (this.closed) return Promise.reject(new TerminalError('E_TRANSPORT', 'the PC/SC client is closed'));
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          if (this.closed) reject(new TerminalError('E_TRANSPORT', 'the PC/SC client is closed'));
          else resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(onTimeout());
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private onServiceError(err: Error): void {
    if (this.closed) return; // "Command cancelled" from our own close()
    this.serviceError = pcscError(err);
    if (this.serviceError.code === 'E_TRANSPORT') {
      this.serviceError = new TerminalError(
        'E_READER_UNAVAILABLE',
        this.serviceError.message,
        this.serviceError.details,
      );
    }
    this.enumerated = true;
    this.emit({ type: 'service-lost', error: this.serviceError });
    this.poke();
  }

  private onReader(native: NativeCardReader): void {
    const name = native.name;
    const entry: ReaderEntry = {
      native,
      status: { name, cardPresent: undefined, mute: false, atr: undefined },
      channel: undefined,
      opening: false,
      pendingDisconnect: undefined,
    };
    this.readers.set(name, entry);
    native.on('error', () => {
      // The reader's status thread failed; pcsclite follows with 'end', handled below.
    });
    native.on('status', (status) => {
      if (this.readers.get(name) !== entry) return;
      const present = (status.state & native.SCARD_STATE_PRESENT) !== 0;
      const was = entry.status.cardPresent;
      entry.status.mute = (status.state & native.SCARD_STATE_MUTE) !== 0;
      entry.status.cardPresent = present;
      entry.status.atr =
        present && status.atr && status.atr.length > 0 ? new Uint8Array(status.atr) : undefined;
      if (present && was !== true && entry.status.atr) {
        this.emit({ type: 'card-inserted', reader: name, atr: entry.status.atr.slice() });
      } else if (!present && was === true) {
        entry.channel?.markBroken(
          new TerminalError('E_CARD_ABSENT', `card removed from ${name}`, { reader: name }),
        );
        this.emit({ type: 'card-removed', reader: name });
      }
      this.poke();
    });
    native.on('end', () => {
      entry.ended = true;
      if (this.readers.get(name) !== entry) return;
      // Forget an ended reader even while closing: pcsclite announces the end while holding the
      // reader's lock, so closing its native object afterwards would wait on that lock forever.
      this.readers.delete(name);
      if (this.closed) return;
      entry.channel?.markBroken(
        new TerminalError('E_READER_UNAVAILABLE', `reader removed: ${name}`, { reader: name }),
      );
      if (entry.status.cardPresent) this.emit({ type: 'card-removed', reader: name });
      this.emit({ type: 'reader-removed', reader: name });
      this.poke();
    });
    this.emit({ type: 'reader-added', reader: name });
  }
}

function cardAbsent(entry: ReaderEntry): boolean {
  return entry.status.cardPresent === false;
}
