// Puts a VirtualCard into a real pcscd reader through vsmartcard's vpcd driver (libifdvpcd).
//
// vpcd is the TCP *server*: each vpcd slot listens on a port (reader.conf `DEVICENAME /dev/null:PORT`;
// slot n of that entry listens on PORT+n). The card is the client. Presence is the connection itself:
// pcscd polls the driver about every 400 ms, and vpcd reports a card present when it has accepted a
// client that answers "get ATR"; when the client closes the socket vpcd's next read returns 0, it
// drops the connection and reports the slot empty. So connect() = insert the card, close() = pull it.
//
// Wire format (both directions): a 2-byte big-endian length, then that many bytes. A 1-byte message
// from vpcd is a control code (0 power off, 1 power on, 2 reset, 4 get ATR); only "get ATR" is
// answered (with the ATR as one message). Any longer message is a command APDU, answered with one
// message holding the response APDU including SW1 SW2. vpcd reads with MSG_WAITALL and no timeout,
// so a card that never answers stalls that pcscd reader until the socket is closed.
import net from 'node:net';
import { TerminalError } from '../../protocol/errors.js';
import { SW } from '../../protocol/status-words.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';

export const VPCD_DEFAULT_PORT = 0x8c7b; // 35963, as in the sample /etc/reader.conf.d/vpcd
export const VPCD_MAX_PAYLOAD = 0xffff;

export const VPCD_CTRL = {
  POWER_OFF: 0,
  POWER_ON: 1,
  RESET: 2,
  GET_ATR: 4,
} as const;

/** Encodes one vpcd message: 2-byte big-endian length, then the payload. */
export function encodeVpcdFrame(payload: Uint8Array): Buffer {
  if (payload.length > VPCD_MAX_PAYLOAD) {
    throw new TerminalError('E_TRANSPORT', 'a vpcd message holds at most 65535 bytes', {
      length: payload.length,
    });
  }
  const frame = Buffer.allocUnsafe(2 + payload.length);
  frame.writeUInt16BE(payload.length, 0);
  frame.set(payload, 2);
  return frame;
}

/**
 * Reassembles vpcd messages from a TCP byte stream: a chunk may hold part of a message, several
 * messages, or the tail of one and the head of the next (including a length prefix split in two).
 */
export class VpcdFrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds received bytes; returns every message completed by them, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (this.pending.length - offset >= 2) {
      const length = this.pending.readUInt16BE(offset);
      if (this.pending.length - offset - 2 < length) break;
      frames.push(new Uint8Array(this.pending.subarray(offset + 2, offset + 2 + length)));
      offset += 2 + length;
    }
    if (offset > 0) this.pending = this.pending.subarray(offset);
    return frames;
  }

  /** Bytes received that do not yet form a whole message. */
  get bufferedBytes(): number {
    return this.pending.length;
  }
}

export interface VpcdConnectorOptions {
  /** Where vpcd listens; default 127.0.0.1. */
  host?: string;
  /** The vpcd slot's TCP port (reader.conf DEVICENAME /dev/null:PORT, plus the slot number). */
  port: number;
  card: VirtualCard;
  /** How long connect() keeps retrying while nothing listens on the port; default 10 s. */
  connectTimeoutMs?: number;
  /** Pause between connection attempts; default 50 ms. */
  retryIntervalMs?: number;
  /** Called once when an inserted card's connection ends other than through remove()/close(). */
  onDisconnect?: (error: TerminalError) => void;
}

export type VpcdConnectorState = 'removed' | 'connecting' | 'inserted' | 'closed';

/** Connects a VirtualCard to a vpcd slot: connect()/insert() inserts it, remove()/close() pulls it. */
export class VpcdConnector {
  readonly host: string;
  readonly port: number;
  private readonly card: VirtualCard;
  private readonly connectTimeoutMs: number;
  private readonly retryIntervalMs: number;
  private readonly onDisconnect: ((error: TerminalError) => void) | undefined;
  private socket: net.Socket | undefined;
  private decoder = new VpcdFrameDecoder();
  private currentState: VpcdConnectorState = 'removed';
  private connecting: Promise<void> | undefined;
  private cancelConnect: (() => void) | undefined;
  /** Answers held back by a real-time latency model (VirtualCard.answerDelayMs), sent in order. */
  private delayedReplies: Promise<void> = Promise.resolve();
  private delayedCount = 0;

