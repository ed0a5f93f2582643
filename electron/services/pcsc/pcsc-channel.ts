// One SCardConnect session with a card in a PC/SC reader: transmits queued one APDU at a time, each
// bounded by its timeout; a timeout, a pulled card or a lost reader breaks the channel for good, and
// close() disconnects with the chosen disposition, after any transmit still stuck in pcscd.
import { type CardChannel, type TransmitOptions, transmitRefusal } from '../../../protocol/card-channel.js';
import { TerminalError } from '../../../protocol/errors.js';
import { disconnectNative, MAX_RESPONSE_LENGTH, type NativeCardReader, pcscError } from './pcsc-native.js';

export type Protocol = 'T=0' | 'T=1';

export interface PcscChannelInit {
  readerName: string;
  native: NativeCardReader;
  protocol: number;
  protocolName: Protocol;
  atr: Uint8Array;
  /** The reader carries extended-length APDUs (PcscConnectOptions.extendedLength). */
  extendedLength: boolean;
  defaultTimeoutMs: number;
  disposition: number;
  /** Tells the client the channel is gone; `pending` settles when its SCardDisconnect has run. */
  onClose: (pending: Promise<void>) => void;
}

/** One SCardConnect session. Transmits are queued: one APDU at a time, as on the wire. */
export class PcscChannel implements CardChannel {
  readonly readerName: string;
  readonly atr: Uint8Array;
  readonly protocol: Protocol;
  readonly extendedLength: boolean;
  private readonly init: PcscChannelInit;
  private queue: Promise<unknown> = Promise.resolve();
  /** The native transmit currently running (it may outlive a timeout). */
  private inflight: Promise<unknown> | undefined;
  private brokenBy: TerminalError | undefined;
  private closed = false;

  constructor(init: PcscChannelInit) {
    this.init = init;
    this.readerName = init.readerName;
    this.atr = init.atr;
    this.protocol = init.protocolName;
    this.extendedLength = init.extendedLength;
  }

  /** Why the channel can no longer be used, if it cannot. */
  get broken(): TerminalError | undefined {
    return this.brokenBy;
  }

  markBroken(error: TerminalError): void {
    this.brokenBy ??= error;
  }

  transmit(apdu: Uint8Array, opts: TransmitOptions = {}): Promise<Uint8Array> {
    const timeoutMs = opts.timeoutMs ?? this.init.defaultTimeoutMs;
    const run = this.queue.then(() => this.transmitNow(apdu, timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private transmitNow(apdu: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const context = { reader: this.readerName };
    const refusal = transmitRefusal(
      { closed: this.closed, brokenBy: this.brokenBy },
      apdu,
      context,
      MAX_RESPONSE_LENGTH,
    );
    if (refusal) return Promise.reject(refusal);
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        const error = new TerminalError(
          'E_TRANSPORT_TIMEOUT',
          `no response from the card in ${this.readerName} within ${timeoutMs} ms`,
          { ...context, timeoutMs },
        );
        this.markBroken(error);
        reject(error);
      }, timeoutMs);
      const native = new Promise<void>((done) => {
        this.init.native.transmit(Buffer.from(apdu), MAX_RESPONSE_LENGTH, this.init.protocol, (err, data) => {
          done();
          if (this.inflight === native) this.inflight = undefined;
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) {
            const error = this.brokenBy ?? pcscError(err, context);
            this.markBroken(error);
            reject(error);
          } else if (data.length < 2) {
            const error = new TerminalError('E_TRANSPORT', 'response shorter than a status word', {
              ...context,
              length: data.length,
            });
            this.markBroken(error);
            reject(error);
          } else {
            resolve(new Uint8Array(data));
          }
        });
      });
      this.inflight = native;
    });
  }

  /**
   * SCardDisconnect with the chosen disposition. Never rejects. If a transmit is still stuck in
   * pcscd (it timed out), the disconnect is queued behind it and close() returns at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue; // the running transmit settles: answer, error or its own timeout
    const { native, disposition } = this.init;
    const stuck = this.inflight;
    const disconnecting = (stuck ?? Promise.resolve())
      .then(() => disconnectNative(native, disposition))
      .catch(() => {
        // Card or reader already gone: the handle is dead either way. Let the next connect start clean.
        native.connected = false;
      });
    this.init.onClose(disconnecting);
    if (!stuck) await disconnecting;
  }
}
