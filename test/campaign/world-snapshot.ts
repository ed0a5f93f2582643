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

export function snapshotWorld(cards: readonly WorldCard[]): WorldSnapshot {
  const out: WorldSnapshot = { cards: [], invalid: [] };
  for (const card of cards) {
    let s: SettlementState;
    try {
      s = card.state();
    } catch (e) {
      out.invalid.push(`${card.label}: ${(e as Error).message}`);
      continue;
    }
    out.cards.push({
      label: card.label,
      holderId: card.holderId,
      balance: s.balance,
      transferKeyId: s.transferKeyId,
      transferKeyIdLimit: s.transferKeyIdLimit,
      updateKeyId: s.updateKeyId,
      items: s.contents.map((i) => i.id).sort(),
      unsettled: unsettledOf(s),
    });
  }
  return out;
}

export function totalValue(s: WorldSnapshot): number {
  return s.cards.reduce((sum, c) => sum + c.balance, 0);
}
