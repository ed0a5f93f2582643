// Recovery of interrupted content transmissions and exchanges, from the journal's flow records and
// the cards' own signed transfer records (docs/journal.md, "Recovery"). It needs no card-to-card
// session: every action is one the cards accept at most once, so it can run again at any time.
import type { Flows } from '../../../db/flows.js';
import { TERMINAL_STEPS } from '../../../db/flows.js';
import type { Journal, JournalRecord } from '../../../db/journal.js';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { LOG_CAPACITY } from '../../../protocol/settlement/commands.js';
import type {
  ContentTransferRecord,
  SettlementClient,
} from '../../../protocol/settlement/settlement-client.js';
import type { CardSession } from '../settlement/card-session.js';
import { type FailureSink, isolated, type RecoveryFailure } from '../settlement/flow-isolation.js';
import type { CardAccess } from '../settlement/settlement-engine.js';
import { returnDelivered } from './content-delivery.js';
import {
  type ContentRecovery,
  type Recorder,
  type ReleasePolicy,
  recoverExchange,
  recoverTransmission,
  statusOf,
} from './content-flows.js';
import { carriesOffer } from './content-offers.js';
import {
  CONTENT_FLOW_KINDS,
  CONTENT_STEP,
  type ContentFlowRecord,
  certificatePayload,
  commitRelayedStep,
  foldContentFlow,
  ROLES,
} from './content-record.js';
import type { ContentRecoveryReport } from './content-views.js';

const CLOSED_STEPS: ReadonlySet<string> = new Set(TERMINAL_STEPS);

/**
 * When the receiver of this flow gives up a pending transfer whose sender is not here
 * (docs/journal.md, "When the terminal releases"): never once the sender's deletion proof is
 * journaled (the flow rolls forward when the sender comes back); a transfer found on the card always
 * (no flow of this terminal can complete it); a flow of its own when the receiver's content log is
 * full, so that the card can take part in the next transfer. And the proofs journaled that settle a
 * card without its peer: the receiver's release proof for the sender, its acceptance (the receiver
 * accepted: never released) for a send's sender whose receiver no longer holds its record of it.
 */
function releasePolicy(flow: ContentFlowRecord): ReleasePolicy {
  if (flow.releaseProof) return { releaseProof: fromHex(flow.releaseProof) };
  if (flow.acceptance) return { acceptance: fromHex(flow.acceptance) };
  if (flow.committed) return {};
  if (flow.origin === 'found-on-card') return { mayRelease: async () => true };
  return {
    mayRelease: async (receiver) => (await receiver.unsettledContentTransfers()).length >= LOG_CAPACITY,
  };
}

/** The cards present, by holder ID (hex): who can take part in recovering a flow. */
export function byHolder(sessions: CardSession[]): Map<string, CardSession> {
  return new Map(sessions.map((s) => [s.holderIdHex, s]));
}

export class ContentFlowRecovery {
  constructor(private readonly o: { journal: Journal; flows: Flows }) {}

  /** Content flows not yet closed (completed, rolled back or refused), oldest first. */
  openFlows(): ContentFlowRecord[] {
    return this.o.flows
      .openFlows()
      .filter((f) => CONTENT_FLOW_KINDS.includes(f.flowKind))
      .map((f) => foldContentFlow(this.entries(f.flowId)));
  }

  entries(flowId: string): JournalRecord[] {
    return this.o.journal.entriesForFlow(flowId);
  }

  /**
   * Settles every open content flow that one of the `present` cards takes part in, each on its own
   * (flow-isolation.ts): a flow whose recovery fails goes to `failed` and the pass goes on. Without
   * `failed`, the first such failure is thrown once every flow has had its turn.
   */
  async recoverWith(
    cards: CardAccess,
    present: CardSession[],
    failed?: FailureSink,
  ): Promise<ContentRecoveryReport[]> {
    const holders = byHolder(present);
    const reports: ContentRecoveryReport[] = [];
    const failures: RecoveryFailure[] = [];
    for (const flow of this.openFlows()) {
      if (!holders.has(flow.fromId) && !holders.has(flow.toId)) continue;
      const outcome = await isolated(
        flow.flowId,
        flow.kind,
        () => this.recoverFlow(cards, flow, holders),
        failed ?? ((f) => failures.push(f)),
      );
      if (outcome !== undefined) reports.push({ flowId: flow.flowId, kind: flow.kind, outcome });
    }
    if (failures[0]) throw failures[0].error;
    return reports;
  }

