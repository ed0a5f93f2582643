// The terminal side of every card transport (PC/SC reader, in-process simulator, ...): one open
// session with one card. Implementations reject with TerminalError codes, never bare errors:
// E_TRANSPORT_TIMEOUT (no answer in time; the channel is then unusable), E_CARD_ABSENT (card pulled),
// E_READER_UNAVAILABLE (reader or pcscd gone) and E_TRANSPORT (anything else, including a closed channel).
import { TerminalError } from './errors.js';

export interface TransmitOptions {
  /** Give up waiting for the card after this many milliseconds; the implementation picks a default. */
  timeoutMs?: number;
}

export interface CardChannel {
  /** Sends one command APDU; resolves with the response APDU including its two status word bytes. */
  transmit(apdu: Uint8Array, opts?: TransmitOptions): Promise<Uint8Array>;
  /** The card's answer to reset as seen when the channel was opened. */
  readonly atr: Uint8Array;
  /**
   * The reader carries extended-length APDUs (docs/protocol.md §3): a long answer (GET CARD INFO) may
   * be asked for in one response. Absent or false: short APDUs only, long answers chained.
   */
  readonly extendedLength?: boolean;
  /** Ends the session. Idempotent; never rejects for a card or reader that has already gone. */
  close(): Promise<void>;
}

/**
 * Why a channel cannot take a transmit, if it cannot: it is closed (E_TRANSPORT); a timeout, a pulled
 * card or a lost reader broke it (that cause's code, a timeout as E_TRANSPORT: the channel stays
 * unusable even if the card answers late); or the bytes are no command APDU (E_INPUT_INVALID).
 */
export function transmitRefusal(
  channel: { readonly closed: boolean; readonly brokenBy: TerminalError | undefined },
  apdu: Uint8Array,
  context: Record<string, unknown>,
  maxLength = Number.POSITIVE_INFINITY,
): TerminalError | undefined {
  if (channel.closed) return new TerminalError('E_TRANSPORT', 'the card channel is closed', context);
  const cause = channel.brokenBy;
  if (cause) {
    const code = cause.code === 'E_TRANSPORT_TIMEOUT' ? 'E_TRANSPORT' : cause.code;
    return new TerminalError(code, `the card channel is unusable: ${cause.message}`, {
      ...context,
      cause: cause.code,
    });
  }
  if (apdu.length < 4 || apdu.length > maxLength)
    return new TerminalError('E_INPUT_INVALID', `not a command APDU (${apdu.length} bytes)`);
  return undefined;
}
