// Value accounting across two cards, Mondex style: the sum of both balances plus the value that is
// durably in flight (debited by one card and not yet credited by the other) never changes. Durably
// in flight means recoverable: a debited record (value transfer) or a deleted value half (content
// transfer) that the other card has never been seen to credit or accept.
//
// Seen ever, not seen now: a credited record is settled and may be evicted from the payee's log
// while the payer's debited record waits for its acknowledgement. The ledger is updated after every
// command, and a credit and its eviction are different commands, so no credit goes unseen.
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';

export class ValueLedger {
  private readonly credited = new Set<string>();
  private readonly accepted = new Set<string>();

  /** Remembers every credit and every accepted value half the cards now show. */
  observe(states: readonly SettlementState[]): void {
    for (const s of states) {
      for (const r of s.creditLog) if (r.status === 'credited') this.credited.add(r.txRandom);
      for (const r of s.contentLog) {
        if (r.direction === 'in' && r.kind === 'value' && r.status === 'accepted') this.accepted.add(r.txId);
      }
    }
  }

  /** Debited on one card, never credited on the other. */
  inFlight(states: readonly SettlementState[]): number {
    let sum = 0;
    for (const s of states) {
      for (const r of s.debitLog)
        if (r.status === 'debited' && !this.credited.has(r.txRandom)) sum += r.amount;
      for (const r of s.contentLog) {
        if (
          r.direction === 'out' &&
          r.kind === 'value' &&
          r.status === 'deleted' &&
          !this.accepted.has(r.txId)
        ) {
          sum += r.amount ?? 0;
        }
      }
    }
    return sum;
  }

  /** Both balances plus the value in flight. */
  total(states: readonly SettlementState[]): number {
    this.observe(states);
    return states.reduce((sum, s) => sum + s.balance, 0) + this.inFlight(states);
  }

  /** How many value transfers and value halves have completed (for the run's statistics). */
  get completed(): number {
    return this.credited.size + this.accepted.size;
  }
}