  /** Settles the delivered flows named (content-delivery.ts) with the cards present. */
  async recoverDeliveries(
    cards: CardAccess,
    present: CardSession[],
    flowIds: readonly string[],
  ): Promise<ContentRecoveryReport[]> {
    const holders = byHolder(present);
    const reports: ContentRecoveryReport[] = [];
    for (const flowId of flowIds) {
      const flow = foldContentFlow(this.entries(flowId));
      reports.push({ flowId, kind: flow.kind, outcome: await this.recoverFlow(cards, flow, holders) });
    }
    return reports;
  }

  /** Settles one content flow with the cards given (by holder ID); 'waiting' when a needed card is absent. */
  async recoverFlow(
    cards: CardAccess,
    flow: ContentFlowRecord,
    holders: Map<string, CardSession>,
  ): Promise<ContentRecovery> {
    if (CLOSED_STEPS.has(flow.lastStep))
      return flow.lastStep === CONTENT_STEP.COMPLETED ? 'completed' : 'rolled-back';
    // The certificates of the cards here that the flow does not carry yet (an adopted flow whose
    // sender was absent) go with the first entry recovery writes: the issuer host checks the cards'
    // signatures in the flow with them.
    let missing = this.missingCertificates(flow, holders);
    const record: Recorder = (step, payload) => {
      cards.record(flow.flowId, flow.kind, step, { ...missing, ...payload });
      missing = {};
    };
    if (flow.lastStep === CONTENT_STEP.OUTCOME_UNKNOWN) return 'waiting'; // no card holds it any more
    const from = holders.get(flow.fromId)?.client;
    const to = holders.get(flow.toId)?.client;
    let txId = flow.txId;
    // The journaled ID is certainly the first card's transfer of this flow when the card's record was
    // found on it, or the receiver's commit instruction for it was journaled (a replayed or damaged ID
    // never gets past CONTENT RECEIVE). If the card no longer holds that record, it evicted it once
    // settled: the transfer ended, perhaps at another terminal, and the other card's record says how
    // (content-flows.ts, transmissionEndedElsewhere); it is never searched for as if never journaled.
    const certain = flow.origin === 'found-on-card' || this.commitRelayed(flow);
    let onFirstCard: 'flow' | 'other' | 'none' = 'flow';
    // A transfer found on the receiving card is known by the ID both cards' signatures bind.
    if (txId && from && !flow.origin) onFirstCard = await this.firstCardRecord(from, flow, txId);
    if (onFirstCard === 'other' || (onFirstCard === 'none' && !certain)) {
      // The first card answered CONTENT SEND with the ID of a transfer that is not this flow's (an
      // earlier answer replayed, or one corrupted on its way), or holds none under an ID no card
      // confirmed. Settling by another transfer's record would report its outcome as this one's; the
      // card's own open transfer, if it made one, is found as if its ID had never been journaled.
      txId = undefined;
    }
    if (!txId) {
      // Interrupted before the first transfer ID was journaled: the card may have opened it anyway
      // (its answer lost). It never reached the other card (the terminal never relayed it).
      if (!from) return 'waiting';
      const found = await this.findUnjournaled(from, flow);
      if (!found) {
        record(CONTENT_STEP.ROLLED_BACK, { reason: 'the first card never started it' });
        return 'rolled-back';
      }
      txId = toHex(found.txId);
      if (flow.kind === 'content-transfer') record(CONTENT_STEP.SENT, { txId, foundOnCard: true });
      else record(CONTENT_STEP.FIRST_SENT, { firstTxId: txId, foundOnCard: true });
    }
    const policy: ReleasePolicy = {
      ...releasePolicy(flow),
      ...(certain ? { firstCard: { holderId: flow.fromId, given: this.givenHere(flow) } } : {}),
    };
    if (flow.origin === 'delivered' && policy.releaseProof)
      return returnDelivered(from, fromHex(txId), policy.releaseProof, record);
    if (flow.kind === 'content-transfer') return recoverTransmission(from, to, fromHex(txId), record, policy);
    return recoverExchange(
      from,
      to,
      fromHex(txId),
      record,
      flow.secondTxId ? fromHex(flow.secondTxId) : undefined,
      policy,
    );
  }

