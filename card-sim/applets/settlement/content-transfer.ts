// Atomic transmission and exchange of digital contents (seed 000 Figs. 6–8), hardened as the value
// transfer is (docs/protocol.md §8). The seed's sender deletes on the receiver's commit instruction
// and the receiver keeps what it got: a lost commit leaves the item on both cards. Here both keep
// durable records and exactly one of two signed proofs ever exists per transfer: the sender's
// deletion proof (the receiver may accept) or its abort proof (the receiver must discard). An
// exchange links two transfers so that the initiator's single decision settles both halves.
import type { CommandApdu } from '../../../protocol/apdu.js';
import { concat, fromHex, toHex, u32 } from '../../../protocol/bytes.js';
import { aeadOpen, aeadSeal, RANDOM_LENGTH } from '../../../protocol/crypto-suite.js';
import { STATUS_QUERY } from '../../../protocol/settlement/commands.js';
import { CONTENT_STATUS_CODE } from '../../../protocol/settlement/content-record-codec.js';
import {
  CONTENT_SIGNATURE_LABEL,
  CONTENT_TAG,
  contentSealAad,
  decodeItem,
  decodeValue,
  encodeItem,
  encodeValue,
  payloadDigest,
} from '../../../protocol/settlement/contents-codec.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import { encodeTlv, encodeTlvList, parseTlvList } from '../../../protocol/tlv.js';
import { accessLevel, canSend } from './access.js';
import type { SettlementContext } from './applet-context.js';
import { requireOwnerToPay } from './cardholder-verification.js';
import { CommandData, requireParameters } from './command-data.js';
import {
  abortOutgoing,
  appendRecord,
  applyIncoming,
  applyOutgoing,
  discardSecondHalves,
  itemOf,
  record,
  requireItemRoom,
  SETTLED,
  sign,
  verify,
} from './content-records.js';
import { requireSession } from './mutual-auth.js';
import { type ContentRecord, headroomUsed, openDebitTotal } from './state.js';

export const SEND_KIND = { ITEM: 0x00, VALUE: 0x01 } as const;
export const SEND_ROLE = { PLAIN: 0x00, EXCHANGE_INITIATOR: 0x01, EXCHANGE_RESPONDER: 0x02 } as const;
const ZERO16 = new Uint8Array(16);

/** CONTENT SEND (seed S401–S402): P1 item/value, P2 plain/exchange role; data session ID ‖ item ID or amount [‖ linked incoming tx]. */
export function contentSend(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  if (![SEND_KIND.ITEM, SEND_KIND.VALUE].includes(cmd.p1 as 0) || cmd.p2 > SEND_ROLE.EXCHANGE_RESPONDER) {
    throw new CardStatusError(SW.INCORRECT_P1P2);
  }
  const isValue = cmd.p1 === SEND_KIND.VALUE;
  const responder = cmd.p2 === SEND_ROLE.EXCHANGE_RESPONDER;
  const data = CommandData.expectLength(cmd.data, 16 + (isValue ? 4 : 16) + (responder ? 16 : 0));
  const session = requireSession(ctx, data.bytes(16));
  const s0 = ctx.store.read();
  const level = accessLevel(ctx);
  let payload: Uint8Array;
  let itemId: string | undefined;
  let amount: number | undefined;
  if (isValue) {
    amount = data.u32();
    requireOwnerToPay(ctx, s0); // 9403 (6983 blocked) before any balance comparison
    if (amount === 0) throw new CardStatusError(SW.INCORRECT_DATA, 'amount must be positive');
    if (amount > s0.balance - openDebitTotal(s0)) throw new CardStatusError(SW.INSUFFICIENT_FUNDS);
    payload = encodeValue(amount, s0.currency);
  } else {
    itemId = toHex(data.bytes(16));
    const item = s0.contents.find((c) => c.id === itemId);
    if (!item) throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'no such item');
    if (item.lockedBy)
      throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'the item is already in transfer');
    if (!canSend(level, item, s0))
      throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'access level too low to give this item');
    payload = encodeItem(item);
  }
  const link = responder ? toHex(data.bytes(16)) : undefined;
  const peerId = toHex(session.peer.holderId);
  if (link) {
    const incoming = record(s0, link, 'in', 'pending');
    if (
      incoming.peerId !== peerId ||
      s0.contentLog.some((x) => x.direction === 'out' && x.linkTxId === link)
    ) {
      throw new CardStatusError(
        SW.CONDITIONS_NOT_SATISFIED,
        'the linked transfer is not an open exchange with this peer',
      );
    }
  }
  const txId = ctx.random(RANDOM_LENGTH);
  const own = fromHex(s0.holderId);
  const sealed = aeadSeal(
    session.key,
    payload,
    contentSealAad(txId, own, session.peer.holderId, link ? fromHex(link) : undefined),
  );
  ctx.store.transaction((s) => {
    appendRecord(s, {
      direction: 'out',
      txId: toHex(txId),
      peerId,
      peerPublicKey: toHex(session.peer.publicKey),
      ...(link ? { linkTxId: link } : {}),
      exchangeInitiator: cmd.p2 === SEND_ROLE.EXCHANGE_INITIATOR,
      kind: isValue ? 'value' : 'item',
      payload: toHex(payload),
      digest: toHex(payloadDigest(payload)),
      ...(amount !== undefined ? { amount } : {}),
      status: 'open',
    });
    if (itemId) s.contents.find((c) => c.id === itemId)!.lockedBy = toHex(txId);
  });
  return concat(txId, sealed);
}

