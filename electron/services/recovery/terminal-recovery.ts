// The terminal's one recovery surface (issue 13): value transfers, key updates, content flows,
// records found on a card that no flow of this terminal accounts for, and the delivery of release
// proofs, all settled in one pass with the cards present. Every host (Electron, the browser host,
// the console, the CLI) runs it the same three ways: at start-up, on every card insertion (retried
// while the engine is busy with an operation, failures reported, never swallowed), and on demand.
//
// The pass runs under the engine's lock (withCards), so it never interleaves with a payment or an
// exchange; a card inserted while one runs is recovered as soon as it ends.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Flows } from '../../../db/flows.js';
import type { Journal } from '../../../db/journal.js';
import { fromHex } from '../../../protocol/bytes.js';
import { isTerminalError, TerminalError, toTerminalError } from '../../../protocol/errors.js';
import type { ContentReleaseProof } from '../../../protocol/host-link/clearing-wire.js';
import { RECORD_STATUS } from '../../../protocol/settlement/commands.js';
import {
  closeReturnedFlows,
  deliveredOutcome,
  journalContentDelivery,
  normalisedContentProof,
  returnSettles,
} from '../contents/content-delivery.js';
import { statusOf } from '../contents/content-flows.js';
import { ContentFlowRecovery } from '../contents/content-recovery.js';
import type { ContentRecoveryReport } from '../contents/content-views.js';
import type { RecoveryFailure } from '../settlement/flow-isolation.js';
import { recordOrUndefined, settlesWithRelease } from '../settlement/release-delivery.js';
import type { CardAccess, RecoveryReport, SettlementEngine } from '../settlement/settlement-engine.js';
import { foldTransfer, TRANSFER_STEP } from '../settlement/transfer-record.js';
import type { RecoveryOutcome } from '../settlement/transfer-recovery.js';
import type { ReaderSlots } from '../slots/reader-slots.js';
import { adoptForeignRecords, indexFacts } from './foreign-records.js';
import { type InDoubtView, inDoubtView, type PendingDelivery } from './in-doubt.js';

export type { InDoubtView, OpenContentFlow, PendingDelivery } from './in-doubt.js';

export type RecoveryTrigger = 'start-up' | 'card-inserted' | 'on-demand' | 'delivery';

export interface RecoveryRun {
  transfers: RecoveryReport[];
  contents: ContentRecoveryReport[];
  /** Records found on the cards that no flow of this terminal accounted for, adopted this pass. */
  adopted: number;
  /**
   * Flows whose recovery failed while the pass went on (flow-isolation.ts): each stays open as far
   * as it got, and is also reported as an 'error' event.
   */
  failures: RecoveryFailure[];
}

