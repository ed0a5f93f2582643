// The payee's side of protocol version 2 (docs/protocol.md §4.5) as the terminal runs it: giving up
// a pending credit that no flow of this terminal can settle (RELEASE CREDIT) and taking the release
// proof to the payer (REFUND DEBIT), whenever and wherever the payer is presented. The proof is
// journaled ('released', with everything a delivering party needs) before REFUND DEBIT is sent; the
// flow closes 'refunded' once the payer took it. When to release is argued in docs/journal.md.
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { isTerminalError } from '../../../protocol/errors.js';
import { LOG_CAPACITY, RECORD_STATUS } from '../../../protocol/settlement/commands.js';
import type { TransactionRecord } from '../../../protocol/settlement/settlement-client.js';
import { SW } from '../../../protocol/status-words.js';
import type { CardSession } from './card-session.js';
import { TRANSFER_STEP, type TransferRecord } from './transfer-record.js';

/** What recovery writes with: one flow's recorder. */
export type StepWriter = (step: string, payload?: Record<string, unknown>) => unknown;

/**
 * Whether the terminal releases this flow's pending credit now that its payer is not here and the
 * journal holds neither the reception challenge (to credit) nor the abort proof (to cancel): a record
 * found on the card, which this terminal never ran and cannot complete, always; a flow of its own only
 * when the payee's credit log is full, since its payer may still come back to complete it.
 */
export function releaseWhilePayerAbsent(r: TransferRecord, payee: CardSession): boolean {
  return r.origin === 'found-on-card' || payee.info.pendingCredits >= LOG_CAPACITY;
}

/**
 * RELEASE CREDIT of the payee's pending record of this flow, journaled 'released' with the payee's
 * reception random and release proof. RELEASE CREDIT answers the same proof when repeated, so a
 * release whose answer was lost is simply asked again.
 */
export async function releaseCredit(
  payee: CardSession,
  pending: TransactionRecord,
  record: StepWriter,
): Promise<string> {
  const releaseProof = toHex(await payee.client.releaseCredit(pending.txRandom));
  record(TRANSFER_STEP.RELEASED, {
    txRandom: toHex(pending.txRandom),
    rxRandom: toHex(pending.rxRandom),
    releaseProof,
    payeeSettled: true,
  });
  return releaseProof;
}

/** A payee's record that is this flow's released credit: the proof to deliver is on it. */
export function journalReleasedRecord(released: TransactionRecord, record: StepWriter): void {
  record(TRANSFER_STEP.RELEASED, {
    txRandom: toHex(released.txRandom),
    rxRandom: toHex(released.rxRandom),
    releaseProof: toHex(released.proof),
    payeeSettled: true,
  });
}

export type DeliveryResult = 'refunded' | 'nothing-to-refund' | 'waiting-for-payer';

/**
 * Takes the journaled release proof to the payer (REFUND DEBIT): an open debit is aborted, a debited
 * one of the same reception random refunded; REFUND DEBIT answers 9000 again for a record it already
 * settled that way, so a delivery whose answer was lost is simply sent again. A payer record the proof
 * cannot settle (none, another reception random: the release of a replayed credit, §4.3) ends the
 * flow with nothing to refund, and so does one already settled under a transfer key retired since
 * (6984: closeSettledUnderRetiredKey). A proof the payer refuses (6982) is read again from the payee's record
 * if it is here (the journaled copy was damaged on its way); otherwise the refusal is thrown and the
 * delivery stays pending, unless the proof came from outside ('delivered'): then it is not genuine,
 * and the flow ends without value moved.
 */
