// What one campaign case does: an operation on the two cards in the readers, and one fault injected
// at a random point of it. Points are fractions of the operation's length, resolved against the
// longest run of that operation seen so far (APDUs, card writes or journal writes), so a plan does
// not depend on which key-update route the cards happen to need.
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { caseSeed, SeededRandom } from './seeded-random.js';

export const OPERATION_KINDS = ['transfer', 'key-update', 'content-send', 'content-exchange'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export const FAULT_KINDS = [
  'none',
  /** Power cut at the j-th persistent write of either card, before it lands (tearing). */
  'tear-before-write',
  /** Power cut right after the j-th persistent write landed, before the card answers. */
  'tear-after-write',
  /** The card is pulled before it executes the k-th APDU. */
  'pull-before',
  /** The card executes the k-th APDU and is pulled before its answer leaves. */
  'pull-after',
  /** The k-th APDU never reaches the card: the reader's waiting time runs out. */
  'timeout-before',
  /** The card executes the k-th APDU but its answer is lost: the waiting time runs out. */
  'timeout-after',
  /** pcscd is restarted while the k-th APDU is on its way (every card session is lost). */
  'pcscd-restart',
  /** The terminal process is SIGKILLed right after its w-th journal write, and started again. */
  'terminal-kill',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What each fault's position counts. */
export const FAULT_UNIT: Record<FaultKind, 'apdu' | 'card-write' | 'journal-write' | 'none'> = {
  none: 'none',
  'tear-before-write': 'card-write',
  'tear-after-write': 'card-write',
  'pull-before': 'apdu',
  'pull-after': 'apdu',
  'timeout-before': 'apdu',
  'timeout-after': 'apdu',
  'pcscd-restart': 'apdu',
  'terminal-kill': 'journal-write',
};

export interface CasePlan {
  index: number;
  seed: number;
  operation: OperationKind;
  fault: FaultKind;
  /** Where the fault lands, as a fraction (0, 1] of the operation's length in FAULT_UNIT[fault]. */
  faultPoint: number;
  /** Amount in minor units for transfers and exchanges, as a fraction of the payer's balance. */
  amountShare: number;
  /** Ask for more than the payer holds (the refusal path). */
  overdraw: boolean;
  /** Put another pair of cards into the readers first (and which roles). */
  swap: { payer: number; payee: number } | undefined;
  /** Retire a card out of the readers (the campaign picks which) and issue a fresh one with older keys. */
  reissue: boolean;
  /** Which slot sends in a content transmission. */
  sender: SlotName;
  /** A hostile terminal visits two cards first (adversary-case.ts), with this many commands. */
  adversary: { steps: number } | undefined;
}

export interface PlanOptions {
  faults: readonly FaultKind[];
  activeCards: number;
  /** Chance of a card swap per case (cheap in memory, ~1 s per card on pcscd). */
  swapChance: number;
  reissueChance: number;
  /** Chance that a hostile terminal visits two cards before the operation (0 = never). */
  adversaryChance?: number;
}

export function planCase(campaignSeed: number, index: number, o: PlanOptions): CasePlan {
  const seed = caseSeed(campaignSeed, index);
  const r = new SeededRandom(seed);
  const operation = r.weighted<OperationKind>([
    ['transfer', 5],
    ['key-update', 2],
    ['content-send', 2],
    ['content-exchange', 3],
  ]);
  const fault = r.weighted<FaultKind>(o.faults.map((f) => [f, f === 'none' ? 1 : 2] as const));
  const faultPoint = (r.int(1, 1_000_000) / 1_000_000) as number;
  const amountShare = r.int(1, 100) / 1000;
  const overdraw = r.chance(0.03);
  let swap: CasePlan['swap'];
  if (r.chance(o.swapChance)) {
    const payer = r.int(0, o.activeCards - 1);
    let payee = r.int(0, o.activeCards - 2);
    if (payee >= payer) payee++;
    swap = { payer, payee };
  }
  const reissue = r.chance(o.reissueChance);
  const sender = r.pick<SlotName>(['payer', 'payee']);
  // Drawn last: plans of a campaign without the adversary are what they were before it existed.
  const adversary = r.chance(o.adversaryChance ?? 0) ? { steps: r.int(1, 10) } : undefined;
  return {
    index,
    seed,
    operation,
    fault,
    faultPoint,
    amountShare,
    overdraw,
    swap,
    reissue,
    sender,
    adversary,
  };
}