  /** Whether this flow relayed the first half's commit instruction (COMMIT goes out only after that). */
  private commitRelayed(flow: ContentFlowRecord): boolean {
    const step = commitRelayedStep(flow.kind);
    return this.entries(flow.flowId).some((e) => e.step === step);
  }

  /** Whether the journal holds the receiver's acceptance of the first half (an exchange: its half given for it). */
  private givenHere(flow: ContentFlowRecord): boolean {
    const step = flow.kind === 'content-transfer' ? CONTENT_STEP.ACCEPTED : CONTENT_STEP.FIRST_ACCEPTED;
    return this.entries(flow.flowId).some((e) => e.step === step);
  }

  private missingCertificates(
    flow: ContentFlowRecord,
    holders: Map<string, CardSession>,
  ): Record<string, string> {
    const entries = this.entries(flow.flowId);
    const out: Record<string, string> = {};
    ROLES[flow.kind].forEach((role, i) => {
      const card = holders.get(i === 0 ? flow.fromId : flow.toId);
      const key = `${role}Certificate`;
      if (card && !entries.some((e) => typeof e.payload[key] === 'string'))
        out[key] = certificatePayload(role, card.certificate)[key]!;
    });
    return out;
  }

  /**
   * Whether the first card's record under `txId` can be this flow's first transfer ('flow'): to this
   * peer, of this offer, no other open flow's, and committed only if this flow relayed the commit
   * instruction (COMMIT goes out only after that is journaled; recovery never commits). 'none': the
   * card holds no record under it (evicted once settled, or never its ID).
   */
  private async firstCardRecord(
    card: SettlementClient,
    flow: ContentFlowRecord,
    txId: string,
  ): Promise<'flow' | 'other' | 'none'> {
    const out = (await statusOf(card, fromHex(txId))).find((r) => r.direction === 'out');
    if (!out) return 'none';
    if (toHex(out.peerId) !== flow.toId || out.exchangeInitiator !== (flow.kind === 'content-exchange'))
      return 'other';
    if (!carriesOffer(out, flow.offer)) return 'other';
    // A delivered release proof for the transfer (content-delivery.ts) is no rival: it settles it too.
    const rival = (f: ContentFlowRecord) => f.flowId !== flow.flowId && f.origin !== 'delivered';
    if (this.openFlows().some((f) => rival(f) && (f.txId === txId || f.secondTxId === txId))) return 'other';
    if (out.status !== 'deleted' && out.status !== 'acknowledged') return 'flow';
    return this.commitRelayed(flow) ? 'flow' : 'other';
  }

  /** The card's open outgoing transfer of this flow that the journal never learned the ID of. */
  private async findUnjournaled(
    card: SettlementClient,
    flow: ContentFlowRecord,
  ): Promise<ContentTransferRecord | undefined> {
    const known = new Set(
      this.openFlows().flatMap((f) => [f.txId, f.secondTxId].filter((x): x is string => x !== undefined)),
    );
    return (await card.unsettledContentTransfers()).find(
      (r) =>
        r.direction === 'out' &&
        r.status === 'open' &&
        toHex(r.peerId) === flow.toId &&
        r.linkTxId === undefined &&
        r.exchangeInitiator === (flow.kind === 'content-exchange') &&
        !known.has(toHex(r.txId)) &&
        carriesOffer(r, flow.offer),
    );
  }
}