export async function deliverRelease(
  r: TransferRecord,
  payer: CardSession | undefined,
  payee: CardSession | undefined,
  record: StepWriter,
): Promise<DeliveryResult> {
  if (!payer) return 'waiting-for-payer';
  const tx = fromHex(r.txRandom!);
  const debit = await recordOrUndefined(payer, tx);
  if (!debit || !settlesWithRelease(debit, r)) {
    record(TRANSFER_STEP.ROLLED_BACK, {
      reason: 'the payer holds no debit this release proof settles',
      payerSettled: true,
    });
    return 'nothing-to-refund';
  }
  const send = (proof: string) => payer.client.refundDebit(tx, fromHex(r.rxRandom!), fromHex(proof));
  try {
    await send(r.releaseProof!);
  } catch (e) {
    if (!isTerminalError(e, 'E_CARD_STATUS')) throw e;
    if (e.details.sw === SW.REFERENCE_DATA_NOT_USABLE) {
      const settled = closeSettledUnderRetiredKey(r, debit, record);
      if (settled) return settled;
    }
    if (e.details.sw !== SW.SECURITY_STATUS_NOT_SATISFIED) throw e;
    const onPayee = payee ? await recordOrUndefined(payee, tx) : undefined;
    const fresh =
      onPayee?.status === RECORD_STATUS.CREDIT_RELEASED && toHex(onPayee.rxRandom) === r.rxRandom
        ? toHex(onPayee.proof)
        : undefined;
    if (fresh && fresh !== r.releaseProof) {
      record(TRANSFER_STEP.RELEASED, { releaseProof: fresh, correctedFromCard: true });
      await send(fresh);
    } else if (r.origin === 'delivered') {
      record(TRANSFER_STEP.REFUSED, {
        code: e.code,
        sw: e.details.sw,
        slot: payer.slot,
        message: 'the payer refused the delivered release proof: it is not genuine',
      });
      return 'nothing-to-refund';
    } else throw e;
  }
  record(TRANSFER_STEP.REFUNDED, { payerSettled: true });
  return 'refunded';
}

/**
 * REFUND DEBIT answered 6984: the payer's record is settled and the transfer key it was made under is
 * retired since (§4.5), so the card can no longer check a proof of it. What the delivery would have
 * done, the record already says: refunded by this very proof (the card keeps the proof it took), or
 * aborted (the payer never debited). Either way nothing is left to deliver, and the flow closes with
 * the answer journaled; the proof would be refused the same way at every later presentation. A record
 * the card still holds unsettled keeps its key, so 6984 there is not an honest answer: undefined, and
 * the refusal is thrown.
 */
function closeSettledUnderRetiredKey(
  r: TransferRecord,
  debit: TransactionRecord,
  record: StepWriter,
): DeliveryResult | undefined {
  const answer = { sw: SW.REFERENCE_DATA_NOT_USABLE, payerSettled: true };
  if (debit.status === RECORD_STATUS.DEBIT_REFUNDED && toHex(debit.proof) === r.releaseProof) {
    record(TRANSFER_STEP.REFUNDED, {
      ...answer,
      reason: 'the payer took this release proof before; its transfer key is retired since',
    });
    return 'refunded';
  }
  if (debit.status === RECORD_STATUS.DEBIT_ABORTED || debit.status === RECORD_STATUS.DEBIT_REFUNDED) {
    record(TRANSFER_STEP.ROLLED_BACK, {
      ...answer,
      reason: `the payer's record is settled (${debit.status === RECORD_STATUS.DEBIT_ABORTED ? 'aborted' : 'refunded'}) under a retired transfer key: this proof settles nothing there`,
    });
    return 'nothing-to-refund';
  }
  return undefined;
}

/** Whether REFUND DEBIT with this flow's proof settles the payer's record (§4.5's table). */
export function settlesWithRelease(
  debit: TransactionRecord,
  r: Pick<TransferRecord, 'payeeId' | 'amount' | 'currency' | 'date' | 'rxRandom'>,
): boolean {
  if (debit.role !== 'debit' || toHex(debit.counterpartId) !== r.payeeId) return false;
  if (debit.amount !== r.amount || debit.currency !== r.currency || debit.date !== r.date) return false;
  switch (debit.status) {
    case RECORD_STATUS.DEBIT_OPEN:
    case RECORD_STATUS.DEBIT_ABORTED:
      return true;
    case RECORD_STATUS.DEBIT_DEBITED:
    case RECORD_STATUS.DEBIT_REFUNDED:
      return toHex(debit.rxRandom) === r.rxRandom;
    default:
      return false;
  }
}

export async function recordOrUndefined(
  card: CardSession,
  txRandom: Uint8Array,
): Promise<TransactionRecord | undefined> {
  try {
    return await card.client.transactionStatus(txRandom);
  } catch (e) {
    if (isTerminalError(e, 'E_CARD_STATUS') && e.details.sw === SW.REFERENCED_DATA_NOT_FOUND)
      return undefined;
    throw e;
  }
}
