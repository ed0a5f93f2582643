// Terminal relay of content transmission (seed 000 Figs. 6–7) and exchange (Fig. 8), and their
// recovery. Every card answer is handed to `record` (the journal) before the next command goes out;
// recovery needs only those records and the cards' own transfer records.
import { toHex } from '../../../protocol/bytes.js';
import { isTerminalError } from '../../../protocol/errors.js';
import type {
  ContentTransferRecord,
  SettlementClient,
} from '../../../protocol/settlement/settlement-client.js';
import { SW } from '../../../protocol/status-words.js';
import { CONTENT_STEP } from './content-record.js';

export type Recorder = (step: string, payload: Record<string, unknown>) => void;

/** What one side gives: an item by ID, or an amount of its purse (needs the owner's PIN). */
export type Offer = { item: Uint8Array } | { amount: number };

const kindOf = (o: Offer) => ('amount' in o ? 1 : 0) as 0 | 1;
const subjectOf = (o: Offer) => ('amount' in o ? o.amount : o.item);

/** Transmission: sender → receiver, committed only on the receiver's commit instruction. */
export async function transmitContent(
  sender: SettlementClient,
  receiver: SettlementClient,
  sessionIds: { sender: Uint8Array; receiver: Uint8Array },
  offer: Offer,
  record: Recorder,
): Promise<{ txId: Uint8Array }> {
  const { txId, sealed } = await sender.contentSend(kindOf(offer), 0, sessionIds.sender, subjectOf(offer));
  record(CONTENT_STEP.SENT, { txId: toHex(txId), sealedBytes: sealed.length });
  const commit = await receiver.contentReceive(sessionIds.receiver, txId, undefined, sealed);
  record(CONTENT_STEP.RECEIVED, { commitInstruction: toHex(commit) });
  const deletion = await sender.contentCommit(txId, commit);
  record(CONTENT_STEP.COMMITTED, { deletionProof: toHex(deletion) });
  const acceptance = await receiver.contentAccept(txId, deletion);
  record(CONTENT_STEP.ACCEPTED, { acceptance: toHex(acceptance), receiverSettled: true });
  await sender.contentAcknowledge(txId, acceptance);
  record(CONTENT_STEP.COMPLETED, { senderSettled: true });
  return { txId };
}

/**
 * Exchange: the initiator's half X goes first, the responder's half Y back; the initiator commits
 * X only once Y is pending on it, and the responder gives up Y in the same atomic write in which it
 * accepts X. So the initiator's commit is the single point of decision for both halves.
 */
export async function exchangeContents(
  initiator: SettlementClient,
  responder: SettlementClient,
  sessionIds: { initiator: Uint8Array; responder: Uint8Array },
  give: Offer,
  take: Offer,
  record: Recorder,
): Promise<{ first: Uint8Array; second: Uint8Array }> {
  const x = await initiator.contentSend(kindOf(give), 1, sessionIds.initiator, subjectOf(give));
  record(CONTENT_STEP.FIRST_SENT, { firstTxId: toHex(x.txId) });
  const firstItem = await itemBoughtWithEmoney(initiator, x.txId, give, take);
  const commitX = await responder.contentReceive(sessionIds.responder, x.txId, undefined, x.sealed);
  record(CONTENT_STEP.FIRST_RECEIVED, { firstCommit: toHex(commitX), ...digestOf(firstItem, 'firstDigest') });
  const y = await responder.contentSend(kindOf(take), 2, sessionIds.responder, subjectOf(take), x.txId);
  record(CONTENT_STEP.SECOND_SENT, { secondTxId: toHex(y.txId) });
  const secondItem = await itemBoughtWithEmoney(responder, y.txId, take, give);
  const commitY = await initiator.contentReceive(sessionIds.initiator, y.txId, x.txId, y.sealed);
  record(CONTENT_STEP.SECOND_RECEIVED, {
    secondCommit: toHex(commitY),
    ...digestOf(secondItem, 'secondDigest'),
  });
  const deletionX = await initiator.contentCommit(x.txId, commitX);
  record(CONTENT_STEP.FIRST_COMMITTED, { firstDeletionProof: toHex(deletionX) });
  const deletionY = await responder.contentAccept(x.txId, deletionX);
  record(CONTENT_STEP.FIRST_ACCEPTED, { secondDeletionProof: toHex(deletionY), responderSettled: true });
  const acceptanceY = await initiator.contentAccept(y.txId, deletionY);
  record(CONTENT_STEP.SECOND_ACCEPTED, { secondAcceptance: toHex(acceptanceY), initiatorSettled: true });
  await responder.contentAcknowledge(y.txId, acceptanceY);
  record(CONTENT_STEP.COMPLETED, {});
  return { first: x.txId, second: y.txId };
}

