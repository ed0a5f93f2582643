// The card-to-card session the terminal holds between the payer and payee cards (seed 000 Fig. 5):
// established by mutual authentication, it lives on the cards as long as their card sessions (the
// slots' channels) do. The terminal keeps each side's view with the client it was made on, so a
// card swapped or reset since (a new channel) no longer counts as authenticated.

import { fromHex, toHex } from '../../../protocol/bytes.js';
import { cardRefusal } from '../../../protocol/card-refusal.js';
import { isTerminalError, TerminalError, toTerminalError } from '../../../protocol/errors.js';
import type { ListedItem } from '../../../protocol/settlement/contents-codec.js';
import { SESSION_MODE } from '../../../protocol/settlement/session-keys.js';
import type { SessionResult, SettlementClient } from '../../../protocol/settlement/settlement-client.js';
import type { CardSession } from '../settlement/card-session.js';
import type { SlotName } from '../slots/reader-slots.js';
import { establishSession } from './card-session-auth.js';
import type { AccessView, SessionModeName, SessionView } from './content-views.js';
import { SlotTracker } from './slot-tracker.js';

const MODE: Record<SessionModeName, number> = { basic: SESSION_MODE.BASIC, issuer: SESSION_MODE.ISSUER };

export const otherSlot = (slot: SlotName): SlotName => (slot === 'payer' ? 'payee' : 'payer');

export function checkModes(modes: { payerMode?: SessionModeName; payeeMode?: SessionModeName }) {
  const checked = { payer: modes.payerMode ?? 'basic', payee: modes.payeeMode ?? 'basic' };
  for (const m of [checked.payer, checked.payee]) {
    if (!(m in MODE)) throw new TerminalError('E_INPUT_INVALID', `session mode is basic or issuer, not ${m}`);
  }
  return checked;
}

interface HeldSide {
  /** The session lives as long as this card channel: a new channel is a new card session. */
  client: SettlementClient;
  view: SessionView;
}

export class CardToCardSession {
  private held: Record<SlotName, HeldSide> | undefined;

  /** Forgets the session (a card was pulled, reset or logged out, or a new authentication starts). */
  forget(): void {
    this.held = undefined;
  }

  /** Both sides as last established, if the terminal still believes the session holds. */
  current(): Record<SlotName, SessionView> | undefined {
    return this.held ? { payer: this.held.payer.view, payee: this.held.payee.view } : undefined;
  }

  /**
   * Seed 000 Fig. 5 between the two cards' sessions: each card checks the other's certificate and
   * holder ID and confirms it, and both agree a session ID. A refusal names the card and why.
   */
  async establish(
    payer: CardSession,
    payee: CardSession,
    modes: Record<SlotName, SessionModeName>,
    date: number,
  ): Promise<Record<SlotName, SessionView>> {
    this.forget();
    const tracker = new SlotTracker();
    let result: Awaited<ReturnType<typeof establishSession>>;
    try {
      result = await establishSession(
        { client: tracker.client(payer), certificate: payer.info.certificate, mode: MODE[modes.payer] },
        { client: tracker.client(payee), certificate: payee.info.certificate, mode: MODE[modes.payee] },
        date,
      );
    } catch (e) {
      const slot = tracker.last;
      const error = toTerminalError(e);
      throw slot
        ? cardRefusal(error, { slot, peer: otherSlot(slot), peerMustBeIssuer: modes[slot] === 'issuer' })
        : error;
    }
    const side = (s: CardSession, peer: CardSession, mode: SessionModeName, r: SessionResult): HeldSide => ({
      client: s.client,
      view: {
        slot: s.slot,
        holderId: s.holderIdHex,
        peerHolderId: peer.holderIdHex,
        mode,
        sessionId: toHex(r.sessionId),
        level: r.level,
        peerIssuer: r.peerIssuer ? toHex(r.peerIssuer) : undefined,
      },
    });
    this.held = {
      payer: side(payer, payee, modes.payer, result.a),
      payee: side(payee, payer, modes.payee, result.b),
    };
    return { payer: this.held.payer.view, payee: this.held.payee.view };
  }

  /**
   * The session IDs of the two cards, which must hold this session with each other on their current
   * channels; otherwise the session is forgotten and E_ACCESS_DENIED says to authenticate first.
   */
  between(payer: CardSession, payee: CardSession): { ids: Record<SlotName, Uint8Array>; sessionId: string } {
    const payerSide = this.sideOf(payer);
    const payeeSide = this.sideOf(payee);
    if (!payerSide || !payeeSide || payerSide.view.peerHolderId !== payee.holderIdHex) {
      this.forget();
      throw new TerminalError(
        'E_ACCESS_DENIED',
        'the cards hold no authenticated session with each other: authenticate first',
      );
    }
    return {
      ids: { payer: fromHex(payerSide.view.sessionId), payee: fromHex(payeeSide.view.sessionId) },
      sessionId: payerSide.view.sessionId,
    };
  }

  /** What the card grants now: owner mode (its PIN verified) and the level of the held session. */
  async accessOf(session: CardSession): Promise<AccessView> {
    let owner = false;
    try {
      owner = (await session.client.pinStatus()) === 'verified';
    } catch (e) {
      // A card without an owner PIN (6A88) has no owner mode.
      if (!isTerminalError(e, 'E_CARD_STATUS')) throw e;
    }
    const side = this.sideOf(session);
    return {
      owner,
      session: side ? side.view.level : 'none',
      issuer: side?.view.level === 'issuer' ? side.view.peerIssuer : undefined,
    };
  }

  /** The held side of this card, if it still belongs to the card's current channel. */
  private sideOf(session: CardSession): HeldSide | undefined {
    const side = this.held?.[session.slot];
    if (!side || side.client !== session.client || side.view.holderId !== session.holderIdHex)
      return undefined;
    return side;
  }
}

/** The terminal's own copy of the body policy (seed 000's access levels): never show more than this. */
export function bodyVisible(access: AccessView, item: Pick<ListedItem, 'policy' | 'issuerId'>): boolean {
  switch (item.policy) {
    case 'public':
      return true;
    case 'issuer-alterable':
      return access.owner || access.issuer === item.issuerId;
    case 'owner-only':
      return access.owner;
    case 'secret':
      return false;
  }
}