/** CONTENT RECEIVE (seed S403–S404): data session ID ‖ tx ‖ linked tx (or zeros) ‖ sealed; answers the commit instruction. */
export function contentReceive(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectAtLeast(cmd.data, 16 * 3 + 29);
  const session = requireSession(ctx, data.bytes(16));
  const txId = data.bytes(16);
  const linkBytes = data.bytes(16);
  const link = linkBytes.some((b) => b !== 0) ? toHex(linkBytes) : undefined;
  const s0 = ctx.store.read();
  const own = fromHex(s0.holderId);
  const payload = aeadOpen(
    session.key,
    data.rest(),
    contentSealAad(txId, session.peer.holderId, own, link ? linkBytes : undefined),
  );
  if (!payload)
    throw new CardStatusError(
      SW.SECURITY_STATUS_NOT_SATISFIED,
      'sealed content does not open in this session',
    );
  if (s0.contentLog.some((r) => r.txId === toHex(txId)))
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'transfer already known');
  let kind: 'item' | 'value';
  let amount: number | undefined;
  try {
    const [template] = parseTlvList(payload);
    if (template?.tag === CONTENT_TAG.ITEM) {
      const item = decodeItem(template.value);
      if (item.body === undefined) throw new SyntaxError('item without body');
      requireItemRoom(s0, item.id);
      kind = 'item';
    } else if (template?.tag === CONTENT_TAG.VALUE) {
      const value = decodeValue(template.value);
      if (value.currency !== s0.currency)
        throw new CardStatusError(SW.INCORRECT_DATA, 'currency differs from the purse');
      if (headroomUsed(s0) + value.amount > s0.maxBalance) {
        throw new CardStatusError(SW.MAXIMUM_BALANCE_EXCEEDED);
      }
      kind = 'value';
      amount = value.amount;
    } else throw new SyntaxError('neither item nor value');
  } catch (e) {
    if (e instanceof CardStatusError) throw e;
    throw new CardStatusError(SW.INCORRECT_DATA, (e as Error).message);
  }
  if (link) {
    const outgoing = record(s0, link, 'out', 'open');
    if (!outgoing.exchangeInitiator || outgoing.peerId !== toHex(session.peer.holderId)) {
      throw new CardStatusError(
        SW.CONDITIONS_NOT_SATISFIED,
        'the linked transfer is not this card’s open exchange with this peer',
      );
    }
  }
  return fromHex(
    ctx.store.transaction((s) => {
      const r: ContentRecord = {
        direction: 'in',
        txId: toHex(txId),
        peerId: toHex(session.peer.holderId),
        peerPublicKey: toHex(session.peer.publicKey),
        ...(link ? { linkTxId: link } : {}),
        exchangeInitiator: false,
        kind,
        payload: toHex(payload),
        digest: toHex(payloadDigest(payload)),
        ...(amount !== undefined ? { amount } : {}),
        status: 'pending',
      };
      appendRecord(s, r);
      return sign(s, CONTENT_SIGNATURE_LABEL.COMMIT_INSTRUCTION, r);
    }),
  );
}

