// The part of every card's memory that the campaign's invariants speak about.
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import type { WorldCard } from './campaign-world.js';

export interface CardSnapshot {
  label: string;
  holderId: string;
  balance: number;
  transferKeyId: number;
  transferKeyIdLimit: number;
  updateKeyId: number;
  items: string[];
  /** Open or debited debits, pending credits, locked items, open content records: all 0 when settled. */
  unsettled: number;
}

export interface WorldSnapshot {
  cards: CardSnapshot[];
  /** Cards whose memory does not decode (the message says why): a violation by itself. */
  invalid: string[];
}

export function unsettledOf(s: SettlementState): number {
  return (
    s.debitLog.filter((r) => r.status === 'open' || r.status === 'debited').length +
    s.creditLog.filter((r) => r.status === 'pending').length +
    s.contents.filter((i) => i.lockedBy).length +
    s.contentLog.filter((r) => ['open', 'deleted', 'pending'].includes(r.status)).length
  );
}

/**
 * Each card's last snapshot with the memory image it was taken from. A world keeps every card it
 * retired (their value is still counted), so a long soak holds hundreds of cards that no case
 * touches again; decoding each of them twice a case made a case's cost grow with the soak's length.
 * An image that has not changed since gives the same snapshot.
 */
const lastSnapshot = new WeakMap<WorldCard, { image: string; snapshot: CardSnapshot }>();

export function snapshotWorld(cards: readonly WorldCard[]): WorldSnapshot {
  const out: WorldSnapshot = { cards: [], invalid: [] };
  for (const card of cards) {
    const image = card.memoryImage();
    const last = lastSnapshot.get(card);
    if (image !== undefined && last?.image === image) {
      out.cards.push({ ...last.snapshot, items: [...last.snapshot.items] });
      continue;
    }
    let s: SettlementState;
    try {
      s = card.state();
    } catch (e) {
      out.invalid.push(`${card.label}: ${(e as Error).message}`);
      continue;
    }
    const snapshot: CardSnapshot = {
      label: card.label,
      holderId: card.holderId,
      balance: s.balance,
      transferKeyId: s.transferKeyId,
      transferKeyIdLimit: s.transferKeyIdLimit,
      updateKeyId: s.updateKeyId,
      items: s.contents.map((i) => i.id).sort(),
      unsettled: unsettledOf(s),
    };
    if (image !== undefined) lastSnapshot.set(card, { image, snapshot });
    out.cards.push({ ...snapshot, items: [...snapshot.items] });
  }
  return out;
}

export function totalValue(s: WorldSnapshot): number {
  return s.cards.reduce((sum, c) => sum + c.balance, 0);
}