  constructor(options: VpcdConnectorOptions) {
    if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 0xffff) {
      throw new TerminalError('E_INPUT_INVALID', `not a TCP port: ${options.port}`);
    }
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port;
    this.card = options.card;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.retryIntervalMs = options.retryIntervalMs ?? 50;
    this.onDisconnect = options.onDisconnect;
  }

  get state(): VpcdConnectorState {
    return this.currentState;
  }

  /**
   * Inserts the card: connects to vpcd, retrying until it listens or connectTimeoutMs passes
   * (then E_READER_UNAVAILABLE). Resolves once the TCP connection stands; pcscd reports the card
   * at its next presence poll (within about half a second). A no-op when already inserted.
   * vpcd takes one card per slot: a second connector on a busy slot connects (the kernel queues it)
   * but stays invisible until the first card is removed.
   */
  connect(): Promise<void> {
    if (this.currentState === 'closed') {
      return Promise.reject(new TerminalError('E_TRANSPORT', 'the vpcd connector has been closed'));
    }
    if (this.currentState === 'inserted') return Promise.resolve();
    if (this.connecting) return this.connecting;
    this.currentState = 'connecting';
    this.connecting = this.connectWithRetry().finally(() => {
      this.connecting = undefined;
      this.cancelConnect = undefined;
    });
    return this.connecting;
  }

  /** Same as connect(): the card goes into the reader. */
  insert(): Promise<void> {
    return this.connect();
  }

  /** Pulls the card: closes the connection (vpcd then reports the slot empty). It can be inserted again. */
  async remove(): Promise<void> {
    if (this.currentState === 'closed') return;
    await this.disconnect('removed');
  }

  /** Pulls the card for good; later connect()/insert() calls reject. */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    await this.disconnect('closed');
  }

  private async disconnect(next: 'removed' | 'closed'): Promise<void> {
    this.currentState = next;
    this.cancelConnect?.();
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  private async connectWithRetry(): Promise<void> {
    const deadline = Date.now() + this.connectTimeoutMs;
    const abort = new AbortController();
    this.cancelConnect = () => abort.abort();
    let lastError: Error | undefined;
    for (;;) {
      try {
        const socket = await this.tryConnect(Math.max(1, deadline - Date.now()), abort.signal);
        if (!socket.destroyed && !abort.signal.aborted) {
          this.attach(socket);
          return;
        }
        socket.destroy();
      } catch (e) {
        lastError = e as Error;
      }
      if (abort.signal.aborted || Date.now() + this.retryIntervalMs >= deadline) break;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          abort.signal.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, this.retryIntervalMs);
        abort.signal.addEventListener('abort', wake, { once: true });
      });
      if (abort.signal.aborted) break;
    }
    const where = { host: this.host, port: this.port };
    if (abort.signal.aborted) {
      throw new TerminalError('E_TRANSPORT', 'connecting to vpcd was cancelled by remove()/close()', where);
    }
    this.currentState = 'removed';
    throw new TerminalError(
      'E_READER_UNAVAILABLE',
      `vpcd is not accepting connections on ${this.host}:${this.port} (is pcscd running with a vpcd reader on that port?)`,
      { ...where, timeoutMs: this.connectTimeoutMs, cause: lastError?.message },
    );
  }

  /** One TCP connection attempt. The socket keeps a no-op error listener until attach() replaces it. */
  private tryConnect(timeoutMs: number, signal: AbortSignal): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      const fail = (err: Error) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(err);
      };
      const onAbort = () => fail(new Error('cancelled'));
      const timer = setTimeout(
        () => fail(new Error(`TCP connect timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(socket);
      });
    });
  }

  private attach(socket: net.Socket): void {
    socket.removeAllListeners('error');
    socket.setNoDelay(true);
    this.socket = socket;
    this.decoder = new VpcdFrameDecoder();
    this.currentState = 'inserted';
    let failure: TerminalError | undefined;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        const reply = this.handleMessage(frame);
        if (!reply) continue;
        const delayMs = frame.length > 1 ? (this.card.answerDelayMs?.() ?? 0) : 0;
        this.reply(socket, reply, delayMs);
      }
    });
    socket.on('error', (err) => {
      failure = new TerminalError('E_TRANSPORT', `vpcd connection failed: ${err.message}`, {
        host: this.host,
        port: this.port,
      });
    });
    socket.on('close', () => {
      if (this.socket !== socket) return; // remove()/close() already detached it
      this.socket = undefined;
      this.currentState = 'removed';
      this.onDisconnect?.(
        failure ??
          new TerminalError('E_READER_UNAVAILABLE', 'vpcd closed the connection (pcscd stopped?)', {
            host: this.host,
            port: this.port,
          }),
      );
    });
  }

  /** Sends `reply` now, or after `delayMs` and after every answer still held back, in order. */
  private reply(socket: net.Socket, reply: Uint8Array, delayMs: number): void {
    if (delayMs <= 0 && this.delayedCount === 0) {
      if (!socket.destroyed) socket.write(encodeVpcdFrame(reply));
      return;
    }
    this.delayedCount++;
    this.delayedReplies = this.delayedReplies
      .then(() => (delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, delayMs)) : undefined))
      .then(() => {
        this.delayedCount--;
        if (!socket.destroyed) socket.write(encodeVpcdFrame(reply));
      });
  }

  /** One message from vpcd; returns the reply to send, or undefined when none is due. */
  private handleMessage(message: Uint8Array): Uint8Array | undefined {
    if (message.length === 0) return undefined;
    if (message.length === 1) return this.handleControl(message[0]!);
    return this.handleApdu(message);
  }

  private handleControl(code: number): Uint8Array | undefined {
    switch (code) {
      case VPCD_CTRL.POWER_OFF:
        this.card.powerDown();
        return undefined;
      case VPCD_CTRL.POWER_ON:
        this.card.powerUp();
        return undefined;
      case VPCD_CTRL.RESET:
        this.card.reset();
        return undefined;
      case VPCD_CTRL.GET_ATR:
        return this.card.atr;
      default:
        return undefined; // unknown control codes are ignored, as vsmartcard's own vicc does
    }
  }

  // A fault-injection hook (drop/delay an APDU) belongs here: it can return undefined to stay silent
  // or answer later through this.socket.
  private handleApdu(apdu: Uint8Array): Uint8Array | undefined {
    let response: Uint8Array;
    try {
      response = this.card.transmit(apdu);
    } catch {
      response = Uint8Array.of(SW.UNKNOWN >> 8, SW.UNKNOWN & 0xff); // VirtualCard must not throw; be safe
    }
    if (response.length === 0) {
      // A mute card lost power mid-command (tearing): to the reader that is a card pulled out.
      void this.remove();
      return undefined;
    }
    if (response.length < 2 || response.length > VPCD_MAX_PAYLOAD) {
      return Uint8Array.of(SW.UNKNOWN >> 8, SW.UNKNOWN & 0xff);
    }
    return response;
  }
}
