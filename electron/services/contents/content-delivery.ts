// Content release proofs delivered to their sender card (docs/journal.md, "Delivered release proofs";
// docs/issuer-host.md, "Release proofs"): a receiver released a send or an exchange's first half at
// another terminal, the issuer host kept the proof, and this terminal fetched it for the sender card
// now present (recovery/host-release-proofs.ts). Each proof gets a flow of its own, origin
// 'delivered': 'started' with the transfer's terms and the sender card's certificate, 'released'
// with the proof; then recovery takes it to the sender like any journaled release proof (CONTENT
// RETURN, content-flows.ts), journaling the answer before anything else. A proof the card refuses is
// not genuine: its flow ends 'failed-no-value-moved' and nothing else is touched. An open flow of this
// terminal for the same transfer closes when it sees the sender's record returned.
import { randomUUID } from 'node:crypto';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { isTerminalError } from '../../../protocol/errors.js';
import type { ContentReleaseProof } from '../../../protocol/host-link/clearing-wire.js';
import type {
  ContentTransferRecord,
  SettlementClient,
} from '../../../protocol/settlement/settlement-client.js';
import { SW } from '../../../protocol/status-words.js';
import { indexFacts } from '../recovery/foreign-records.js';
import { cardFact } from '../settlement/card-facts.js';
import type { CardSession } from '../settlement/card-session.js';
import type { CardAccess } from '../settlement/settlement-engine.js';
import { otherSlot } from './card-to-card-session.js';
import { type ContentRecovery, type Recorder, returnToSender, statusOf } from './content-flows.js';
import {
  CONTENT_STEP,
  type ContentFlowKind,
  type ContentFlowRecord,
  foldContentFlow,
  partiesPayload,
} from './content-record.js';
import type { ContentRecoveryReport } from './content-views.js';

/** Hex in upper case, as the journal writes it everywhere else. */
export function normalisedContentProof(p: ContentReleaseProof): ContentReleaseProof {
  const up = (s: string) => s.toUpperCase();
  return {
    ...p,
    senderId: up(p.senderId),
    receiverId: up(p.receiverId),
    txId: up(p.txId),
    releaseProof: up(p.releaseProof),
    offer: 'itemId' in p.offer ? { itemId: up(p.offer.itemId) } : p.offer,
    ...(p.digest !== undefined ? { digest: up(p.digest) } : {}),
  };
}

/**
 * Whether CONTENT RETURN of this proof would settle the sender card's record of the transfer: its own
 * outgoing transfer to that receiver (a send, or an exchange's first half: never a second half), still
 * open or deleted. Anything else (taken already, evicted, never) is left alone. Which of the two it
 * is, the card's record says, not the host: a receiver's record does not tell them apart (they are
 * signed alike, protocol §9), so the terminal that released may have journaled a first half as a send.
 */
export function returnSettles(
  out: ContentTransferRecord | undefined,
  p: ContentReleaseProof,
): out is ContentTransferRecord {
  return (
    out !== undefined &&
    out.direction === 'out' &&
    (out.status === 'open' || out.status === 'deleted') &&
    out.linkTxId === undefined &&
    toHex(out.peerId) === p.receiverId
  );
}

/**
 * A content release proof to deliver, journaled in a flow of its own (origin 'delivered') of the kind
 * the sender card's record `out` says; its flow ID.
 */
export function journalContentDelivery(
  cards: CardAccess,
  sender: CardSession,
  p: ContentReleaseProof,
  out: ContentTransferRecord,
): string {
  const kind: ContentFlowKind = out.exchangeInitiator ? 'content-exchange' : 'content-transfer';
  const flowId = randomUUID();
  const receiver = { slot: otherSlot(sender.slot), holderIdHex: p.receiverId };
  const digestKey = kind === 'content-exchange' ? 'firstDigest' : 'digest';
  const digest = p.digest !== undefined ? { [digestKey]: p.digest } : {};
  cards.record(
    flowId,
    kind,
    CONTENT_STEP.STARTED,
    {
      origin: 'delivered',
      ...partiesPayload(kind, [sender, receiver]),
      ...(kind === 'content-exchange'
        ? { give: p.offer, firstTxId: p.txId }
        : { offer: p.offer, txId: p.txId }),
      ...digest,
      sessionId: 'none',
    },
    // The same index as an adopted record's: the host's answer is anyone's bytes until the card took it.
    indexFacts(
      'amount' in p.offer ? p.offer.amount : undefined,
      'amount' in p.offer ? p.offer.currency : undefined,
      [cardFact(sender), { holderId: p.receiverId }],
    ),
  );
  cards.record(flowId, kind, CONTENT_STEP.RELEASED, { releaseProof: p.releaseProof, ...digest });
  return flowId;
}

/**
 * CONTENT RETURN of a delivered flow's proof at the sender (absent: it waits). The card verifies the
 * proof under the receiver's key: a refusal (6982) means it is not genuine, and ends the flow with
 * nothing moved, journaled; any other failure is thrown and the flow stays open for the next pass.
 */
export async function returnDelivered(
  sender: SettlementClient | undefined,
  txId: Uint8Array,
  releaseProof: Uint8Array,
  record: Recorder,
): Promise<ContentRecovery> {
  if (!sender) return 'waiting';
  try {
    return await returnToSender(sender, txId, releaseProof, record);
  } catch (e) {
    if (!isTerminalError(e, 'E_CARD_STATUS') || e.details.sw !== SW.SECURITY_STATUS_NOT_SATISFIED) throw e;
    record(CONTENT_STEP.REFUSED, {
      code: e.code,
      sw: e.details.sw,
      message: 'the sender refused the delivered release proof: it is not genuine',
    });
    return 'rolled-back';
  }
}

/** How a delivered flow ended, from its journal. */
export function deliveredOutcome(
  entries: Parameters<typeof foldContentFlow>[0],
): 'rolled-back' | 'failed-no-value-moved' | 'waiting-for-sender' {
  const { lastStep } = foldContentFlow(entries);
  if (lastStep === CONTENT_STEP.REFUSED) return 'failed-no-value-moved';
  return lastStep === CONTENT_STEP.REFUNDED || lastStep === CONTENT_STEP.ROLLED_BACK
    ? 'rolled-back'
    : 'waiting-for-sender';
}

/**
 * Closes the open flows of this terminal (other than the deliveries) whose first transfer the sender
 * card now holds returned: an exchange waits for its responder otherwise, and the sender's record
 * says how it ended. Journaled 'refunded' with the proof the card kept, as recovery does.
 */
export async function closeReturnedFlows(
  cards: CardAccess,
  open: readonly ContentFlowRecord[],
  sender: CardSession,
  txIds: ReadonlySet<string>,
): Promise<ContentRecoveryReport[]> {
  const reports: ContentRecoveryReport[] = [];
  for (const flow of open) {
    if (flow.origin === 'delivered' || flow.fromId !== sender.holderIdHex) continue;
    if (flow.txId === undefined || !txIds.has(flow.txId)) continue;
    const out = (await statusOf(sender.client, fromHex(flow.txId))).find((r) => r.direction === 'out');
    if (out?.status !== 'returned' || !out.proof) continue;
    cards.record(flow.flowId, flow.kind, CONTENT_STEP.REFUNDED, {
      releaseProof: toHex(out.proof),
      returned: true,
      senderSettled: true,
    });
    reports.push({ flowId: flow.flowId, kind: flow.kind, outcome: 'rolled-back' });
  }
  return reports;
}