/**
 * The sender's record of an item half whose exchange pays e-money for it (CONTENT STATUS), for its
 * payload digest: the issuer host books the e-money leg on the cards' signatures, and those of an
 * item half bind this digest, which only the cards know (the body never leaves them). A value
 * half's digest the host computes from the amount and currency. One APDU, only then.
 */
async function itemBoughtWithEmoney(
  sender: SettlementClient,
  txId: Uint8Array,
  half: Offer,
  other: Offer,
): Promise<ContentTransferRecord | undefined> {
  if (kindOf(half) !== 0 || kindOf(other) !== 1) return undefined;
  return (await statusOf(sender, txId)).find((r) => r.direction === 'out');
}

/** A card record's payload digest under `key`, for the journal (see itemBoughtWithEmoney). */
function digestOf(r: ContentTransferRecord | undefined, key: string): Record<string, string> {
  return r ? { [key]: toHex(r.digest) } : {};
}

export type ContentRecovery = 'completed' | 'rolled-back' | 'waiting';

/** What the journal knows of the first card's transfer when the card no longer holds its record. */
export interface FirstCard {
  /** Holder ID (hex). */
  holderId: string;
  /** The journal holds its receiver's acceptance (an exchange: the responder's half given up for it). */
  given: boolean;
}

/** What recovery knows beyond the cards: journaled proofs, and when it may release. */
export interface ReleasePolicy {
  /** The receiver's release proof, journaled: it only waits for the sender. */
  releaseProof?: Uint8Array;
  /**
   * A send's acceptance, journaled: it settles the sender's record once the receiver has evicted its
   * own (a card keeps settled records only until its log of eight needs the room).
   */
  acceptance?: Uint8Array;
  /**
   * Whether the receiver gives up a pending transfer whose sender is not here and which this
   * terminal cannot complete (docs/journal.md, "When the terminal releases"); absent: never.
   */
  mayRelease?: (receiver: SettlementClient) => Promise<boolean>;
  /**
   * Given when the transfer ID is certainly the first card's transfer of this flow: found on the
   * card, or its receiver's commit instruction journaled (an ID replayed or damaged on its way never
   * gets past CONTENT RECEIVE). Read when the first card no longer holds a record of it
   * (transmissionEndedElsewhere); absent: such a transfer was never started.
   */
  firstCard?: FirstCard;
}

/**
 * Settles a transmission after any interruption, from the cards' records alone: the sender's
 * record decides (deleted → the receiver accepts; open or aborted → the receiver discards). A
 * receiver's release (protocol §9.1) gives the item or value back to the sender instead.
 */
