// What the content-transfer handlers share (docs/protocol.md §9): the signatures each side makes over
// a record, the content log that only evicts settled records, the item slots and IDs a card keeps
// taken (held, pending to it, or given away and possibly coming back), and the state changes that
// move an item or value into or out of the card.
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { ecdsaSign, ecdsaVerify } from '../../../protocol/crypto-suite.js';
import {
  CONTENT_SIGNATURE_LABEL,
  type ContentSignatureLabel,
  contentSignatureMessage,
  decodeItem,
  type ListedItem,
} from '../../../protocol/settlement/contents-codec.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import { parseTlvList } from '../../../protocol/tlv.js';
import {
  CONTENT_CAPACITY,
  CONTENT_LOG_CAPACITY,
  type ContentRecord,
  type SettlementState,
  type StoredContentItem,
} from './state.js';

export const SETTLED: readonly ContentRecord['status'][] = [
  'acknowledged',
  'aborted',
  'returned',
  'accepted',
  'discarded',
  'released',
];

export function sign(s: SettlementState, label: ContentSignatureLabel, r: ContentRecord): string {
  return toHex(ecdsaSign(fromHex(s.cardPrivateKey), signatureMessage(s, label, r)));
}

export function verify(
  s: SettlementState,
  label: ContentSignatureLabel,
  r: ContentRecord,
  signature: Uint8Array,
): boolean {
  return ecdsaVerify(fromHex(r.peerPublicKey), signatureMessage(s, label, r), signature);
}

/** Signatures name the sender and receiver of the record's transfer, whichever card signs. */
function signatureMessage(s: SettlementState, label: ContentSignatureLabel, r: ContentRecord): Uint8Array {
  const own = fromHex(s.holderId);
  const peer = fromHex(r.peerId);
  return contentSignatureMessage(label, {
    txId: fromHex(r.txId),
    senderId: r.direction === 'out' ? own : peer,
    receiverId: r.direction === 'out' ? peer : own,
    digest: fromHex(r.digest),
    linkTxId: r.linkTxId ? fromHex(r.linkTxId) : undefined,
  });
}

export function record(
  s: SettlementState,
  txId: string,
  direction: 'in' | 'out',
  status?: ContentRecord['status'],
): ContentRecord {
  const r = s.contentLog.find((x) => x.txId === txId && x.direction === direction);
  if (!r || (status && r.status !== status)) {
    throw new CardStatusError(
      SW.CONDITIONS_NOT_SATISFIED,
      `no ${status ?? ''} ${direction === 'out' ? 'outgoing' : 'incoming'} transfer ${txId}`,
    );
  }
  return r;
}

export function appendRecord(s: SettlementState, r: ContentRecord): void {
  if (s.contentLog.length >= CONTENT_LOG_CAPACITY) {
    const i = s.contentLog.findIndex((x) => SETTLED.includes(x.status));
    if (i < 0)
      throw new CardStatusError(
        SW.NOT_ENOUGH_MEMORY,
        'content log full of unsettled transfers: recover first',
      );
    s.contentLog.splice(i, 1);
  }
  s.contentLog.push(r);
}

export function itemOf(r: ContentRecord) {
  return decodeItem(parseTlvList(fromHex(r.payload))[0]!.value);
}

/**
 * Items pending to this card, and items it gave away that a release may still bring back (not an
 * exchange responder's own half, which carries a link: that one is never released).
 */
function reservedItems(s: SettlementState): ContentRecord[] {
  return s.contentLog.filter(
    (r) =>
      r.kind === 'item' &&
      ((r.direction === 'in' && r.status === 'pending') ||
        (r.direction === 'out' && r.status === 'deleted' && !r.linkTxId)),
  );
}

/** Refuses an item this card has no slot for (6A84) or whose ID it holds or keeps reserved (6A80). */
export function requireItemRoom(s: SettlementState, itemId: string): void {
  const reserved = reservedItems(s);
  if (s.contents.some((c) => c.id === itemId) || reserved.some((r) => itemOf(r).id === itemId))
    throw new CardStatusError(SW.INCORRECT_DATA, 'an item with this ID is on the card or reserved');
  if (s.contents.length + reserved.length >= CONTENT_CAPACITY)
    throw new CardStatusError(SW.NOT_ENOUGH_MEMORY);
}

/** An item as the card stores it (unlocked), from its decoded template, which must carry its body. */
export function storedItem(item: ListedItem): StoredContentItem {
  return {
    id: item.id,
    type: item.type,
    issuerId: item.issuerId,
    policy: item.policy,
    label: item.label,
    body: item.body!,
  };
}

/** Puts the item of a record into the card's contents (accepted, or returned to its sender), unlocked. */
function restoreItem(s: SettlementState, r: ContentRecord): void {
  const item = itemOf(r);
  if (s.contents.some((c) => c.id === item.id))
    throw new CardStatusError(SW.INCORRECT_DATA, 'an item with this ID is on the card');
  if (s.contents.length >= CONTENT_CAPACITY) throw new CardStatusError(SW.NOT_ENOUGH_MEMORY);
  s.contents.push(storedItem(item));
}

function addValue(s: SettlementState, amount: number): void {
  // Cannot fail under the headroom rule (§4.4); a card migrated from version 1 may start above it.
  if (s.balance + amount > s.maxBalance) throw new CardStatusError(SW.MAXIMUM_BALANCE_EXCEEDED);
  s.balance += amount;
}

/** Applies an accepted incoming transfer: the item joins the card, or the value joins the purse. */
export function applyIncoming(s: SettlementState, r: ContentRecord): void {
  if (r.kind === 'value') addValue(s, r.amount!);
  else restoreItem(s, r);
  r.status = 'accepted';
}

/** Completes an outgoing transfer: the item leaves the card, or the value leaves the purse. */
export function applyOutgoing(s: SettlementState, r: ContentRecord): void {
  if (r.kind === 'value') s.balance -= r.amount!;
  else s.contents = s.contents.filter((c) => c.lockedBy !== r.txId);
  r.status = 'deleted';
  r.proof = sign(s, CONTENT_SIGNATURE_LABEL.DELETION_PROOF, r);
}

/** Brings back a deleted outgoing transfer on the receiver's release proof: the item restored, or the value refunded. */
export function returnOutgoing(s: SettlementState, r: ContentRecord, releaseProof: Uint8Array): void {
  if (r.kind === 'value') addValue(s, r.amount!);
  else restoreItem(s, r);
  r.status = 'returned';
  r.proof = toHex(releaseProof);
}

export function abortOutgoing(s: SettlementState, r: ContentRecord): void {
  for (const c of s.contents) if (c.lockedBy === r.txId) delete c.lockedBy;
  r.status = 'aborted';
  r.proof = sign(s, CONTENT_SIGNATURE_LABEL.ABORT_PROOF, r);
}

/** An initiator drops its pending copy of the exchange's second half (its first half is kept or back). */
export function discardSecondHalves(s: SettlementState, firstTxId: string): void {
  for (const x of s.contentLog)
    if (x.direction === 'in' && x.linkTxId === firstTxId && x.status === 'pending') x.status = 'discarded';
}
