// The terminal side of every card transport (PC/SC reader, in-process simulator, ...): one open
// session with one card. Implementations reject with TerminalError codes, never bare errors:
// E_TRANSPORT_TIMEOUT (no answer in time; the channel is then unusable), E_CARD_ABSENT (card pulled),
// E_READER_UNAVAILABLE (reader or pcscd gone) and E_TRANSPORT (anything else, including a closed channel).

export interface TransmitOptions {
  /** Give up waiting for the card after this many milliseconds; the implementation picks a default. */
  timeoutMs?: number;
}

export interface CardChannel {
  /** Sends one command APDU; resolves with the response APDU including its two status word bytes. */
  transmit(apdu: Uint8Array, opts?: TransmitOptions): Promise<Uint8Array>;
  /** The card's answer to reset as seen when the channel was opened. */
  readonly atr: Uint8Array;
  /** Ends the session. Idempotent; never rejects for a card or reader that has already gone. */
  close(): Promise<void>;
}
