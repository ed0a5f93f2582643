// Recovery of one interrupted value transfer (docs/protocol.md §4.4), driven by what the cards
// say, with the journal supplying identities and proofs. Each action is one the cards accept at
// most once, so running recovery again, or after a crash in the middle of it, is always safe.
// Releases and their delivery (protocol §4.5) are in release-delivery.ts.
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { isTerminalError } from '../../../protocol/errors.js';
import { RECORD_STATUS } from '../../../protocol/settlement/commands.js';
import type { TransactionRecord } from '../../../protocol/settlement/settlement-client.js';
import { SW } from '../../../protocol/status-words.js';
import type { CardSession } from './card-session.js';
import type { FlowRecorder } from './flow-recorder.js';
import {
  type DeliveryResult,
  deliverRelease,
  journalReleasedRecord,
  releaseCredit,
  releaseWhilePayerAbsent,
  type StepWriter,
  recordOrUndefined as statusOrUndefined,
} from './release-delivery.js';
import { foldTransfer, isClosedStep, TRANSFER_STEP, type TransferRecord } from './transfer-record.js';

export type RecoveryOutcome = 'completed' | 'rolled-back' | 'waiting-for-payer' | 'waiting-for-payee';

/** What recovery needs of the journal: one flow's entries, and a way to append to it. */
export type FlowJournal = Pick<FlowRecorder, 'record' | 'entries'>;

