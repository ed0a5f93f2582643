// Terminal steps S2001–S2004 of seed 002 Fig. 4 plus the acknowledgement, each card answer
// journaled before the next command goes out. Card refusals are rolled back on the spot; transport
// failures propagate to the engine, which journals the interruption and runs recovery. `payer` and
// `payee` are the roles (the card debited, the card credited); a refusal names the slot a card is in.

import type { FlowFacts } from '../../../db/journal.js';
import { toHex } from '../../../protocol/bytes.js';
import { cardRefusal } from '../../../protocol/card-refusal.js';
import { isTerminalError, type TerminalError } from '../../../protocol/errors.js';
import type { DebitStart } from '../../../protocol/settlement/settlement-client.js';
import type { SlotName } from '../slots/reader-slots.js';
import type { CardSession } from './card-session.js';
import type { FlowRecorder } from './flow-recorder.js';
import { TRANSFER_STEP } from './transfer-record.js';

/** A value transfer to run: how much, and which slot's card pays. */
/** What the caller knows of a flow that the cards do not (issue 11: operators, refunds). */
export type CallerFacts = Pick<FlowFacts, 'operatorId' | 'refundOf' | 'direction'>;

export interface TransferRequest {
  amount: number;
  /**
   * The slot whose card pays (default 'payer'). A refund pays from the shop's card in the payee slot
   * back to the customer's in the payer slot: the cards stay where they are, only the roles turn.
   */
  from?: SlotName;
  /**
   * Runs inside the engine's lock once both cards are read and what was left open between them is
   * recovered, before any key update and before the flow is journaled: it throws to refuse (nothing
   * journaled, nothing sent to a card) and returns fields the 'started' entry adds (a refund's
   * refundOf). Checks that must not race a second operation (what is left to refund) belong here.
   */
  admit?: (parties: { payerId: string; payeeId: string; amount: number }) => Record<string, unknown>;
  /** What the caller knows of the flow for the log's index (db/flow-facts.ts): operator, direction. */
  facts?: CallerFacts;
}

export interface TransferTerms {
  amount: number;
  currency: number;
  /** Unix seconds: the transaction date of the seed. */
  date: number;
}

export async function runValueTransfer(
  recorder: FlowRecorder,
  flowId: string,
  payer: CardSession,
  payee: CardSession,
  terms: TransferTerms,
): Promise<void> {
  const record = (step: string, payload: Record<string, unknown> = {}) =>
    recorder.record(flowId, 'value-transfer', step, payload);
  const request = (counterpart: CardSession) => ({ counterpartId: counterpart.info.holderId, ...terms });

  let debitStart: DebitStart;
  try {
    debitStart = await payer.client.initiateDebit(request(payee));
  } catch (e) {
    if (isTerminalError(e, 'E_CARD_STATUS')) record(TRANSFER_STEP.REFUSED, refusal(e, payer.slot));
    throw refusedBy(e, payer.slot);
  }
  const txRandom = debitStart.txRandom;
  // No entry between INITIATE DEBIT and INITIATE CREDIT: until DEBIT is sent nothing can move, and
  // recovery finds an open debit by its terms (docs/journal.md). The random goes with the next entry.

  let credit: { rxRandom: Uint8Array; challenge: Uint8Array };
  try {
    credit = await payee.client.initiateCredit(request(payer), debitStart);
  } catch (e) {
    if (isTerminalError(e, 'E_CARD_STATUS')) {
      // The payee holds no record; the payer's open debit is abandoned.
      const abortProof = await payer.client.abortDebit(txRandom);
      record(TRANSFER_STEP.ABORTED, {
        txRandom: toHex(txRandom),
        abortProof: toHex(abortProof),
        payeeSettled: true,
        payerSettled: true,
      });
      record(TRANSFER_STEP.ROLLED_BACK, refusal(e, payee.slot));
    }
    throw refusedBy(e, payee.slot);
  }
  record(TRANSFER_STEP.CREDIT_INITIATED, {
    txRandom: toHex(txRandom),
    rxRandom: toHex(credit.rxRandom),
    challenge: toHex(credit.challenge),
  });

  let receptionChallenge: Uint8Array;
  try {
    receptionChallenge = await payer.client.debit(txRandom, credit.rxRandom, credit.challenge);
  } catch (e) {
    if (isTerminalError(e, 'E_CARD_STATUS')) {
      // The payer refused to debit; it proves it never will, and the payee drops its pending credit.
      const abortProof = await payer.client.abortDebit(txRandom);
      record(TRANSFER_STEP.ABORTED, { abortProof: toHex(abortProof), payerSettled: true });
      await payee.client.cancelCredit(txRandom, abortProof);
      record(TRANSFER_STEP.ROLLED_BACK, { ...refusal(e, payer.slot), payeeSettled: true });
    }
    throw refusedBy(e, payer.slot);
  }
  record(TRANSFER_STEP.DEBITED, { receptionChallenge: toHex(receptionChallenge) });

  const ack = await payee.client.credit(txRandom, receptionChallenge);
  record(TRANSFER_STEP.CREDITED, { ack: toHex(ack), payeeSettled: true });

  await payer.client.acknowledgeDebit(txRandom, ack);
  record(TRANSFER_STEP.COMPLETED, { payerSettled: true });
}

function refusal(e: TerminalError, slot: 'payer' | 'payee'): Record<string, unknown> {
  return { code: e.code, sw: e.details.sw, slot, message: e.message };
}

/** A card's refusal as the operator's error (purse status words: E_INSUFFICIENT_FUNDS, E_BALANCE_LIMIT). */
function refusedBy(e: unknown, slot: 'payer' | 'payee'): unknown {
  return isTerminalError(e) ? cardRefusal(e, { slot }) : e;
}

/** The cards in their roles: [payer, payee] when the card in `from` pays. */
export function roles(bySlot: Record<SlotName, CardSession>, from: SlotName): [CardSession, CardSession] {
  return from === 'payer' ? [bySlot.payer, bySlot.payee] : [bySlot.payee, bySlot.payer];
}
