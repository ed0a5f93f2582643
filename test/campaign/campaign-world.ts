// What a campaign needs of the place it runs in: cards that can be put into the two readers, the
// terminal (its real services), and faults it can inject. Two worlds implement it: in this process
// over simulated reader slots (fast, for long soaks) and over a real pcscd with vpcd readers.
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import type { TerminalServices } from '../../electron/services/terminal-services.js';
import type { FaultKind } from './case-plan.js';
import type { Operation } from './operations.js';

export interface WorldCard {
  label: string;
  holderId: string;
  retired: boolean;
  /** The card's persistent memory, decoded and validated by the applet's own schema (throws if invalid). */
  state(): SettlementState;
  /** The card's persistent memory as stored (undefined: empty): what state() decodes. */
  memoryImage(): string | undefined;
  /** The last APDUs honest terminals sent it (a hostile terminal replays them). */
  readonly recorded: readonly Uint8Array[];
  /** Sets its persistent memory, as a hostile terminal left it; read at the next power-up. */
  overwrite(state: SettlementState): void;
}

/** A fault resolved to a position: the `at`-th APDU, card write or journal write of the operation. */
export interface ArmedFault {
  kind: FaultKind;
  at: number;
}

/** How long the operation was, in each unit; and whether the fault fired. */
export interface OperationTrace {
  apdus: number;
  cardWrites: number;
  journalWrites: number;
  fired: boolean;
}

export interface OperationRun {
  /** What the terminal answered; undefined if it threw or was killed. */
  outcome: unknown;
  /** What it threw, if it did (typed TerminalErrors are expected under faults). */
  thrown?: unknown;
  /** The terminal process was killed during the operation (it has been started again since). */
  killed: boolean;
  trace: OperationTrace;
}

export interface CampaignWorld {
  readonly tier: 'memory' | 'pcscd';
  /** The fault kinds this world can inject. */
  readonly faults: readonly FaultKind[];
  readonly pin: string;
  /** Every card ever issued in this world, retired ones included (value may still sit on them). */
  cards(): WorldCard[];
  active(): WorldCard[];
  placed(): Record<SlotName, WorldCard>;
  /** Puts these cards into the readers (pulling whatever was there). */
  place(payer: WorldCard, payee: WorldCard): Promise<void>;
  /** Retires `card` (it keeps its value, out of the readers) and issues a fresh one in its place. */
  reissue(card: WorldCard): Promise<WorldCard>;
  /** The running terminal's services. */
  terminal(): TerminalServices;
  /** Runs the operation with the fault armed, then heals: faults cleared, pulled cards put back, a killed terminal restarted. */
  run(operation: Operation, fault: ArmedFault): Promise<OperationRun>;
  /**
   * The issuer's transfer key of this ID (hex): the adversary campaign names the MACs the cards issue
   * with it, to check the proof invariants; the hostile terminal itself never holds a key.
   */
  transferKey(id: number): string | undefined;
  /** Issues a content item (a ticket) to the card in `slot` under a create right. */
  issueItem(slot: SlotName, label: string): Promise<string>;
  close(): Promise<void>;
}