export async function recoverTransmission(
  sender: SettlementClient | undefined,
  receiver: SettlementClient | undefined,
  txId: Uint8Array,
  record: Recorder,
  policy: ReleasePolicy = {},
): Promise<ContentRecovery> {
  if (policy.releaseProof && sender) return returnToSender(sender, txId, policy.releaseProof, record);
  if (!sender) {
    await releaseIfStuck(receiver, txId, record, policy, 'digest');
    return 'waiting';
  }
  const out = (await statusOf(sender, txId)).find((r) => r.direction === 'out');
  if (!out) {
    if (policy.firstCard) return transmissionEndedElsewhere(receiver, txId, record, policy.firstCard);
    // Never sent, or sent by no card: whatever the receiver holds of it can never be accepted.
    const releaseProof = await releasePending(receiver, txId);
    record(CONTENT_STEP.ROLLED_BACK, { reason: 'the sender never started it', ...releaseProof });
    return 'rolled-back';
  }
  if (out.status === 'returned') {
    record(CONTENT_STEP.REFUNDED, { releaseProof: toHex(out.proof!), returned: true });
    return 'rolled-back';
  }
  let proof = out.proof;
  if (out.status === 'open') proof = await sender.contentAbort(txId);
  const delivered = out.status === 'deleted' || out.status === 'acknowledged';
  if (!receiver) return 'waiting';
  const incoming = (await statusOf(receiver, txId)).find((r) => r.direction === 'in');
  if (out.status === 'deleted' && incoming?.status === 'released') {
    // The receiver gave it up (protocol §9.1): the sender gets it back with the release proof.
    record(CONTENT_STEP.RELEASED, { releaseProof: toHex(incoming.proof!) });
    return returnToSender(sender, txId, incoming.proof!, record);
  }
  if (delivered) {
    let acceptance = incoming?.status === 'accepted' ? incoming.proof : undefined;
    if (incoming?.status === 'pending') acceptance = await receiver.contentAccept(txId, proof!);
    if (out.status === 'deleted' && acceptance) await sender.contentAcknowledge(txId, acceptance);
    if (out.status === 'deleted' && !incoming) await acknowledgeJournaled(sender, txId, policy);
    // The receiver's acceptance: the issuer host posts an e-money send on it, whichever terminal
    // recovers the send (docs/content-clearing.md).
    record(CONTENT_STEP.COMPLETED, {
      recovered: true,
      ...(acceptance ? { acceptance: toHex(acceptance) } : {}),
    });
    return 'completed';
  }
  if (incoming?.status === 'pending') await receiver.contentCancel(txId, proof!);
  record(CONTENT_STEP.ROLLED_BACK, { abortProof: toHex(proof!) });
  return 'rolled-back';
}

/**
 * Settles an exchange after any interruption. The initiator's first half decides: deleted → roll
 * forward (the responder accepts it and gives up its half, the initiator accepts that); open or
 * aborted → roll back (the initiator aborts, the responder discards the first half and aborts its own).
 * A responder's release of the first half (protocol §9.1) takes both halves back.
 */
