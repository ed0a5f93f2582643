// Terminal steps S2001–S2004 of seed 002 Fig. 4 plus the acknowledgement, each card answer
// journaled before the next command goes out. Card refusals are rolled back on the spot; transport
// failures propagate to the engine, which journals the interruption and runs recovery.
import { toHex } from '../../../protocol/bytes.js';
import { isTerminalError, TerminalError } from '../../../protocol/errors.js';
import type { DebitStart } from '../../../protocol/settlement/settlement-client.js';
import { SW } from '../../../protocol/status-words.js';
import type { CardSession } from './card-session.js';
import type { FlowRecorder } from './flow-recorder.js';
import { TRANSFER_STEP } from './transfer-record.js';

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
    if (isTerminalError(e, 'E_CARD_STATUS')) record(TRANSFER_STEP.REFUSED, refusal(e, 'payer'));
    throw purseError(e);
  }
  const txRandom = debitStart.txRandom;
  record(TRANSFER_STEP.DEBIT_INITIATED, { txRandom: toHex(txRandom) });

  let credit: { rxRandom: Uint8Array; challenge: Uint8Array };
  try {
    credit = await payee.client.initiateCredit(request(payer), debitStart);
  } catch (e) {
    if (isTerminalError(e, 'E_CARD_STATUS')) {
      // The payee holds no record; the payer's open debit is abandoned.
      const abortProof = await payer.client.abortDebit(txRandom);
      record(TRANSFER_STEP.ABORTED, {
        abortProof: toHex(abortProof),
        payeeSettled: true,
        payerSettled: true,
      });
      record(TRANSFER_STEP.ROLLED_BACK, refusal(e, 'payee'));
    }
    throw purseError(e);
  }
  record(TRANSFER_STEP.CREDIT_INITIATED, {
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
      record(TRANSFER_STEP.ROLLED_BACK, { ...refusal(e, 'payer'), payeeSettled: true });
    }
    throw purseError(e);
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

/** The purse status words become the operator's error codes. */
export function purseError(e: unknown): unknown {
  if (!isTerminalError(e, 'E_CARD_STATUS')) return e;
  if (e.details.sw === SW.INSUFFICIENT_FUNDS) {
    return new TerminalError(
      'E_INSUFFICIENT_FUNDS',
      'the payer card does not hold enough for this amount',
      e.details,
    );
  }
  if (e.details.sw === SW.MAXIMUM_BALANCE_EXCEEDED) {
    return new TerminalError('E_BALANCE_LIMIT', 'the payee card would exceed its maximum balance', e.details);
  }
  if (e.details.sw === SW.CARDHOLDER_VERIFICATION_REQUIRED) {
    return new TerminalError(
      'E_PIN_REQUIRED',
      'the payer card needs its holder’s PIN for this amount: verify the PIN and pay again',
      e.details,
    );
  }
  if (e.details.sw === SW.AUTH_METHOD_BLOCKED) {
    return new TerminalError(
      'E_PIN_BLOCKED',
      'the payer card needs its PIN for this amount, and the PIN is blocked',
      e.details,
    );
  }
  return e;
}
