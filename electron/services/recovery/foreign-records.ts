// Records on a card that no open flow of this terminal accounts for: a pending credit or a pending
// incoming content transfer left by another terminal (honest and interrupted, or hostile), by a
// replayed INITIATE CREDIT (protocol §4.3), or by an earlier flow of this terminal that closed
// without it. Each is adopted into a flow of its own ('started' with origin 'found-on-card' and
// the record's terms), so that recovery settles it like any other flow: completed or cancelled when
// its payer (sender) is here and says how, released when it is not (docs/journal.md, "When the
// terminal releases"), and the release proof then journaled and delivered like one of its own.
//
// A debited payer record is adopted the same way: the value left the payer in a flow another
// terminal ran (a hostile one that withheld the acknowledgement, protocol §10.3), and the payer's log
// slot stays taken until the payee's proof reaches it. Recovery then reads the payer's reception
// challenge and settles it with the payee's record: credited (ACKNOWLEDGE DEBIT), released (REFUND
// DEBIT) or still pending (CREDIT, then ACKNOWLEDGE DEBIT); with the payee absent the flow stays open
// and in doubt. An open payer record is not adopted: it moved no value, and the payer's next INITIATE
// DEBIT aborts it (a card holds one open debit); a pending credit of it is adopted on the payee's
// side, and that flow aborts it when the payer is here.
import { randomUUID } from 'node:crypto';
import type { CardFact, FlowFacts } from '../../../db/flow-facts.js';
import { toHex } from '../../../protocol/bytes.js';
import { RECORD_STATUS } from '../../../protocol/settlement/commands.js';
import type {
  ContentTransferRecord,
  TransactionRecord,
} from '../../../protocol/settlement/settlement-client.js';
import { otherSlot } from '../contents/card-to-card-session.js';
import { type ContentFlowKind, type ContentFlowRecord, partiesPayload } from '../contents/content-record.js';
import { cardFact } from '../settlement/card-facts.js';
import type { CardSession } from '../settlement/card-session.js';
import { endsPass, type FailureSink, failureOf } from '../settlement/flow-isolation.js';
import type { CardAccess } from '../settlement/settlement-engine.js';
import { foldTransfer, TRANSFER_STEP, type TransferRecord } from '../settlement/transfer-record.js';

/** The flows of this journal now open: a record one of them names is not foreign. */
export interface OpenFlows {
  transfers: TransferRecord[];
  contents: ContentFlowRecord[];
}

/**
 * Adopts every foreign pending record on the cards present; returns how many it adopted. `seen` gets
 * each card's unsettled content records as read (the host's release proofs are asked for on them);
 * `failed` a card whose records could not be read or adopted (the other card's still are).
 */
export async function adoptForeignRecords(
  cards: CardAccess,
  present: CardSession[],
  open: OpenFlows,
  failed: FailureSink,
  seen?: (card: CardSession, contents: readonly ContentTransferRecord[]) => void,
): Promise<number> {
  let adopted = 0;
  // Flows adopted in this pass count as open: the payer's and the payee's record of one transfer, both
  // foreign, make one flow, whichever card is looked at first.
  const transfers = [...open.transfers];
  for (const card of present) {
    // A card whose records do not decode is reported, the other card's still adopted (flow-isolation.ts).
    try {
      adopted += await adoptFrom(cards, card, present, open, transfers, seen);
    } catch (e) {
      if (endsPass(e)) throw e;
      failed(failureOf(e, 'recovery', { holderId: card.holderIdHex }));
    }
  }
  return adopted;
}

/** Adopts the foreign records on one card; `transfers` grows by the value transfers it adopts. */
async function adoptFrom(
  cards: CardAccess,
  card: CardSession,
  present: CardSession[],
  open: OpenFlows,
  transfers: TransferRecord[],
  seen?: (card: CardSession, contents: readonly ContentTransferRecord[]) => void,
): Promise<number> {
  let adopted = 0;
  {
    // The card info counts unsettled records: no query when there is none.
    if (card.info.pendingCredits > 0 || card.info.unsettledDebits > 0) {
      for (const u of await card.client.unsettledTransactions()) {
        if (!isForeignTransfer(u, card, transfers)) continue;
        const flowId = adoptTransfer(cards, card, u);
        transfers.push(foldTransfer(cards.entries(flowId)));
        adopted++;
      }
    }
    const unsettled = await card.client.unsettledContentTransfers();
    seen?.(card, unsettled);
    for (const incoming of unsettled) {
      if (!isForeignContent(incoming, open.contents)) continue;
      adoptContent(cards, card, incoming, present, ownHalfOf(incoming, unsettled));
      adopted++;
    }
  }
  return adopted;
}

/**
 * A record whose value is in flight and that no open flow of this journal names: a pending credit, or
 * a debited payer record (value left the payer). An open debit is not: it moved nothing, and the
 * payer's next INITIATE DEBIT aborts it.
 */
function isForeignTransfer(u: TransactionRecord, card: CardSession, open: TransferRecord[]): boolean {
  const payer = u.role === 'debit';
  if (u.status !== (payer ? RECORD_STATUS.DEBIT_DEBITED : RECORD_STATUS.CREDIT_PENDING)) return false;
  const tx = toHex(u.txRandom);
  const rx = toHex(u.rxRandom);
  return !open.some(
    (r) =>
      (payer ? r.payerId : r.payeeId) === card.holderIdHex &&
      r.txRandom === tx &&
      (r.rxRandom === undefined || r.rxRandom === rx),
  );
}

