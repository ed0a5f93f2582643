// Release proofs from the issuer host (docs/issuer-host.md, "Release proofs"): when a recovery pass
// sees a card that holds a debit a release proof could settle (GET CARD INFO's unsettled debits), the
// terminal asks the host, in the background, for the proofs other terminals uploaded for that card as
// payer, and delivers them through the recovery surface (TerminalRecovery.deliverFetched, under the
// engine's lock). Nothing waits for it: the request runs outside the lock, bounded by the link's
// timeout, and a failure is a recovery event; the next pass that sees the card asks again.
//
// The host is not trusted with value: a proof only moves anything if the payer card verifies its MAC.
// It is trusted with nothing else either: an answer larger than MAX_ANSWER_BYTES, not a list, or with
// entries that are not release deliveries for this very card is reported and those entries dropped;
// at most MAX_PROOFS are taken per answer (the rest on a later presentation, once the host has seen
// these delivered); the same proof twice is delivered once; and a card that holds no record a proof
// settles is not sent it (nothing journaled). A proof the card refuses ends its own 'delivered' flow
// (failed-no-value-moved), reported, and the others go on.
import { TerminalError, toTerminalError } from '../../../protocol/errors.js';
import { RELEASE_PROOFS_PATH } from '../../../protocol/host-link/clearing-wire.js';
import type { HostLinkClient } from '../host-link/host-failover.js';
import {
  type CardSeen,
  type FetchedDelivery,
  type ReleaseDelivery,
  releaseDeliverySchema,
  type TerminalRecovery,
  whenIdle,
} from './terminal-recovery.js';

/** Proofs taken from one answer. */
export const MAX_PROOFS = 32;
/** Bytes of one answer: MAX_PROOFS proofs are about 10 KiB of JSON. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface HostReleaseProofsOptions {
  recovery: Pick<TerminalRecovery, 'onCardsSeen' | 'deliverFetched' | 'report'>;
  client: Pick<HostLinkClient, 'call'>;
  /** How long to wait before asking a busy engine again (default 100 ms). */
  retryMs?: number;
}

export interface FetchResult {
  holderId: string;
  /** Proofs the host's answer held that were taken (valid, this card's, once each, within the cap). */
  taken: number;
  delivered: FetchedDelivery[];
}

export class HostReleaseProofs {
  private readonly inFlight = new Map<string, Promise<FetchResult | TerminalError>>();
  private unwatch: (() => void) | undefined;
  private closed = false;

  constructor(private readonly o: HostReleaseProofsOptions) {}

  /** Asks the host after every pass that sees a card with debits a proof could settle. */
  start(): void {
    if (this.unwatch || this.closed) return;
    this.unwatch = this.o.recovery.onCardsSeen((cards) => {
      for (const c of cards) if (c.unsettledDebits > 0) void this.fetchFor(c.holderId);
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
   * One fetch and delivery for a card (joined if one runs for it already). Never throws: the error is
   * reported as a recovery event and returned.
   */
  fetchFor(holderId: CardSeen['holderId']): Promise<FetchResult | TerminalError> {
    const id = holderId.toUpperCase();
    const running = this.inFlight.get(id);
    if (running) return running;
    const work = this.fetchAndDeliver(id)
      .catch((e: unknown) => {
        const error = toTerminalError(e);
        this.o.recovery.report({ type: 'error', trigger: 'delivery', error });
        return error;
      })
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, work);
    return work;
  }

  private async fetchAndDeliver(holderId: string): Promise<FetchResult> {
    let answer: unknown;
    try {
      answer = await this.o.client.call<unknown>(
        'GET',
        `${RELEASE_PROOFS_PATH}?card=${holderId}`,
        undefined,
        {
          maxResponseBytes: MAX_ANSWER_BYTES,
        },
      );
    } catch (e) {
      const error = toTerminalError(e);
      throw new TerminalError(
        error.code,
        `the issuer host’s release proofs for card ${holderId} could not be fetched: ${error.message}`,
        { ...error.details, holderId },
      );
    }
    const proofs = this.takeFrom(answer, holderId);
    if (proofs.length === 0 || this.closed) return { holderId, taken: proofs.length, delivered: [] };
    const delivered = await whenIdle(
      () => this.o.recovery.deliverFetched(holderId, proofs),
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
          `card ${holderId} refused a release proof from the issuer host: it is not genuine (nothing changed)`,
          { holderId, txRandom: d.txRandom, ...(d.flowId ? { flowId: d.flowId } : {}) },
        ),
      });
    }
    return { holderId, taken: proofs.length, delivered };
  }

  /** The answer's valid proofs for this card as payer, once each, at most MAX_PROOFS; the rest reported. */
  private takeFrom(answer: unknown, holderId: string): ReleaseDelivery[] {
    if (!Array.isArray(answer)) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `the issuer host answered the release proofs for card ${holderId} with something that is not a list`,
        { holderId },
      );
    }
    const taken = new Map<string, ReleaseDelivery>();
    let refused = 0;
    for (const entry of answer) {
      const parsed = releaseDeliverySchema.safeParse(entry);
      if (!parsed.success || parsed.data.payerId.toUpperCase() !== holderId) {
        refused++;
        continue;
      }
      const key = parsed.data.txRandom.toUpperCase();
      if (!taken.has(key) && taken.size < MAX_PROOFS) taken.set(key, parsed.data);
    }
    if (refused > 0) {
      this.o.recovery.report({
        type: 'error',
        trigger: 'delivery',
        error: new TerminalError(
          'E_INPUT_INVALID',
          `the issuer host’s answer for card ${holderId} held ${refused} entr${refused === 1 ? 'y' : 'ies'} that ${refused === 1 ? 'is' : 'are'} not a release proof for that card as payer (left alone)`,
          { holderId, refused },
        ),
      });
    }
    return [...taken.values()];
  }
}
