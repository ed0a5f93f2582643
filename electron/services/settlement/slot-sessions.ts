// One open card session per slot, held across operations so that what the card grants for its
// session (owner PIN verified, an authenticated peer) lasts until the card is pulled, the operator
// logs out, or an exchange fails; then the session is dropped and the card reset.
import { type ErrorCode, toTerminalError } from '../../../protocol/errors.js';
import type { ReaderSlots, SlotName } from '../slots/reader-slots.js';
import { type CardSession, closeSession, openCardSession, readSession } from './card-session.js';

export class SlotSessions {
  private readonly held = new Map<SlotName, CardSession>();
  private readonly unsubscribe: () => void;

  constructor(private readonly slots: ReaderSlots) {
    this.unsubscribe = slots.on((event) => {
      if (event.type === 'service-lost' || event.type === 'service-restored') void this.dropAll();
      else if (event.type !== 'card-inserted' && event.type !== 'reader-attached') void this.drop(event.slot);
      else void this.drop(event.slot); // a new card in the slot: forget the old session
    });
  }

  /** The slot's session, opened (SELECT, card info, certificate) if none is held. */
  async get(slot: SlotName): Promise<CardSession> {
    const held = this.held.get(slot);
    if (held) return held;
    const session = await openCardSession(this.slots, slot);
    this.held.set(slot, session);
    return session;
  }

  /** Re-reads card info and balance on the held session. */
  async refresh(slot: SlotName): Promise<CardSession> {
    const session = await this.get(slot);
    const fresh = await readSession(slot, session.client);
    this.held.set(slot, fresh);
    return fresh;
  }

  /**
   * Sessions with every card now present; a card that cannot be read now is skipped (and handed to
   * `unreadable`, for a caller that reports it).
   */
  async present(unreadable?: (slot: SlotName, error: unknown) => void): Promise<CardSession[]> {
    const out: CardSession[] = [];
    for (const status of this.slots.status()) {
      if (!status.cardPresent) continue;
      try {
        out.push(await this.get(status.slot));
      } catch (e) {
        await this.drop(status.slot);
        unreadable?.(status.slot, e);
      }
    }
    return out;
  }

  async drop(slot: SlotName): Promise<void> {
    const session = this.held.get(slot);
    this.held.delete(slot);
    await closeSession(session);
  }

  async dropAll(): Promise<void> {
    await Promise.all([...this.held.keys()].map((slot) => this.drop(slot)));
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.dropAll();
  }
}

/**
 * Which failures reset the cards: the one policy of every engine. A refusal keeps the held sessions,
 * and with them what the cards granted (owner login, card-to-card session): the card answered with
 * a status word and is fine, or the terminal refused before a card acted (bad input, a certificate
 * or CRL check, the same card twice, a key limit, busy). A transport failure, a malformed answer,
 * a card in an unexpected state, a storage or an internal error leaves a card's session state
 * unknown: the sessions are dropped and the cards reset, so the next operation starts clean.
 */
const RESETS_CARDS: Record<ErrorCode, boolean> = {
  E_INPUT_INVALID: false,
  E_APDU_MALFORMED: true,
  E_PKI_MALFORMED: true,
  E_PKI_UNSUPPORTED: false,
  E_PKI_SIGNATURE: false,
  E_PKI_EXPIRED: false,
  E_PKI_REVOKED: false,
  E_CRL_STALE: false,
  E_CARD_STATUS: false,
  E_CARD_STATE: true,
  E_CARD_EXPIRED: false,
  // Another applet version: no session worth keeping with it.
  E_CARD_VERSION: true,
  // Refused before any card was opened: nothing of a session to drop.
  E_CARD_IN_USE: false,
  E_SAME_CARD: false,
  E_CURRENCY_MISMATCH: false,
  E_INSUFFICIENT_FUNDS: false,
  E_BALANCE_LIMIT: false,
  E_KEY_LIMIT: false,
  E_PIN_WRONG: false,
  E_PIN_BLOCKED: false,
  // The payment waits for the PIN: the session (and an open debit) must survive for it.
  E_PIN_REQUIRED: false,
  E_ACCESS_DENIED: false,
  E_BUSY: false,
  E_READER_UNAVAILABLE: true,
  E_CARD_ABSENT: true,
  E_TRANSPORT_TIMEOUT: true,
  E_TRANSPORT: true,
  E_DB: true,
  E_DB_TOO_NEW: true,
  E_LOG_TAMPERED: true,
  E_TERMINAL_IN_USE: false,
  E_INTERNAL: true,
  // The issuer host's answers: no card took part, so the cards' sessions still hold.
  E_HOST_DB: false,
  E_HOST_DB_TOO_NEW: false,
  E_AUTH_MISSING: false,
  E_AUTH_INVALID: false,
  E_AUTH_UNKNOWN_TERMINAL: false,
  E_AUTH_REVOKED: false,
  E_AUTH_STALE: false,
  E_AUTH_REPLAY: false,
  E_AUTH_FORBIDDEN: false,
  E_REQUEST_TOO_LARGE: false,
  E_NOT_FOUND: false,
  E_CONFLICT: false,
  E_CRL_NOT_NEWER: false,
  E_HOST_PIN: false,
  E_UPLOAD_GAP: false,
  E_UPLOAD_EDITED: false,
  E_UPLOAD_FORK: false,
};

/** Whether a failure of card work drops the held sessions and resets the cards (see RESETS_CARDS). */
export function resetsCards(e: unknown): boolean {
  return RESETS_CARDS[toTerminalError(e).code];
}