/** A flow of its own for a foreign record, with the record's terms and both randoms. */
function adoptTransfer(cards: CardAccess, card: CardSession, u: TransactionRecord): string {
  const flowId = randomUUID();
  const counterpart = toHex(u.counterpartId);
  const payer = u.role === 'debit';
  cards.record(
    flowId,
    'value-transfer',
    TRANSFER_STEP.STARTED,
    {
      origin: 'found-on-card',
      payerId: payer ? card.holderIdHex : counterpart,
      payeeId: payer ? counterpart : card.holderIdHex,
      // The payer card is here: an issuer settling the flow in doubt finds it by its certificate.
      ...(payer ? { payerSerial: card.certificate.serial.toString() } : {}),
      amount: u.amount,
      currency: u.currency,
      date: u.date,
      transferKeyId: u.transferKeyId,
      txRandom: toHex(u.txRandom),
      rxRandom: toHex(u.rxRandom),
      keyUpdates: [],
    },
    indexFacts(
      u.amount,
      u.currency,
      payer ? [cardFact(card), { holderId: counterpart }] : [{ holderId: counterpart }, cardFact(card)],
    ),
  );
  return flowId;
}

/**
 * A pending incoming transfer that is a plain transmission or an exchange's first half. An
 * initiator's pending second half is never foreign in that sense: the initiator decides its own
 * exchange (protocol §9.1), by its first half, which recovery finds from that half's flow.
 */
function isForeignContent(r: ContentTransferRecord, open: ContentFlowRecord[]): boolean {
  if (r.direction !== 'in' || r.status !== 'pending' || r.linkTxId) return false;
  const tx = toHex(r.txId);
  return !open.some((f) => f.txId === tx || f.secondTxId === tx);
}

/**
 * The receiver's own half of an exchange whose first half is `r`: an incoming record does not say it
 * is a first half (its exchange flag is the sender's), the receiver's outgoing record linked to it
 * does. The initiator commits its half only while the other is pending on it, so a first half that
 * may have rolled forward always has one; without it the transfer settles as a plain one.
 */
function ownHalfOf(
  r: ContentTransferRecord,
  unsettled: ContentTransferRecord[],
): ContentTransferRecord | undefined {
  const tx = toHex(r.txId);
  return unsettled.find((x) => x.direction === 'out' && x.linkTxId !== undefined && toHex(x.linkTxId) === tx);
}

function adoptContent(
  cards: CardAccess,
  receiver: CardSession,
  r: ContentTransferRecord,
  present: CardSession[],
  ownHalf: ContentTransferRecord | undefined,
): void {
  // An exchange's first half, settled as a plain transfer, would be accepted (the receiver giving up
  // its own half in that write) and then acknowledged with that half's deletion proof: refused.
  const kind: ContentFlowKind = ownHalf ? 'content-exchange' : 'content-transfer';
  // The sender's certificate when it is here too (the issuer host checks its signatures with it).
  const sender = present.find((c) => c.holderIdHex === toHex(r.peerId)) ?? {
    slot: otherSlot(receiver.slot),
    holderIdHex: toHex(r.peerId),
  };
  const what = recordTerms(r, receiver.info.currency);
  const txId = toHex(r.txId);
  cards.record(
    randomUUID(),
    kind,
    'started',
    {
      origin: 'found-on-card',
      ...partiesPayload(kind, [sender, receiver]),
      ...(kind === 'content-exchange'
        ? {
            give: what,
            firstTxId: txId,
            firstDigest: toHex(r.digest),
            secondTxId: toHex(ownHalf!.txId),
            secondDigest: toHex(ownHalf!.digest),
          }
        : { offer: what, txId, digest: toHex(r.digest) }),
      sessionId: 'none',
    },
    indexFacts('amount' in what ? what.amount : undefined, 'amount' in what ? what.currency : undefined, [
      { holderId: sender.holderIdHex },
      cardFact(receiver),
    ]),
  );
}

/**
 * A content record's terms as a flow's offer: a value half's amount (in the purse currency of the card
 * that holds the record: both cards of a value transfer share it, and the record's digest binds it), or
 * an item half's item ID. The card's word, never a terminal's or the host's.
 */
export function recordTerms(
  r: ContentTransferRecord,
  currency: number,
): { amount: number; currency: number } | { itemId: string } {
  return r.kind === 'value' ? { amount: r.amount, currency } : { itemId: r.itemId ? toHex(r.itemId) : '' };
}

/**
 * The log's index of an adopted flow, as for the flows the engines run: searchable by either card,
 * summed by its amount. Only what the index accepts: a record a hostile terminal left may carry an
 * amount or currency no honest flow has, and recovery must not fail on it (the payload keeps it).
 */
export function indexFacts(
  amount: number | undefined,
  currency: number | undefined,
  cards: CardFact[],
): FlowFacts {
  return {
    ...(amount !== undefined && Number.isSafeInteger(amount) && amount > 0 ? { amount } : {}),
    ...(currency !== undefined && Number.isInteger(currency) && currency >= 0 && currency <= 999
      ? { currency }
      : {}),
    cards,
  };
}
