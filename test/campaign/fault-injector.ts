// The fault injector both campaign worlds share: it counts an operation's APDUs, card writes and
// journal writes, and fires the armed fault at its position. Where a world carries a fault out
// differently (how a card is pulled, how pcscd is restarted, where a lost APDU is held), it passes
// the action in.
import type { TearingDecision } from '../../card-sim/os/persistent-store.js';
import type { ArmedFault, OperationTrace } from './campaign-world.js';
import type { CardHooks, FaultableCard } from './world-cards.js';

export interface FaultActions {
  /** The card was muted by a pull fault: take it out of its reader. */
  pull?: (card: FaultableCard) => void;
  /** The pcscd-restart fault fired at this APDU. */
  restartReaders?: () => void;
  /** The terminal may no longer reach any card (it has been "killed"). */
  terminalDead?: () => boolean;
}

export class FaultInjector implements CardHooks {
  armed: ArmedFault = { kind: 'none', at: 0 };
  trace: OperationTrace = FaultInjector.emptyTrace();

  constructor(private readonly actions: FaultActions = {}) {}

  static emptyTrace(): OperationTrace {
    return { apdus: 0, cardWrites: 0, journalWrites: 0, fired: false };
  }

  arm(fault: ArmedFault): void {
    this.armed = fault;
    this.trace = FaultInjector.emptyTrace();
  }

  /** Ends the operation: nothing armed any more; returns what happened. */
  disarm(): OperationTrace {
    this.armed = { kind: 'none', at: 0 };
    return this.trace;
  }

  onApdu(card: FaultableCard): 'pass' | 'mute-before' | 'mute-after' {
    if (this.actions.terminalDead?.()) throw new Error('the terminal was killed (fault injection)');
    const { kind, at } = this.armed;
    if (kind.startsWith('timeout')) return 'pass'; // counted where the APDU is held: timeoutAt()
    if (++this.trace.apdus !== at) return 'pass';
    if (kind === 'pcscd-restart' && this.actions.restartReaders) {
      this.trace.fired = true;
      this.actions.restartReaders(); // the answer races the daemon's end, as it would
      return 'pass';
    }
    if (!kind.startsWith('pull')) return 'pass';
    this.trace.fired = true;
    this.actions.pull?.(card);
    return kind === 'pull-before' ? 'mute-before' : 'mute-after';
  }

  onWrite(): TearingDecision {
    const { kind, at } = this.armed;
    if (++this.trace.cardWrites !== at || !kind.startsWith('tear')) return 'proceed';
    this.trace.fired = true;
    return kind === 'tear-before-write' ? 'cut-before-write' : 'cut-after-write';
  }

  /** For timeout faults: a predicate, called once per APDU sent, true for the one to hold. */
  timeoutAt(): () => boolean {
    return () => {
      if (++this.trace.apdus !== this.armed.at) return false;
      this.trace.fired = true;
      return true;
    };
  }

  /** After each committed journal write: true if the terminal is to die right here. */
  journalWritten(): boolean {
    this.trace.journalWrites++;
    if (this.armed.kind !== 'terminal-kill' || this.trace.journalWrites !== this.armed.at) return false;
    this.trace.fired = true;
    return true;
  }
}
