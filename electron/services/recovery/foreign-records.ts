// Records on a card that no open flow of this terminal accounts for: a pending credit or a pending
// incoming content transfer left by another terminal (honest and interrupted, or hostile), by a
// replayed INITIATE CREDIT (protocol §4.3), or by an earlier flow of this terminal that closed
// without it. Each is adopted into a flow of its own ('started' with origin 'found-on-card' and
// the record's terms), so that recovery settles it like any other flow: completed or cancelled when
// its payer (sender) is here and says how, released when it is not (docs/journal.md, "When the
// terminal releases"), and the release proof then journaled and delivered like one of its own.
import { randomUUID } from 'node:crypto';
import { toHex } from '../../../protocol/bytes.js';
import { RECORD_STATUS } from '../../../protocol/settlement/commands.js';
import type {
  ContentTransferRecord,
  TransactionRecord,
} from '../../../protocol/settlement/settlement-client.js';
import { otherSlot } from '../contents/card-to-card-session.js';
import { type ContentFlowKind, type ContentFlowRecord, partiesPayload } from '../contents/content-record.js';
import type { CardSession } from '../settlement/card-session.js';
import type { CardAccess } from '../settlement/settlement-engine.js';
import type { TransferRecord } from '../settlement/transfer-record.js';

/** The flows of this journal now open: a record one of them names is not foreign. */
export interface OpenFlows {
  transfers: TransferRecord[];
  contents: ContentFlowRecord[];
}

/** Adopts every foreign pending record on the cards present; returns how many it adopted. */
export async function adoptForeignRecords(
  cards: CardAccess,
  present: CardSession[],
  open: OpenFlows,
): Promise<number> {
  let adopted = 0;
  for (const card of present) {
    // The card info counts pending credits: no query when there is none.
    if (card.info.pendingCredits > 0) {
      for (const credit of await card.client.unsettledTransactions()) {
        if (!isForeignCredit(credit, card, open.transfers)) continue;
        adoptCredit(cards, card, credit);
        adopted++;
      }
    }
    for (const incoming of await card.client.unsettledContentTransfers()) {
      if (!isForeignContent(incoming, open.contents)) continue;
      adoptContent(cards, card, incoming);
      adopted++;
    }
  }
  return adopted;
}

function isForeignCredit(u: TransactionRecord, card: CardSession, open: TransferRecord[]): boolean {
  if (u.role !== 'credit' || u.status !== RECORD_STATUS.CREDIT_PENDING) return false;
  const tx = toHex(u.txRandom);
  const rx = toHex(u.rxRandom);
  return !open.some(
    (r) =>
      r.payeeId === card.holderIdHex && r.txRandom === tx && (r.rxRandom === undefined || r.rxRandom === rx),
  );
}

function adoptCredit(cards: CardAccess, payee: CardSession, u: TransactionRecord): void {
  cards.record(randomUUID(), 'value-transfer', 'started', {
    origin: 'found-on-card',
    payerId: toHex(u.counterpartId),
    payeeId: payee.holderIdHex,
    amount: u.amount,
    currency: u.currency,
    date: u.date,
    transferKeyId: u.transferKeyId,
    txRandom: toHex(u.txRandom),
    rxRandom: toHex(u.rxRandom),
    keyUpdates: [],
  });
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

function adoptContent(cards: CardAccess, receiver: CardSession, r: ContentTransferRecord): void {
  const kind: ContentFlowKind = r.exchangeInitiator ? 'content-exchange' : 'content-transfer';
  const sender = { slot: otherSlot(receiver.slot), holderIdHex: toHex(r.peerId) };
  const what =
    r.kind === 'value'
      ? { amount: r.amount, currency: receiver.info.currency }
      : { itemId: r.itemId ? toHex(r.itemId) : '' };
  const txId = toHex(r.txId);
  cards.record(randomUUID(), kind, 'started', {
    origin: 'found-on-card',
    ...partiesPayload(kind, [sender, receiver]),
    ...(kind === 'content-exchange' ? { give: what, firstTxId: txId } : { offer: what, txId }),
    sessionId: 'none',
  });
}
