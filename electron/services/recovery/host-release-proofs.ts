// Release proofs from the issuer host (docs/issuer-host.md, "Release proofs"), of two kinds: a payee's
// release of a value transfer for its payer card (protocol §4.5), and a receiver's release of a
// content send or exchange's first half for its sender card (§9.1). When a recovery pass sees a card
// that holds a record a proof of a kind could settle (GET CARD INFO's unsettled debits; the unsettled
// content records the pass reads anyway: its outgoing transfers still open or deleted), the terminal
// asks the host, in the background, for the proofs other terminals uploaded for that card, and
// delivers them through the recovery surface (TerminalRecovery.deliverFetched / deliverFetchedContent,
// under the engine's lock). Nothing waits for it: the request runs outside the lock, bounded by the
// link's timeout, and a failure is a recovery event; the next pass that sees the card asks again.
//
// The host is not trusted with value: a proof only moves anything if the card verifies it. It is
// trusted with nothing else either: an answer larger than MAX_ANSWER_BYTES, not a list, or with
// entries that are not proofs of that kind for this very card is reported and those entries dropped;
// at most MAX_PROOFS are taken per answer (the rest on a later presentation, once the host has seen
// these delivered); the same proof twice is delivered once; and a card that holds no record a proof
// settles is not sent it (nothing journaled). A proof the card refuses ends its own 'delivered' flow
// (failed-no-value-moved), reported, and the others go on.
import type { z } from 'zod';
import { TerminalError, toTerminalError } from '../../../protocol/errors.js';
import {
  CONTENT_RELEASE_PROOFS_PATH,
  type ContentReleaseProof,
  contentReleaseProofSchema,
  RELEASE_PROOFS_PATH,
} from '../../../protocol/host-link/clearing-wire.js';
import type { HostLinkClient } from '../host-link/host-failover.js';
import {
  type CardSeen,
  type FetchedContentDelivery,
  type FetchedDelivery,
  type ReleaseDelivery,
  releaseDeliverySchema,
  type TerminalRecovery,
  whenIdle,
} from './terminal-recovery.js';

/** Proofs taken from one answer. */
export const MAX_PROOFS = 32;
/** Bytes of one answer: MAX_PROOFS proofs are about 10 KiB (value) or 20 KiB (contents) of JSON. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface HostReleaseProofsOptions {
  recovery: Pick<TerminalRecovery, 'onCardsSeen' | 'deliverFetched' | 'deliverFetchedContent' | 'report'>;
  client: Pick<HostLinkClient, 'call'>;
  /** How long to wait before asking a busy engine again (default 100 ms). */
  retryMs?: number;
}

/** One kind of proof: where the host serves it, how an entry is read, and how it is delivered. */
interface ProofKind<P, D extends { outcome: string; flowId?: string }> {
  /** What the messages call it. */
  noun: string;
  path: string;
  /** Whether the card holds a record a proof of this kind could settle. */
  wanted(card: CardSeen): boolean;
  schema: z.ZodType<P>;
  /** The card the proof gives back to (holder ID, any case). */
  ownerOf(p: P): string;
  /** Its transfer's ID: one proof per transfer and answer. */
  keyOf(p: P): string;
  deliver(recovery: HostReleaseProofsOptions['recovery'], holderId: string, proofs: P[]): Promise<D[]>;
  /** What a refusal's report names of the proof. */
  idOf(d: D): Record<string, string>;
}

const VALUE: ProofKind<ReleaseDelivery, FetchedDelivery> = {
  noun: 'release proof',
  path: RELEASE_PROOFS_PATH,
  wanted: (c) => c.unsettledDebits > 0,
  schema: releaseDeliverySchema,
  ownerOf: (p) => p.payerId,
  keyOf: (p) => p.txRandom.toUpperCase(),
  deliver: (recovery, holderId, proofs) => recovery.deliverFetched(holderId, proofs),
  idOf: (d) => ({ txRandom: d.txRandom }),
};

const CONTENT: ProofKind<ContentReleaseProof, FetchedContentDelivery> = {
  noun: 'content release proof',
  path: CONTENT_RELEASE_PROOFS_PATH,
  wanted: (c) => c.contentsOut > 0,
  schema: contentReleaseProofSchema,
  ownerOf: (p) => p.senderId,
  keyOf: (p) => p.txId.toUpperCase(),
  deliver: (recovery, holderId, proofs) => recovery.deliverFetchedContent(holderId, proofs),
  idOf: (d) => ({ txId: d.txId }),
};

export interface FetchResult<D = FetchedDelivery> {
  holderId: string;
  /** Proofs the host's answer held that were taken (valid, this card's, once each, within the cap). */
  taken: number;
  delivered: D[];
}