export async function recoverExchange(
  initiator: SettlementClient | undefined,
  responder: SettlementClient | undefined,
  firstTxId: Uint8Array,
  record: Recorder,
  /** The responder's half, when the journal knows it. */
  secondTxId?: Uint8Array,
  policy: ReleasePolicy = {},
): Promise<ContentRecovery> {
  if (policy.releaseProof && initiator)
    return returnToSender(initiator, firstTxId, policy.releaseProof, record);
  if (!initiator) await releaseIfStuck(responder, firstTxId, record, policy, 'firstDigest');
  if (!initiator || !responder) return 'waiting';
  const first = (await statusOf(initiator, firstTxId)).find((r) => r.direction === 'out');
  const responderFirst = (await statusOf(responder, firstTxId)).find((r) => r.direction === 'in');
  const second = secondTxId
    ? (await statusOf(responder, secondTxId)).find((r) => r.direction === 'out')
    : (await responder.unsettledContentTransfers()).find(
        (r) => r.direction === 'out' && r.linkTxId && toHex(r.linkTxId) === toHex(firstTxId),
      );
  if (!first && policy.firstCard) {
    const halves = { firstTxId, responderFirst, second };
    return exchangeEndedElsewhere(initiator, responder, halves, record, policy.firstCard);
  }
  if (!first) {
    const releaseProof = await releasePending(responder, firstTxId);
    record(CONTENT_STEP.ROLLED_BACK, { reason: 'the initiator never started it', ...releaseProof });
    return 'rolled-back';
  }
  if (first.status === 'deleted' && responderFirst?.status === 'released') {
    // The responder gave the first half back (protocol §9.1), its own half with it: the initiator
    // takes its half back and drops the second.
    record(CONTENT_STEP.RELEASED, {
      releaseProof: toHex(responderFirst.proof!),
      ...digestOf(first, 'firstDigest'),
    });
    return returnToSender(initiator, firstTxId, responderFirst.proof!, record);
  }
  if (first.status === 'returned') {
    record(CONTENT_STEP.REFUNDED, {
      releaseProof: toHex(first.proof!),
      returned: true,
      ...digestOf(first, 'firstDigest'),
    });
    return 'rolled-back';
  }
  if (first.status === 'deleted' || first.status === 'acknowledged') {
    let secondDeletion =
      second?.status === 'deleted' || second?.status === 'acknowledged' ? second.proof : undefined;
    if (responderFirst?.status === 'pending')
      secondDeletion = await responder.contentAccept(firstTxId, first.proof!);
    return rollForward(initiator, responder, second, secondDeletion, record);
  }
  const abortFirst = first.status === 'open' ? await initiator.contentAbort(firstTxId) : first.proof!;
  if (responderFirst?.status === 'pending') await responder.contentCancel(firstTxId, abortFirst);
  if (second) {
    // The responder's half was aborted with the first (CANCEL aborts a linked half); make sure
    // the initiator drops its pending copy of it.
    const secondOnResponder = (await statusOf(responder, second.txId)).find((r) => r.direction === 'out');
    const initiatorSecond = (await statusOf(initiator, second.txId)).find((r) => r.direction === 'in');
    if (initiatorSecond?.status === 'pending' && secondOnResponder?.status === 'aborted') {
      await initiator.contentCancel(second.txId, secondOnResponder.proof!);
    }
  }
  record(CONTENT_STEP.ROLLED_BACK, { abortProof: toHex(abortFirst), ...digestOf(first, 'firstDigest') });
  return 'rolled-back';
}

/**
 * The roll-forward of an exchange whose first half the responder accepted (it gave up its own half in
 * that write, `secondDeletion` its deletion proof): the initiator accepts the second half, the
 * responder is acknowledged. Journals the cards' proofs the issuer host books the e-money leg on.
 */
async function rollForward(
  initiator: SettlementClient,
  responder: SettlementClient,
  second: ContentTransferRecord | undefined,
  secondDeletion: Uint8Array | undefined,
  record: Recorder,
  extra: Record<string, unknown> = {},
): Promise<ContentRecovery> {
  let acceptance: Uint8Array | undefined;
  if (second && secondDeletion) {
    const initiatorSecond = (await statusOf(initiator, second.txId)).find((r) => r.direction === 'in');
    acceptance = initiatorSecond?.status === 'accepted' ? initiatorSecond.proof : undefined;
    if (initiatorSecond?.status === 'pending')
      acceptance = await initiator.contentAccept(second.txId, secondDeletion);
    const responderSecond = (await statusOf(responder, second.txId)).find((r) => r.direction === 'out');
    if (responderSecond?.status === 'deleted' && acceptance)
      await responder.contentAcknowledge(second.txId, acceptance);
  }
  // The cards' proofs of how it ended, for the issuer host to book the e-money leg on.
  record(CONTENT_STEP.COMPLETED, {
    recovered: true,
    ...extra,
    ...(second ? { secondTxId: toHex(second.txId), ...digestOf(second, 'secondDigest') } : {}),
    ...(secondDeletion ? { secondDeletionProof: toHex(secondDeletion) } : {}),
    ...(acceptance ? { secondAcceptance: toHex(acceptance) } : {}),
  });
  return 'completed';
}

/** Why the first card holds no record of a transfer it started: see endedElsewhere. */
const SETTLED_ELSEWHERE = 'the first card settled it elsewhere and no longer holds its record';

/**
 * A transmission whose sender no longer holds its record: a card evicts only settled records (its log
 * of eight, protocol §8/§9), so it ended, here or at another terminal, and the receiver's record of it
 * (the sender's transfer: same ID, from that card) says how. Accepted, or its acceptance journaled:
 * completed. Released or discarded: rolled back. Pending: its sender's record can only have
 * been aborted (a deleted one is unsettled, so never evicted), and the abort proof left with it: the
 * receiver releases it. None: the outcome is not knowable here (outcomeUnknown).
 */