export async function recoverTransfer(
  recorder: FlowJournal,
  flowId: string,
  cards: Map<string, CardSession>,
): Promise<RecoveryOutcome> {
  const record: StepWriter = (step, payload = {}) => recorder.record(flowId, 'value-transfer', step, payload);
  const fold = () => foldTransfer(recorder.entries(flowId));
  let r = fold();
  if (isClosedStep(r.lastStep)) return r.lastStep === TRANSFER_STEP.COMPLETED ? 'completed' : 'rolled-back';
  const payer = cards.get(r.payerId);
  const payee = cards.get(r.payeeId);

  // 0. A release proof is journaled: it only waits for the payer.
  if (r.releaseProof) return afterDelivery(await deliverRelease(r, payer, payee, record));

  // 1. Learn the payer's side unless the journal already holds its proof.
  if (!r.receptionChallenge && !r.abortProof && !r.ack) {
    if (!payer) {
      // Neither proof to credit or cancel with: the payee's pending credit waits for the payer,
      // unless it cannot (release-delivery.ts: a record found on the card, or a full credit log).
      const pending = payee && r.txRandom ? await pendingCreditOf(payee, r) : undefined;
      if (pending && releaseWhilePayerAbsent(r, payee!)) await releaseCredit(payee!, pending, record);
      return 'waiting-for-payer';
    }
    let onCard = await payerRecord(payer, r);
    if (r.txRandom && !(onCard && isPayerRecordOf(onCard, r))) {
      // The payer answered INITIATE DEBIT with a random that is not its record of this flow (an
      // earlier answer replayed, or one corrupted on its way). Taking that record's proofs would
      // report another transfer's value as this one's; no DEBIT of this flow can have reached it.
      // The debit the card did open is found by its terms, as if no random had been journaled.
      onCard = await openDebitByTerms(payer, r);
    }
    if (!onCard) {
      // Nothing was debited for it. A pending credit of it (a replayed INITIATE CREDIT's, §4.3, or a
      // record found on the card) can never be credited: the payee gives it up, nothing to deliver.
      const pending = payee && r.txRandom ? await pendingCreditOf(payee, r) : undefined;
      const releaseProof = pending ? toHex(await payee!.client.releaseCredit(pending.txRandom)) : undefined;
      record(TRANSFER_STEP.ROLLED_BACK, {
        reason: 'the payer holds no debit of this transfer',
        ...(releaseProof ? { releaseProof } : {}),
        payerSettled: true,
        payeeSettled: true,
      });
      return 'rolled-back';
    }
    const txRandom = toHex(onCard.txRandom);
    if (onCard.status === RECORD_STATUS.DEBIT_REFUNDED) {
      // The payee released its credit and the payer has taken the release proof back: nothing moved.
      journalReleasedRecord(onCard, record);
      record(TRANSFER_STEP.REFUNDED, { payerSettled: true });
      return 'rolled-back';
    }
    if (onCard.status === RECORD_STATUS.DEBIT_OPEN || onCard.status === RECORD_STATUS.DEBIT_ABORTED) {
      const proof =
        onCard.status === RECORD_STATUS.DEBIT_OPEN
          ? await payer.client.abortDebit(onCard.txRandom)
          : onCard.proof;
      record(TRANSFER_STEP.ABORTED, { txRandom, abortProof: toHex(proof), payerSettled: true });
    } else {
      record(TRANSFER_STEP.DEBITED, {
        txRandom,
        rxRandom: toHex(onCard.rxRandom),
        receptionChallenge: toHex(onCard.proof),
        payerSettled: onCard.status === RECORD_STATUS.DEBIT_ACKNOWLEDGED || undefined,
      });
    }
    r = foldTransfer(recorder.entries(flowId));
  }

  // 2. Bring the payee in line: credit on the reception challenge, or cancel on the abort proof.
  if (!r.payeeSettled) {
    // With an abort proof the value is already safe; the payee's pending credit waits for that card.
    // A payer that took a release proof at another terminal, or from one delivered here in another
    // flow (the issuer host's), has its value back, and one acknowledged by another terminal was
    // credited: its record says so (settledAtPayer).
    if (!payee) return (payer && (await settledAtPayer(payer, r, record))) ?? 'waiting-for-payee';
    const tx = fromHex(r.txRandom!);
    const found = await statusOrUndefined(payee, tx);
    // A record of another transaction under this random (a card's answer replayed) is no record of ours.
    const onCard = found && isPayeeRecordOf(found, r) ? found : undefined;
    if (r.abortProof) {
      if (onCard?.status === RECORD_STATUS.CREDIT_PENDING)
        await payee.client.cancelCredit(tx, fromHex(r.abortProof));
      record(TRANSFER_STEP.ROLLED_BACK, { payeeSettled: true });
      return 'rolled-back';
    }
    let ack: Uint8Array | undefined;
    if (onCard?.status === RECORD_STATUS.CREDIT_PENDING)
      ack = await withProofFromCard(
        (rc) => payee.client.credit(tx, rc),
        fromHex(r.receptionChallenge!),
        async () => {
          const debit = payer ? await statusOrUndefined(payer, tx) : undefined;
          const debited =
            debit?.status === RECORD_STATUS.DEBIT_DEBITED ||
            debit?.status === RECORD_STATUS.DEBIT_ACKNOWLEDGED;
          return debit && debited && isPayerRecordOf(debit, r) ? debit.proof : undefined;
        },
        (rc) => record(TRANSFER_STEP.DEBITED, { receptionChallenge: toHex(rc), correctedFromCard: true }),
      );
    else if (onCard?.status === RECORD_STATUS.CREDIT_CREDITED) {
      // An acknowledgement the payer already refused is no proof: nothing is journaled or sent again.
      if (toHex(onCard.proof) === r.refusedAck) return 'waiting-for-payee';
      ack = onCard.proof;
    } else if (onCard?.status === RECORD_STATUS.CREDIT_RELEASED) {
      // The payee released it (anyone can, §4.5): it will never credit; the payer gets its value back.
      journalReleasedRecord(onCard, record);
      return afterDelivery(await deliverRelease(fold(), payer, payee, record));
    }
    // The payee's record evicted or unknown: the payer's record may still say how it ended (credited,
    // when another terminal took the acknowledgement to it); else left for the issuer, shown in doubt.
    if (!ack) return (payer && (await settledAtPayer(payer, r, record))) ?? 'waiting-for-payee';
    record(TRANSFER_STEP.CREDITED, { ack: toHex(ack), payeeSettled: true });
    r = foldTransfer(recorder.entries(flowId));
  }

  // 3. Let the payer settle its debit record (housekeeping: the value is already delivered).
  if (r.ack && !r.payerSettled && payer) {
    const tx = fromHex(r.txRandom!);
    const onCard = await statusOrUndefined(payer, tx);
    if (onCard?.status === RECORD_STATUS.DEBIT_DEBITED && isPayerRecordOf(onCard, r)) {
      try {
        await withProofFromCard(
          (ack) => payer.client.acknowledgeDebit(tx, ack),
          fromHex(r.ack),
          async () => {
            const credit = payee ? await statusOrUndefined(payee, tx) : undefined;
            return credit?.status === RECORD_STATUS.CREDIT_CREDITED && isPayeeRecordOf(credit, r)
              ? credit.proof
              : undefined;
          },
          (ack) => record(TRANSFER_STEP.CREDITED, { ack: toHex(ack), correctedFromCard: true }),
        );
      } catch (e) {
        if (!isTerminalError(e, 'E_CARD_STATUS') || e.details.sw !== SW.SECURITY_STATUS_NOT_SATISFIED)
          throw e;
        // The payer verified the acknowledgement, as read from the payee's record too, and refused it:
        // the payee's record is not genuine. Nothing changed on the payer; the value is in doubt again
        // (the issuer, who holds the transfer key, can tell), and that acknowledgement is never sent again.
        record(TRANSFER_STEP.ACK_REFUSED, {
          refusedAck: fold().ack,
          code: e.code,
          sw: e.details.sw,
          slot: payer.slot,
          message: 'the payer refused the payee’s acknowledgement: it is not genuine',
        });
        return 'waiting-for-payee';
      }
    }
    record(TRANSFER_STEP.COMPLETED, { payerSettled: true });
    return 'completed';
  }
  if (r.ack && r.payerSettled) {
    record(TRANSFER_STEP.COMPLETED, {});
    return 'completed';
  }
  return r.ack ? 'waiting-for-payer' : 'waiting-for-payee';
}

function afterDelivery(result: DeliveryResult): RecoveryOutcome {
  return result === 'waiting-for-payer' ? 'waiting-for-payer' : 'rolled-back';
}

