// The part of the npm `pcsclite` module (libpcsclite talking to pcscd) this terminal uses, typed, and
// the one mapping of its failures to TerminalErrors: the PC/SC return code in a pcsclite error
// message decides E_CARD_ABSENT, E_READER_UNAVAILABLE, E_TRANSPORT_TIMEOUT or E_TRANSPORT.
import pcsclite from 'pcsclite';
import { type ErrorCode, errorMessage, isTerminalError, TerminalError } from '../../../protocol/errors.js';

// --- the subset of pcsclite's runtime API used here (its bundled index.d.ts exports no types) ---

export interface NativeStatus {
  state: number;
  atr?: Buffer;
}

export type NativeCallback<T> = (err: Error | null | undefined, value: T) => void;

export interface NativeCardReader {
  readonly name: string;
  connected: boolean;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_STATE_MUTE: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_UNPOWER_CARD: number;
  on(event: 'status', listener: (status: NativeStatus) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'end', listener: () => void): this;
  connect(options: { share_mode: number; protocol: number }, cb: NativeCallback<number>): void;
  disconnect(disposition: number, cb: (err: Error | null | undefined) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: NativeCallback<Buffer>): void;
  close(): void;
}

export interface NativePcscLite {
  on(event: 'reader', listener: (reader: NativeCardReader) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  /** Native: starts the PnP thread; the JS wrapper calls it once, on the next tick after creation. */
  start?: (cb: NativeCallback<Buffer>) => void;
  close(): void;
}

export const createNativeContext = pcsclite as unknown as () => NativePcscLite;

/** pcsc-lite's MAX_BUFFER_SIZE_EXTENDED: room for a 65536-byte response plus SW1 SW2. */
export const MAX_RESPONSE_LENGTH = 4 + 3 + (1 << 16) + 3 + 2;

// --- PC/SC error codes ---

const SCARD = {
  E_CANCELLED: 0x80100002,
  E_INVALID_HANDLE: 0x80100003,
  E_UNKNOWN_READER: 0x80100009,
  E_TIMEOUT: 0x8010000a,
  E_NO_SMARTCARD: 0x8010000c,
  E_READER_UNAVAILABLE: 0x80100017,
  E_NO_SERVICE: 0x8010001d,
  E_SERVICE_STOPPED: 0x8010001e,
  E_NO_READERS_AVAILABLE: 0x8010002e,
  W_UNRESPONSIVE_CARD: 0x80100066,
  W_UNPOWERED_CARD: 0x80100067,
  W_REMOVED_CARD: 0x80100069,
} as const;

/** The PC/SC return code inside a pcsclite error message ("SCardTransmit error: ...(0x80100069)"). */
export function pcscReturnCode(err: unknown): number | undefined {
  const match = /\(0x([0-9a-f]{1,8})\)/i.exec(err instanceof Error ? err.message : String(err));
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

function errorCodeFor(rc: number | undefined): ErrorCode {
  switch (rc) {
    case SCARD.E_NO_SMARTCARD:
    case SCARD.W_REMOVED_CARD:
      return 'E_CARD_ABSENT';
    case SCARD.E_UNKNOWN_READER:
    case SCARD.E_READER_UNAVAILABLE:
    case SCARD.E_NO_SERVICE:
    case SCARD.E_SERVICE_STOPPED:
    case SCARD.E_NO_READERS_AVAILABLE:
      return 'E_READER_UNAVAILABLE';
    case SCARD.E_TIMEOUT:
      return 'E_TRANSPORT_TIMEOUT';
    default:
      return 'E_TRANSPORT';
  }
}

/**
 * A pcsclite failure as a TerminalError: the PC/SC return code in its message decides the code and
 * is kept in the details (pcscCode). A TerminalError passes through unchanged.
 */
export function pcscError(err: unknown, context: Record<string, unknown> = {}): TerminalError {
  if (isTerminalError(err)) return err;
  const rc = pcscReturnCode(err);
  return new TerminalError(errorCodeFor(rc), errorMessage(err), {
    ...context,
    pcscCode: rc === undefined ? undefined : `0x${rc.toString(16).padStart(8, '0')}`,
  });
}

/** SCardDisconnect with the given disposition, as a promise. */
export function disconnectNative(native: NativeCardReader, disposition: number): Promise<void> {
  return new Promise((resolve, reject) => {
    native.disconnect(disposition, (err) =>
      err ? reject(pcscError(err, { reader: native.name })) : resolve(),
    );
  });
}

export function isTimeout(e: unknown): boolean {
  return isTerminalError(e, 'E_TRANSPORT_TIMEOUT');
}

/** The promise, or `onTimeout()` if it has not settled within timeoutMs (it keeps running). */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => TerminalError,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