async function transmissionEndedElsewhere(
  receiver: SettlementClient | undefined,
  txId: Uint8Array,
  record: Recorder,
  firstCard: FirstCard,
): Promise<ContentRecovery> {
  if (!receiver) return 'waiting';
  const incoming = await incomingFrom(receiver, txId, firstCard.holderId);
  if (incoming?.status === 'accepted' || firstCard.given) {
    const acceptance = incoming?.status === 'accepted' ? incoming.proof : undefined;
    record(CONTENT_STEP.COMPLETED, {
      recovered: true,
      reason: SETTLED_ELSEWHERE,
      ...(acceptance ? { acceptance: toHex(acceptance) } : {}),
    });
    return 'completed';
  }
  const ended = await rolledBackOn(receiver, txId, incoming);
  if (ended) {
    record(CONTENT_STEP.ROLLED_BACK, { reason: SETTLED_ELSEWHERE, ...ended });
    return 'rolled-back';
  }
  return outcomeUnknown(record);
}

/**
 * An exchange whose initiator no longer holds its first half's record (see transmissionEndedElsewhere):
 * the responder's records say how it ended. The first half accepted, or the second given up (deleted,
 * acknowledged: only in the write that accepts the first), or that journaled here: completed,
 * rolled forward as far as the cards allow. The first half released or discarded, or the second aborted: rolled back. The first
 * half pending: released (its initiator aborted it). Neither record left: outcomeUnknown.
 */
async function exchangeEndedElsewhere(
  initiator: SettlementClient,
  responder: SettlementClient,
  halves: {
    firstTxId: Uint8Array;
    responderFirst: ContentTransferRecord | undefined;
    second: ContentTransferRecord | undefined;
  },
  record: Recorder,
  firstCard: FirstCard,
): Promise<ContentRecovery> {
  const { firstTxId } = halves;
  const x =
    halves.responderFirst && isFrom(halves.responderFirst, firstCard.holderId)
      ? halves.responderFirst
      : undefined;
  const y =
    halves.second?.linkTxId && toHex(halves.second.linkTxId) === toHex(firstTxId) ? halves.second : undefined;
  const given = y?.status === 'deleted' || y?.status === 'acknowledged';
  if (x?.status === 'accepted' || given || firstCard.given)
    return rollForward(initiator, responder, y, given ? y.proof : undefined, record, {
      reason: SETTLED_ELSEWHERE,
    });
  const ended = await rolledBackOn(responder, firstTxId, x);
  if (ended || y?.status === 'aborted') {
    record(CONTENT_STEP.ROLLED_BACK, {
      reason: SETTLED_ELSEWHERE,
      ...ended,
      ...digestOf(x, 'firstDigest'),
    });
    return 'rolled-back';
  }
  return outcomeUnknown(record);
}

/** The card's incoming record of `txId` from the card `senderId` (a first half: never linked). */
async function incomingFrom(card: SettlementClient, txId: Uint8Array, senderId: string) {
  return (await statusOf(card, txId)).find((r) => r.direction === 'in' && isFrom(r, senderId));
}

const isFrom = (r: ContentTransferRecord, senderId: string) =>
  toHex(r.peerId) === senderId && r.linkTxId === undefined;

/**
 * What a receiver's record of a transfer whose sender has settled says of a roll-back: released (its
 * proof), discarded, or pending (released now: nothing can commit it any more); undefined otherwise.
 */
async function rolledBackOn(
  receiver: SettlementClient,
  txId: Uint8Array,
  incoming: ContentTransferRecord | undefined,
): Promise<{ releaseProof?: string } | undefined> {
  if (incoming?.status === 'released') return { releaseProof: toHex(incoming.proof!) };
  if (incoming?.status === 'discarded') return {};
  if (incoming?.status === 'pending') return { releaseProof: toHex(await receiver.contentRelease(txId)) };
  return undefined;
}

