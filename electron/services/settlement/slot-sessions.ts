// One open card session per slot, held across operations so that what the card grants for its
// session (owner PIN verified, an authenticated peer) lasts until the card is pulled, the operator
// logs out, or an exchange fails; then the session is dropped and the card reset. With the session
// goes everything read from the card (docs/protocol.md §4.8): a new presence starts from SELECT.

import { type ErrorCode, TerminalError, toTerminalError } from '../../../protocol/errors.js';
import type { Balance } from '../../../protocol/settlement/settlement-client.js';
import { type ReaderSlots, SLOT_NAMES, type SlotName } from '../slots/reader-slots.js';
import {
  type CardSession,
  closeSession,
  currentBalance,
  currentInfo,
  openCardSession,
} from './card-session.js';

export class SlotSessions {
  private readonly held = new Map<SlotName, CardSession>();
  /** Counts each slot's events: a session opened across one belongs to a presence already gone. */
  private readonly presence = new Map<SlotName, number>();
  private readonly unsubscribe: () => void;

  constructor(private readonly slots: ReaderSlots) {
    // Any event of a slot (card inserted or removed, reader attached or detached) ends its presence;
    // losing pcscd ends every one.
    this.unsubscribe = slots.on((event) => {
      if (event.type === 'service-lost' || event.type === 'service-restored') {
        for (const slot of SLOT_NAMES) this.nextPresence(slot);
        void this.dropAll();
      } else {
        this.nextPresence(event.slot);
        void this.drop(event.slot);
      }
    });
  }

  /**
   * The slot's session with its card info current: opened (SELECT, GET CARD INFO) if none is held,
   * the info read again only if a command since may have changed it. No balance is read.
   */
  async get(slot: SlotName): Promise<CardSession> {
    const held = this.held.get(slot);
    if (held) return currentInfo(held);
    const presence = this.presence.get(slot) ?? 0;
    const session = await openCardSession(this.slots, slot);
    if ((this.presence.get(slot) ?? 0) !== presence) {
      await closeSession(session);
      throw new TerminalError('E_CARD_ABSENT', `the card in the ${slot} slot changed while it was read`, {
        slot,
      });
    }
    this.held.set(slot, session);
    return session;
  }

  private nextPresence(slot: SlotName): void {
    this.presence.set(slot, (this.presence.get(slot) ?? 0) + 1);
  }

  /** The session as the operator is shown it: current info, and the balance where the card grants it. */
  async refresh(slot: SlotName): Promise<CardSession> {
    const session = await this.get(slot);
    await currentBalance(session);
    return session;
  }

  /** The card's balance where it grants it (read only if not current), else undefined; no info read. */
  async balance(slot: SlotName): Promise<Balance | undefined> {
    const held = this.held.get(slot);
    return currentBalance(held ?? (await this.get(slot)));
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
  E_REFUND_LIMIT: false,
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
  // A screen-side code (its link to the main process): the services never raise it.
  E_DISCONNECTED: false,
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
  E_UPLOAD_PROOF: false,
  E_ISSUANCE_CONFLICT: false,
};

/** Whether a failure of card work drops the held sessions and resets the cards (see RESETS_CARDS). */
export function resetsCards(e: unknown): boolean {
  return RESETS_CARDS[toTerminalError(e).code];
}