/** CONTENT COMMIT (seed S405–S406): tx ‖ the receiver's commit instruction; the sender deletes and proves it. */
export function contentCommit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectAtLeast(cmd.data, 17);
  const txId = toHex(data.bytes(16));
  const commit = data.rest();
  const s0 = ctx.store.read();
  const r0 = record(s0, txId, 'out', 'open');
  if (!verify(s0, CONTENT_SIGNATURE_LABEL.COMMIT_INSTRUCTION, r0, commit)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'commit instruction does not verify');
  }
  if (
    r0.exchangeInitiator &&
    !s0.contentLog.some((x) => x.direction === 'in' && x.linkTxId === txId && x.status === 'pending')
  ) {
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'the other half of the exchange has not arrived');
  }
  return fromHex(
    ctx.store.transaction((s) => {
      const r = record(s, txId, 'out');
      applyOutgoing(s, r);
      return r.proof!;
    }),
  );
}

/**
 * CONTENT ACCEPT: tx ‖ the sender's deletion proof. A plain transfer answers the acceptance; an
 * exchange responder also gives up its own half in the same atomic write and answers its deletion proof.
 */
export function contentAccept(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectAtLeast(cmd.data, 17);
  const txId = toHex(data.bytes(16));
  const proof = data.rest();
  const s0 = ctx.store.read();
  const r0 = record(s0, txId, 'in', 'pending');
  if (!verify(s0, CONTENT_SIGNATURE_LABEL.DELETION_PROOF, r0, proof)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'deletion proof does not verify');
  }
  return fromHex(
    ctx.store.transaction((s) => {
      const r = record(s, txId, 'in');
      applyIncoming(s, r);
      const ownHalf = s.contentLog.find(
        (x) => x.direction === 'out' && x.linkTxId === txId && x.status === 'open',
      );
      r.proof = sign(s, CONTENT_SIGNATURE_LABEL.ACCEPTANCE, r);
      if (ownHalf) {
        applyOutgoing(s, ownHalf);
        return ownHalf.proof!;
      }
      // The initiator accepting the second half: its own first half is thereby settled too.
      if (r.linkTxId) {
        const first = s.contentLog.find(
          (x) => x.direction === 'out' && x.txId === r.linkTxId && x.status === 'deleted',
        );
        if (first) first.status = 'acknowledged';
      }
      return r.proof;
    }),
  );
}

/**
 * CONTENT ABORT: tx [‖ the initiator's abort proof of the linked half]. The sender keeps its item
 * and proves it never will give it. An exchange responder may abort only on the initiator's abort proof.
 */
export function contentAbort(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectAtLeast(cmd.data, 16);
  const txId = toHex(data.bytes(16));
  const linkedProof = data.rest();
  const s0 = ctx.store.read();
  const r0 = record(s0, txId, 'out');
  if (r0.status === 'aborted') return fromHex(r0.proof!);
  if (r0.status !== 'open')
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'the transfer is already committed');
  if (r0.linkTxId) {
    const first = record(s0, r0.linkTxId, 'in', 'pending');
    if (linkedProof.length === 0 || !verify(s0, CONTENT_SIGNATURE_LABEL.ABORT_PROOF, first, linkedProof)) {
      throw new CardStatusError(
        SW.SECURITY_STATUS_NOT_SATISFIED,
        'an exchange responder aborts only on the initiator’s abort proof',
      );
    }
  }
  return fromHex(
    ctx.store.transaction((s) => {
      const r = record(s, txId, 'out');
      abortOutgoing(s, r);
      if (r.linkTxId) record(s, r.linkTxId, 'in').status = 'discarded';
      // An initiator that gives up its half can drop the other half at once: without this card's
      // deletion proof the responder can never give its half away.
      discardSecondHalves(s, txId);
      return r.proof!;
    }),
  );
}