/**
 * Neither card holds a record of a transfer this flow certainly started: both settled it, at another
 * terminal (docs/journal.md, "Settled elsewhere"), and nothing here tells whether it was given or
 * not. No outcome is claimed: the flow stays open, marked once, for the issuer host, which books the
 * transfer on the proofs of the terminal that settled it.
 */
function outcomeUnknown(record: Recorder): ContentRecovery {
  record(CONTENT_STEP.OUTCOME_UNKNOWN, {
    reason:
      'both cards settled it elsewhere and no longer hold its records: the outcome is the issuer host’s to tell',
  });
  return 'waiting';
}

/**
 * CONTENT RETURN of the receiver's release proof at the sender (the initiator of an exchange): an
 * open transfer is aborted, a deleted one restored (item unlocked, value refunded), an initiator's
 * pending second half discarded; it answers 9000 again for a transfer it already settled that way.
 */
export async function returnToSender(
  sender: SettlementClient,
  txId: Uint8Array,
  releaseProof: Uint8Array,
  record: Recorder,
): Promise<ContentRecovery> {
  const out = (await statusOf(sender, txId)).find((r) => r.direction === 'out');
  if (!out || out.status === 'acknowledged') {
    record(CONTENT_STEP.ROLLED_BACK, { reason: 'the sender holds no transfer this release proof settles' });
    return 'rolled-back';
  }
  await sender.contentReturn(txId, releaseProof);
  record(CONTENT_STEP.REFUNDED, { returned: true, senderSettled: true });
  return 'rolled-back';
}

/**
 * CONTENT ACKNOWLEDGE of a delivered transfer with the journaled acceptance, its receiver's record of it
 * gone. A copy the card refuses (damaged on its way) changes nothing: the record waits for the issuer.
 */
async function acknowledgeJournaled(sender: SettlementClient, txId: Uint8Array, policy: ReleasePolicy) {
  if (!policy.acceptance) return;
  try {
    await sender.contentAcknowledge(txId, policy.acceptance);
  } catch (e) {
    if (!isTerminalError(e, 'E_CARD_STATUS')) throw e;
  }
}

/** CONTENT RELEASE of a pending incoming transfer the policy gives up; journaled 'released'. */
async function releaseIfStuck(
  receiver: SettlementClient | undefined,
  txId: Uint8Array,
  record: Recorder,
  policy: ReleasePolicy,
  digestKey: string,
): Promise<void> {
  if (!receiver || !policy.mayRelease) return;
  const incoming = (await statusOf(receiver, txId)).find((r) => r.direction === 'in');
  if (incoming?.status !== 'pending' || incoming.linkTxId || !(await policy.mayRelease(receiver))) return;
  record(CONTENT_STEP.RELEASED, {
    releaseProof: toHex(await receiver.contentRelease(txId)),
    ...digestOf(incoming, digestKey),
  });
}

/** Releases a pending incoming transfer nothing can ever commit; its proof for the journal, if any. */
async function releasePending(
  receiver: SettlementClient | undefined,
  txId: Uint8Array,
): Promise<{ releaseProof?: string }> {
  if (!receiver) return {};
  const incoming = (await statusOf(receiver, txId)).find((r) => r.direction === 'in');
  if (incoming?.status !== 'pending' || incoming.linkTxId) return {};
  return { releaseProof: toHex(await receiver.contentRelease(txId)) };
}

/** The card's records of a transfer; none only when the card says it has none (6A88). */
export async function statusOf(card: SettlementClient, txId: Uint8Array): Promise<ContentTransferRecord[]> {
  try {
    return await card.contentStatus(txId);
  } catch (e) {
    // A transport failure is not "no record": taking it for one would journal a roll-back while
    // the sender may already have given the item away.
    if (isTerminalError(e, 'E_CARD_STATUS') && e.details.sw === SW.REFERENCED_DATA_NOT_FOUND) return [];
    throw e;
  }
}