export class HostReleaseProofs {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private unwatch: (() => void) | undefined;
  private closed = false;

  constructor(private readonly o: HostReleaseProofsOptions) {}

  /** Asks the host after every pass that sees a card with records a proof could settle. */
  start(): void {
    if (this.unwatch || this.closed) return;
    this.unwatch = this.o.recovery.onCardsSeen((cards) => {
      for (const c of cards) {
        if (VALUE.wanted(c)) void this.fetchFor(c.holderId);
        if (CONTENT.wanted(c)) void this.fetchContentFor(c.holderId);
      }
    });
  }

  close(): void {
    this.closed = true;
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** Resolves when no fetch or delivery is under way (tests; a host's orderly stop). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /**
   * One fetch and delivery of a payer card's release proofs (joined if one runs for it already).
   * Never throws: the error is reported as a recovery event and returned.
   */
  fetchFor(holderId: CardSeen['holderId']): Promise<FetchResult | TerminalError> {
    return this.fetchOf(VALUE, holderId);
  }

  /** The same for a sender card's content release proofs. */
  fetchContentFor(
    holderId: CardSeen['holderId'],
  ): Promise<FetchResult<FetchedContentDelivery> | TerminalError> {
    return this.fetchOf(CONTENT, holderId);
  }

  private fetchOf<P, D extends { outcome: string; flowId?: string }>(
    kind: ProofKind<P, D>,
    holderId: string,
  ): Promise<FetchResult<D> | TerminalError> {
    const id = holderId.toUpperCase();
    const key = `${kind.path}\u0000${id}`;
    const running = this.inFlight.get(key);
    if (running) return running as Promise<FetchResult<D> | TerminalError>;
    const work = this.fetchAndDeliver(kind, id)
      .catch((e: unknown) => {
        const error = toTerminalError(e);
        this.o.recovery.report({ type: 'error', trigger: 'delivery', error });
        return error;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  private async fetchAndDeliver<P, D extends { outcome: string; flowId?: string }>(
    kind: ProofKind<P, D>,
    holderId: string,
  ): Promise<FetchResult<D>> {
    let answer: unknown;
    try {
      answer = await this.o.client.call<unknown>('GET', `${kind.path}?card=${holderId}`, undefined, {
        maxResponseBytes: MAX_ANSWER_BYTES,
      });
    } catch (e) {
      const error = toTerminalError(e);
      throw new TerminalError(
        error.code,
        `the issuer host’s ${kind.noun}s for card ${holderId} could not be fetched: ${error.message}`,
        { ...error.details, holderId },
      );
    }
    const proofs = this.takeFrom(kind, answer, holderId);
    if (proofs.length === 0 || this.closed) return { holderId, taken: proofs.length, delivered: [] };
    const delivered = await whenIdle(
      () => kind.deliver(this.o.recovery, holderId, proofs),
      this.o.retryMs,
      () => this.closed,
    );
    for (const d of delivered) {
      if (d.outcome !== 'failed-no-value-moved') continue;
      this.o.recovery.report({
        type: 'error',
        trigger: 'delivery',
        error: new TerminalError(
          'E_CARD_STATUS',
          `card ${holderId} refused a ${kind.noun} from the issuer host: it is not genuine (nothing changed)`,
          { holderId, ...kind.idOf(d), ...(d.flowId ? { flowId: d.flowId } : {}) },
        ),
      });
    }
    return { holderId, taken: proofs.length, delivered };
  }

  /** The answer's valid proofs of this kind for this card, once each, at most MAX_PROOFS; the rest reported. */
  private takeFrom<P, D extends { outcome: string }>(
    kind: ProofKind<P, D>,
    answer: unknown,
    holderId: string,
  ): P[] {
    if (!Array.isArray(answer)) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `the issuer host answered the ${kind.noun}s for card ${holderId} with something that is not a list`,
        { holderId },
      );
    }
    const taken = new Map<string, P>();
    let refused = 0;
    for (const entry of answer) {
      const parsed = kind.schema.safeParse(entry);
      if (!parsed.success || kind.ownerOf(parsed.data).toUpperCase() !== holderId) {
        refused++;
        continue;
      }
      const key = kind.keyOf(parsed.data);
      if (!taken.has(key) && taken.size < MAX_PROOFS) taken.set(key, parsed.data);
    }
    if (refused > 0) {
      this.o.recovery.report({
        type: 'error',
        trigger: 'delivery',
        error: new TerminalError(
          'E_INPUT_INVALID',
          `the issuer host’s answer for card ${holderId} held ${refused} entr${refused === 1 ? 'y' : 'ies'} that ${refused === 1 ? 'is' : 'are'} not a ${kind.noun} for that card (left alone)`,
          { holderId, refused },
        ),
      });
    }
    return [...taken.values()];
  }
}
