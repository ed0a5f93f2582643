// One open card session per slot, held across operations so that what the card grants for its
// session (owner PIN verified, an authenticated peer) lasts until the card is pulled, the operator
// logs out, or an exchange fails; then the session is dropped and the card reset.
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

  /** Sessions with every card now present; a card that cannot be read now is skipped. */
  async present(): Promise<CardSession[]> {
    const out: CardSession[] = [];
    for (const status of this.slots.status()) {
      if (!status.cardPresent) continue;
      try {
        out.push(await this.get(status.slot));
      } catch {
        await this.drop(status.slot);
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