/** The payee's pending credit of this flow, if it holds one. */
async function pendingCreditOf(
  payee: CardSession,
  r: TransferRecord,
): Promise<TransactionRecord | undefined> {
  const found = await statusOrUndefined(payee, fromHex(r.txRandom!));
  return found?.status === RECORD_STATUS.CREDIT_PENDING && isPayeeRecordOf(found, r) ? found : undefined;
}

/**
 * What the payer's record of this transfer says when the payee cannot: refunded (REFUND DEBIT took a
 * release proof, here or at another terminal) closes the flow rolled back; acknowledged with this
 * flow's reception random closes it completed, since the payer takes only a genuine acknowledgement of
 * that very credit (§4.4: the value is on the payee), though the payee's record of it may be evicted
 * by now and the acknowledgement itself was journaled by whichever terminal sent it. Undefined when
 * the payer's record settles nothing yet.
 */
async function settledAtPayer(
  payer: CardSession,
  r: TransferRecord,
  record: StepWriter,
): Promise<RecoveryOutcome | undefined> {
  if (!r.txRandom || r.rxRandom === undefined) return undefined;
  const onCard = await statusOrUndefined(payer, fromHex(r.txRandom));
  if (!onCard || !isPayerRecordOf(onCard, r)) return undefined;
  if (onCard.status === RECORD_STATUS.DEBIT_REFUNDED) {
    journalReleasedRecord(onCard, record);
    record(TRANSFER_STEP.REFUNDED, { payerSettled: true });
    return 'rolled-back';
  }
  if (onCard.status === RECORD_STATUS.DEBIT_ACKNOWLEDGED) {
    record(TRANSFER_STEP.COMPLETED, {
      payerSettled: true,
      payeeSettled: true,
      reason: "the payer acknowledged this credit; the payee's record of it is gone",
    });
    return 'completed';
  }
  return undefined;
}

/** The payer's record of this transfer: by transmission random, or found among its unsettled records. */
async function payerRecord(payer: CardSession, r: TransferRecord): Promise<TransactionRecord | undefined> {
  if (r.txRandom) return statusOrUndefined(payer, fromHex(r.txRandom));
  // The terminal stopped before journaling the random: match the open debit by its terms.
  return openDebitByTerms(payer, r);
}

/**
 * The payer's open debit with this flow's terms. Only an open one: without a random of its own
 * journaled this flow sent no DEBIT, and a debited record with the same terms is another transfer's.
 * (A card holds one open debit at a time; aborting one is always safe: nothing was debited.)
 */
async function openDebitByTerms(
  payer: CardSession,
  r: TransferRecord,
): Promise<TransactionRecord | undefined> {
  const unsettled = await payer.client.unsettledTransactions();
  return unsettled.find((u) => u.status === RECORD_STATUS.DEBIT_OPEN && isPayerRecordOf(u, r));
}

/**
 * Whether a payer's record is this flow's debit: same terms, and, once debited, the reception random
 * of this flow's INITIATE CREDIT (journaled before any DEBIT is sent), so never a record whose random
 * a card answered twice.
 */
function isPayerRecordOf(u: TransactionRecord, r: TransferRecord): boolean {
  if (u.role !== 'debit' || toHex(u.counterpartId) !== r.payeeId || !sameTerms(u, r)) return false;
  if (u.status === RECORD_STATUS.DEBIT_OPEN || u.status === RECORD_STATUS.DEBIT_ABORTED) return true;
  return r.rxRandom !== undefined && toHex(u.rxRandom) === r.rxRandom;
}

/** Whether a payee's record is this flow's credit (same terms; the same reception random once known). */
function isPayeeRecordOf(u: TransactionRecord, r: TransferRecord): boolean {
  if (u.role !== 'credit' || toHex(u.counterpartId) !== r.payerId || !sameTerms(u, r)) return false;
  return r.rxRandom === undefined || toHex(u.rxRandom) === r.rxRandom;
}

function sameTerms(u: TransactionRecord, r: TransferRecord): boolean {
  return u.amount === r.amount && u.date === r.date && u.currency === r.currency;
}

/**
 * Sends a proof copied into the journal from a card's answer; if the other card refuses it (6982),
 * the answer was corrupted on its way or the card lied, and the card that made the proof still holds
 * it in its record: the proof is read from there, journaled, and sent once more. Without this, one
 * bad answer would leave the transfer open for ever although both cards could finish it.
 */
async function withProofFromCard<T>(
  send: (proof: Uint8Array) => Promise<T>,
  journaled: Uint8Array,
  fromCard: () => Promise<Uint8Array | undefined>,
  journal: (proof: Uint8Array) => void,
): Promise<T> {
  try {
    return await send(journaled);
  } catch (e) {
    if (!isTerminalError(e, 'E_CARD_STATUS') || e.details.sw !== SW.SECURITY_STATUS_NOT_SATISFIED) throw e;
    const proof = await fromCard();
    if (!proof || toHex(proof) === toHex(journaled)) throw e;
    journal(proof);
    return send(proof);
  }
}