/** CONTENT CANCEL (seed S303/S611): tx ‖ the sender's abort proof; the receiver discards what it holds. */
export function contentCancel(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectAtLeast(cmd.data, 17);
  const txId = toHex(data.bytes(16));
  const proof = data.rest();
  const s0 = ctx.store.read();
  const r0 = record(s0, txId, 'in', 'pending');
  if (!verify(s0, CONTENT_SIGNATURE_LABEL.ABORT_PROOF, r0, proof)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'abort proof does not verify');
  }
  return fromHex(
    ctx.store.transaction((s) => {
      record(s, txId, 'in').status = 'discarded';
      // A responder whose first half is void gives up its own half too, and proves it.
      const ownHalf = s.contentLog.find(
        (x) => x.direction === 'out' && x.linkTxId === txId && x.status === 'open',
      );
      if (!ownHalf) return '';
      abortOutgoing(s, ownHalf);
      return ownHalf.proof!;
    }),
  );
}

/** CONTENT ACKNOWLEDGE: tx ‖ the receiver's acceptance; settles the sender's record. */
export function contentAcknowledge(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectAtLeast(cmd.data, 17);
  const txId = toHex(data.bytes(16));
  const s0 = ctx.store.read();
  const r0 = record(s0, txId, 'out', 'deleted');
  if (!verify(s0, CONTENT_SIGNATURE_LABEL.ACCEPTANCE, r0, data.rest())) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'acceptance does not verify');
  }
  ctx.store.transaction((s) => {
    record(s, txId, 'out').status = 'acknowledged';
  });
  return new Uint8Array(0);
}

/** CONTENT STATUS: P1 00 one transfer (data tx), P1 01 every unsettled one. No body ever leaves here. */
export function contentStatus(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [STATUS_QUERY.ONE, STATUS_QUERY.LIST_UNSETTLED]);
  const s = ctx.store.read();
  if (cmd.p1 === STATUS_QUERY.LIST_UNSETTLED) {
    CommandData.expectLength(cmd.data, 0);
    return concat(...s.contentLog.filter((r) => !SETTLED.includes(r.status)).map(encodeRecord));
  }
  const txId = toHex(CommandData.expectLength(cmd.data, 16).bytes(16));
  const matches = s.contentLog.filter((r) => r.txId === txId);
  if (matches.length === 0)
    throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'no record of this transfer');
  return concat(...matches.map(encodeRecord));
}

function encodeRecord(r: ContentRecord): Uint8Array {
  const itemId = r.kind === 'item' ? fromHex(itemOf(r).id) : undefined;
  return encodeTlv(
    0xe3,
    encodeTlvList([
      { tag: 0xc0, value: Uint8Array.of(r.direction === 'out' ? 1 : 2) },
      { tag: 0xc1, value: Uint8Array.of(CONTENT_STATUS_CODE[r.status]) },
      { tag: 0xc2, value: fromHex(r.txId) },
      { tag: 0xc3, value: fromHex(r.peerId) },
      { tag: 0xc4, value: r.linkTxId ? fromHex(r.linkTxId) : ZERO16 },
      { tag: 0xc5, value: Uint8Array.of(r.kind === 'value' ? 1 : 0, r.exchangeInitiator ? 1 : 0) },
      { tag: 0xc6, value: u32(r.amount ?? 0) },
      { tag: 0xc7, value: fromHex(r.digest) },
      ...(itemId ? [{ tag: 0xc9, value: itemId }] : []),
      ...(r.proof ? [{ tag: 0xc8, value: fromHex(r.proof) }] : []),
    ]),
  );
}
