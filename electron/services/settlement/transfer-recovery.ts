// Recovery of one interrupted value transfer (docs/protocol.md §4.4), driven by what the cards
// say, with the journal supplying identities and proofs. Each action is one the cards accept at
// most once, so running recovery again, or after a crash in the middle of it, is always safe.
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { isTerminalError } from '../../../protocol/errors.js';
import { RECORD_STATUS } from '../../../protocol/settlement/commands.js';
import type { TransactionRecord } from '../../../protocol/settlement/settlement-client.js';
import { SW } from '../../../protocol/status-words.js';
import type { CardSession } from './card-session.js';
import type { FlowRecorder } from './flow-recorder.js';
import { foldTransfer, TRANSFER_STEP, type TransferRecord } from './transfer-record.js';

export type RecoveryOutcome = 'completed' | 'rolled-back' | 'waiting-for-payer' | 'waiting-for-payee';

export async function recoverTransfer(
  recorder: FlowRecorder,
  flowId: string,
  cards: Map<string, CardSession>,
): Promise<RecoveryOutcome> {
  const record = (step: string, payload: Record<string, unknown> = {}) =>
    recorder.record(flowId, 'value-transfer', step, payload);
  let r = foldTransfer(recorder.entries(flowId));
  if (isClosed(r)) return r.lastStep === TRANSFER_STEP.COMPLETED ? 'completed' : 'rolled-back';
  const payer = cards.get(r.payerId);
  const payee = cards.get(r.payeeId);

  // 1. Learn the payer's side unless the journal already holds its proof.
  if (!r.receptionChallenge && !r.abortProof && !r.ack) {
    if (!payer) return 'waiting-for-payer';
    const onCard = await payerRecord(payer, r);
    if (!onCard) {
      record(TRANSFER_STEP.ROLLED_BACK, {
        reason: 'the payer never started the debit',
        payerSettled: true,
        payeeSettled: true,
      });
      return 'rolled-back';
    }
    const txRandom = toHex(onCard.txRandom);
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
        ...(onCard.status === RECORD_STATUS.DEBIT_ACKNOWLEDGED ? { payerSettled: true } : {}),
      });
    }
    r = foldTransfer(recorder.entries(flowId));
  }

  // 2. Bring the payee in line: credit on the reception challenge, or cancel on the abort proof.
  if (!r.payeeSettled) {
    // With an abort proof the value is already safe; the payee's pending credit waits for that card.
    if (!payee) return 'waiting-for-payee';
    const tx = fromHex(r.txRandom!);
    const onCard = await statusOrUndefined(payee, tx);
    if (r.abortProof) {
      if (onCard?.status === RECORD_STATUS.CREDIT_PENDING)
        await payee.client.cancelCredit(tx, fromHex(r.abortProof));
      record(TRANSFER_STEP.ROLLED_BACK, { payeeSettled: true });
      return 'rolled-back';
    }
    let ack: Uint8Array | undefined;
    if (onCard?.status === RECORD_STATUS.CREDIT_PENDING)
      ack = await payee.client.credit(tx, fromHex(r.receptionChallenge!));
    else if (onCard?.status === RECORD_STATUS.CREDIT_CREDITED) ack = onCard.proof;
    if (!ack) return 'waiting-for-payee'; // record evicted or unknown: left for the issuer, shown in doubt
    record(TRANSFER_STEP.CREDITED, { ack: toHex(ack), payeeSettled: true });
    r = foldTransfer(recorder.entries(flowId));
  }

  // 3. Let the payer settle its debit record (housekeeping: the value is already delivered).
  if (r.ack && !r.payerSettled && payer) {
    const onCard = await statusOrUndefined(payer, fromHex(r.txRandom!));
    if (onCard?.status === RECORD_STATUS.DEBIT_DEBITED)
      await payer.client.acknowledgeDebit(fromHex(r.txRandom!), fromHex(r.ack));
    record(TRANSFER_STEP.COMPLETED, { payerSettled: true });
    return 'completed';
  }
  if (r.ack && r.payerSettled) {
    record(TRANSFER_STEP.COMPLETED, {});
    return 'completed';
  }
  return r.ack ? 'waiting-for-payer' : 'waiting-for-payee';
}

function isClosed(r: TransferRecord): boolean {
  return (
    r.lastStep === TRANSFER_STEP.COMPLETED ||
    r.lastStep === TRANSFER_STEP.ROLLED_BACK ||
    r.lastStep === TRANSFER_STEP.REFUSED
  );
}

/** The payer's record of this transfer: by transmission random, or found among its unsettled records. */
async function payerRecord(payer: CardSession, r: TransferRecord): Promise<TransactionRecord | undefined> {
  if (r.txRandom) return statusOrUndefined(payer, fromHex(r.txRandom));
  // The terminal stopped before journaling the random: match the open debit by its terms.
  const unsettled = await payer.client.unsettledTransactions();
  return unsettled.find(
    (u) =>
      u.role === 'debit' &&
      toHex(u.counterpartId) === r.payeeId &&
      u.amount === r.amount &&
      u.date === r.date &&
      u.currency === r.currency,
  );
}

async function statusOrUndefined(
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