export type RecoveryEvent =
  | { type: 'run'; trigger: RecoveryTrigger; run: RecoveryRun }
  | { type: 'error'; trigger: RecoveryTrigger; error: TerminalError };

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9A-Fa-f]{${2 * bytes}}$`));

/** A release proof to deliver, from wherever it was made (this terminal, another one, the issuer). */
// An entry of another terminal's in-doubt list (pendingDeliveries()) is one: its other fields are ignored.
export const releaseDeliverySchema = z.object({
  payerId: hex(16),
  payeeId: hex(16),
  amount: z.number().int().min(1).max(0xffffffff),
  currency: z.number().int().min(0).max(999),
  date: z.number().int().min(0).max(0xffffffff),
  txRandom: hex(16),
  rxRandom: hex(16),
  releaseProof: hex(16),
});
export type ReleaseDelivery = z.infer<typeof releaseDeliverySchema>;

export type DeliveryOutcome = RecoveryOutcome | 'failed-no-value-moved';

/** What became of one fetched release proof (deliverFetched). */
export interface FetchedDelivery {
  txRandom: string;
  /** 'nothing-to-settle': the card holds no record the proof settles (taken already, evicted, never). */
  outcome: DeliveryOutcome | 'nothing-to-settle' | 'card-absent';
  flowId?: string;
}

/** A card seen by a recovery pass, and whether a release proof could settle anything on it. */
export interface CardSeen {
  holderId: string;
  /** Open or debited payer records (GET CARD INFO): what a release proof can settle. */
  unsettledDebits: number;
  /**
   * Its outgoing content transfers still open or deleted, sends or exchanges' first halves (the
   * unsettled content records the pass reads anyway): what a content release proof can settle.
   */
  contentsOut: number;
}

/** What became of one fetched content release proof (deliverFetchedContent). */
export interface FetchedContentDelivery {
  txId: string;
  outcome:
    | 'rolled-back'
    | 'failed-no-value-moved'
    | 'waiting-for-sender'
    | 'nothing-to-settle'
    | 'card-absent';
  flowId?: string;
}

export interface TerminalRecoveryOptions {
  engine: Pick<SettlementEngine, 'withCards' | 'openTransfers'>;
  journal: Journal;
  flows: Flows;
  slots: Pick<ReaderSlots, 'on'>;
  /** How long to wait before asking a busy engine again (default 100 ms). */
  retryMs?: number;
}

export class TerminalRecovery {
  private readonly contents: ContentFlowRecovery;
  private readonly listeners = new Set<(e: RecoveryEvent) => void>();
  private readonly seenListeners = new Set<(cards: CardSeen[], trigger: RecoveryTrigger) => void>();
  private unwatch: (() => void) | undefined;
  private pending: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(private readonly o: TerminalRecoveryOptions) {
    this.contents = new ContentFlowRecovery(o);
  }

  on(listener: (e: RecoveryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The cards each pass saw (start-up, insertion, on demand), after it: the host's proofs are asked for them. */
  onCardsSeen(listener: (cards: CardSeen[], trigger: RecoveryTrigger) => void): () => void {
    this.seenListeners.add(listener);
    return () => this.seenListeners.delete(listener);
  }

  /** A recovery event from a part of the surface that runs beside the passes (the host's proofs). */
  report(e: RecoveryEvent): void {
    this.emit(e);
  }

  /**
   * One pass with the cards present: foreign records adopted, then every open flow that one of them
   * takes part in settled as far as they allow. Refused with E_BUSY while an operation runs.
   */
  async run(trigger: RecoveryTrigger = 'on-demand'): Promise<RecoveryRun> {
    const unreadable: TerminalError[] = [];
    const seen: CardSeen[] = [];
    const run = await this.o.engine.withCards((cards) => this.pass(cards, unreadable, seen));
    // A card present but not readable is left out of the pass, a flow that failed is left open: said,
    // not swallowed.
    for (const error of unreadable) this.emit({ type: 'error', trigger, error });
    for (const { error } of run.failures) this.emit({ type: 'error', trigger, error });
    this.emit({ type: 'run', trigger, run });
    if (seen.length > 0) for (const l of this.seenListeners) l(seen, trigger);
    return run;
  }

  /**
   * Start-up: one pass before the operator can start anything (its failure is reported and returned,
   * the terminal still starts), then a pass on every card insertion.
   */
  async start(): Promise<RecoveryRun | TerminalError> {
    this.watchInsertions();
    try {
      return await this.run('start-up');
    } catch (e) {
      const error = toTerminalError(e);
      this.emit({ type: 'error', trigger: 'start-up', error });
      return error;
    }
  }

  /** A pass on every card insertion, retried while the engine is busy; idempotent. */
  watchInsertions(): void {
    if (this.unwatch || this.closed) return;
    this.unwatch = this.o.slots.on((event) => {
      if (event.type === 'card-inserted') this.requestPass();
    });
  }

  /** Resolves when no insertion pass is waiting or running (tests; a host's orderly stop). */
  async settled(): Promise<void> {
    while (this.pending) await this.pending;
  }

  close(): void {
    this.closed = true;
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** What is still open, from the journal alone. */
  inDoubt(): InDoubtView {
    return inDoubtView(this.o);
  }

  /** Release proofs journaled here that their payer card has not taken yet. */
  pendingDeliveries(): PendingDelivery[] {
    return this.inDoubt().deliveries;
  }

  /**
   * Takes a release proof to its payer card, wherever the proof was made: journaled first in a flow
   * of its own, of origin 'delivered', then REFUND DEBIT if the payer card is present, else when it
   * is next presented. The card verifies the proof: one that is not genuine changes nothing and ends
   * its own flow 'failed-no-value-moved'. Never journaled into an open flow of this terminal for the
   * same transfer: a proof from a file is anyone's bytes, and a refused one there would leave that
   * flow holding a proof its card rejects at every pass. That flow closes when it sees the payer's
   * record refunded.
   */
  async deliver(input: unknown): Promise<{ flowId: string; outcome: DeliveryOutcome }> {
    const parsed = releaseDeliverySchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TerminalError(
        'E_INPUT_INVALID',
        `release proof: ${issue?.path.join('.') || 'input'} ${issue?.message ?? 'is not valid'}`,
      );
    }
    const p = normalised(parsed.data);
    const flowId = await this.o.engine.withCards(async (cards) => {
      const id = this.journalDelivery(cards, p);
      await settleDeliveries(cards, await cards.present());
      return id;
    });
    return { flowId, outcome: this.deliveryOutcome(flowId) };
  }

  /**
   * Release proofs fetched for the card `holderId` (host-release-proofs.ts), already validated as
   * deliveries whose payer is that card. Delivered only while that card is present, and only those
   * that settle a record it holds (an open debit, or a debit of the proof's reception random): each in
   * a flow of its own of origin 'delivered', so a proof the card refuses ends there without touching
   * this terminal's other flows. What the card no longer holds is left alone and reported as such.
   */
  async deliverFetched(holderId: string, proofs: readonly ReleaseDelivery[]): Promise<FetchedDelivery[]> {
    const results = await this.o.engine.withCards(async (cards): Promise<FetchedDelivery[]> => {
      const present = await cards.present();
      const payer = present.find((c) => c.holderIdHex === holderId.toUpperCase());
      if (!payer) return proofs.map((p) => ({ txRandom: p.txRandom, outcome: 'card-absent' as const }));
      const out: FetchedDelivery[] = [];
      for (const proof of proofs) {
        const p = normalised(proof);
        const onCard = await recordOrUndefined(payer, fromHex(p.txRandom));
        const settles =
          onCard !== undefined &&
          (onCard.status === RECORD_STATUS.DEBIT_OPEN || onCard.status === RECORD_STATUS.DEBIT_DEBITED) &&
          settlesWithRelease(onCard, p);
        if (!settles) out.push({ txRandom: p.txRandom, outcome: 'nothing-to-settle' });
        else
          out.push({
            txRandom: p.txRandom,
            outcome: 'waiting-for-payer',
            flowId: this.journalDelivery(cards, p),
          });
      }
      if (out.some((d) => d.flowId)) {
        const transfers = await settleDeliveries(cards, present);
        this.emit({
          type: 'run',
          trigger: 'delivery',
          run: { transfers, contents: [], adopted: 0, failures: [] },
        });
      }
      return out;
    });
    return results.map((d) => (d.flowId ? { ...d, outcome: this.deliveryOutcome(d.flowId) } : d));
  }

  /**
   * Content release proofs fetched for the sender card `holderId` (host-release-proofs.ts), already
   * validated as proofs whose sender is that card: like deliverFetched, each that settles a record the
   * card holds (its open or deleted outgoing transfer to that receiver) in a flow of its own of origin
   * 'delivered' (contents/content-delivery.ts), taken to the card at once (CONTENT RETURN); an open
   * flow of this terminal for the same transfer then closes. The rest is left alone.
   */
  async deliverFetchedContent(
    holderId: string,
    proofs: readonly ContentReleaseProof[],
  ): Promise<FetchedContentDelivery[]> {
    const results = await this.o.engine.withCards(async (cards): Promise<FetchedContentDelivery[]> => {
      const present = await cards.present();
      const sender = present.find((c) => c.holderIdHex === holderId.toUpperCase());
      if (!sender) return proofs.map((p) => ({ txId: p.txId, outcome: 'card-absent' as const }));
      const open = this.contents.openFlows();
      const out: FetchedContentDelivery[] = [];
      for (const proof of proofs) {
        const p = normalisedContentProof(proof);
        const onCard = (await statusOf(sender.client, fromHex(p.txId))).find((r) => r.direction === 'out');
        if (!returnSettles(onCard, p)) {
          out.push({ txId: p.txId, outcome: 'nothing-to-settle' });
          continue;
        }
        // A delivery of this very proof interrupted before the card answered is taken again.
        const holding = open.find(
          (f) => f.origin === 'delivered' && f.txId === p.txId && f.releaseProof === p.releaseProof,
        );
        const flowId = holding?.flowId ?? journalContentDelivery(cards, sender, p, onCard);
        out.push({ txId: p.txId, outcome: 'waiting-for-sender', flowId });
      }
      if (out.some((d) => d.flowId)) {
        const contents = await this.contents.recoverDeliveries(
          cards,
          present,
          out.flatMap((d) => (d.flowId ? [d.flowId] : [])),
        );
        const txIds = new Set(out.flatMap((d) => (d.flowId ? [d.txId] : [])));
        contents.push(...(await closeReturnedFlows(cards, this.contents.openFlows(), sender, txIds)));
        this.emit({
          type: 'run',
          trigger: 'delivery',
          run: { transfers: [], contents, adopted: 0, failures: [] },
        });
      }
      return out;
    });
    return results.map((d) =>
      d.flowId ? { ...d, outcome: deliveredOutcome(this.o.journal.entriesForFlow(d.flowId)) } : d,
    );
  }

  /**
   * Journals a release proof to deliver in a flow of origin 'delivered'. An open flow that already
   * holds this very proof is taken again instead (a delivery interrupted before the card answered, or
   * this terminal's own release): nothing is journaled twice.
   */
  private journalDelivery(cards: CardAccess, p: ReleaseDelivery): string {
    const holding = this.o.engine
      .openTransfers()
      .find(
        (r) =>
          r.payerId === p.payerId &&
          r.txRandom === p.txRandom &&
          r.rxRandom === p.rxRandom &&
          r.releaseProof === p.releaseProof,
      );
    if (holding) return holding.flowId;
    const id = randomUUID();
    const { releaseProof: _proof, ...terms } = p;
    cards.record(
      id,
      'value-transfer',
      TRANSFER_STEP.STARTED,
      { origin: 'delivered', ...terms, keyUpdates: [] },
      // The same index as an adopted record's: a delivered file is anyone's bytes.
      indexFacts(p.amount, p.currency, [{ holderId: p.payerId }, { holderId: p.payeeId }]),
    );
    cards.record(id, 'value-transfer', TRANSFER_STEP.RELEASED, {
      txRandom: p.txRandom,
      rxRandom: p.rxRandom,
      releaseProof: p.releaseProof,
      payeeSettled: true,
    });
    return id;
  }

  private deliveryOutcome(flowId: string): DeliveryOutcome {
    const r = foldTransfer(this.o.journal.entriesForFlow(flowId));
    if (r.lastStep === TRANSFER_STEP.REFUSED) return 'failed-no-value-moved';
    return r.lastStep === TRANSFER_STEP.REFUNDED || r.lastStep === TRANSFER_STEP.ROLLED_BACK
      ? 'rolled-back'
      : r.lastStep === TRANSFER_STEP.COMPLETED
        ? 'completed'
        : 'waiting-for-payer';
  }

  private async pass(cards: CardAccess, unreadable: TerminalError[], seen: CardSeen[]): Promise<RecoveryRun> {
    const present = await cards.present((slot, e) => {
      const error = toTerminalError(e);
      unreadable.push(
        new TerminalError(error.code, `the ${slot} card could not be read: ${error.message}`, {
          ...error.details,
          slot,
        }),
      );
    });
    const contentsOut = new Map<string, number>();
    const failures: RecoveryFailure[] = [];
    if (present.length === 0) return { transfers: [], contents: [], adopted: 0, failures };
    const failed = (f: RecoveryFailure) => failures.push(f);
    const adopted = await adoptForeignRecords(
      cards,
      present,
      { transfers: this.o.engine.openTransfers(), contents: this.contents.openFlows() },
      failed,
      (card, records) =>
        contentsOut.set(
          card.holderIdHex,
          records.filter(
            (r) => r.direction === 'out' && !r.linkTxId && (r.status === 'open' || r.status === 'deleted'),
          ).length,
        ),
    );
    for (const c of present)
      seen.push({
        holderId: c.holderIdHex,
        unsettledDebits: c.info.unsettledDebits,
        contentsOut: contentsOut.get(c.holderIdHex) ?? 0,
      });
    const transfers = await cards.recoverTransfers(present, failed);
    const contents = await this.contents.recoverWith(cards, present, failed);
    return { transfers, contents, adopted, failures };
  }

  /** Queues an insertion pass; one more runs if a card comes while one is already under way. */
  private requestPass(): void {
    if (this.closed) return;
    if (this.pending) {
      this.again = true;
      return;
    }
    this.pending = this.passUntilDone().finally(() => {
      this.pending = undefined;
    });
  }

  private async passUntilDone(): Promise<void> {
    do {
      this.again = false;
      if (this.closed) return;
      try {
        // The engine is busy with an operation (or the flow that the pulled card interrupted is
        // still recovering): wait for it, the card is still to be recovered.
        await whenIdle(
          () => this.run('card-inserted'),
          this.o.retryMs,
          () => this.closed,
        );
      } catch (e) {
        // Still busy when the recovery closed: nothing to say. Any other failure is said.
        if (!(this.closed && isTerminalError(e, 'E_BUSY')))
          this.emit({ type: 'error', trigger: 'card-inserted', error: toTerminalError(e) });
      }
    } while (this.again && !this.closed);
  }

  private emit(e: RecoveryEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/**
 * Runs card work, asking again every `retryMs` (default 100 ms) while the engine is busy with an
 * operation (a sale goes first); gives up with the refusal once `closed()`.
 */
export async function whenIdle<T>(
  work: () => Promise<T>,
  retryMs: number | undefined,
  closed: () => boolean,
): Promise<T> {
  for (;;) {
    try {
      return await work();
    } catch (e) {
      if (closed() || !isTerminalError(e, 'E_BUSY')) throw e;
      await new Promise((resolve) => setTimeout(resolve, retryMs ?? 100));
    }
  }
}

/** Hex in upper case, as the journal writes it everywhere else. */
function normalised(p: ReleaseDelivery): ReleaseDelivery {
  const up = (s: string) => s.toUpperCase();
  return {
    ...p,
    payerId: up(p.payerId),
    payeeId: up(p.payeeId),
    txRandom: up(p.txRandom),
    rxRandom: up(p.rxRandom),
    releaseProof: up(p.releaseProof),
  };
}

/**
 * Delivers the journaled release proofs to the cards present, then looks again: a flow of this
 * terminal for the same transfer (one adopted from the payer card at its insertion) sees the payer's
 * record refunded only after the delivery's flow sent REFUND DEBIT, and closes. Each flow's last report.
 */
async function settleDeliveries(
  cards: CardAccess,
  present: Awaited<ReturnType<CardAccess['present']>>,
): Promise<RecoveryReport[]> {
  const first = await cards.recoverTransfers(present);
  const second = await cards.recoverTransfers(present);
  return [...new Map([...first, ...second].map((t) => [t.flowId, t])).values()];
}
