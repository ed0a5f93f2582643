// What each content flow journals when it starts and which relay it runs: a transmission (Figs. 6–7)
// from one card to the other, or an exchange (Fig. 8) of the initiator's offer for the responder's.
// The engine runs a plan once both cards are read, checked and authenticated with each other.
import type { FlowFacts } from '../../../db/flow-facts.js';
import { toHex } from '../../../protocol/bytes.js';
import { cardFact } from '../settlement/card-facts.js';
import type { CardSession } from '../settlement/card-session.js';
import type { SlotName } from '../slots/reader-slots.js';
import { otherSlot } from './card-to-card-session.js';
import { exchangeContents, type Recorder, transmitContent } from './content-flows.js';
import { describeOffer, toFlowOffer } from './content-offers.js';
import { type ContentFlowKind, type OfferRecord, partiesPayload } from './content-record.js';
import type { ContentOffer } from './content-views.js';
import type { SlotTracker } from './slot-tracker.js';

/** The two cards of a flow, authenticated with each other: their sessions and session IDs. */
export interface FlowContext {
  sessions: Record<SlotName, CardSession>;
  ids: Record<SlotName, Uint8Array>;
  sessionId: string;
}

export interface FlowPlan {
  /** The 'started' entry's payload. */
  started: Record<string, unknown>;
  /** The flow's facts for the log's index: its two cards, the items and the e-money offered. */
  facts: FlowFacts;
  /** Runs the relay, each card answer journaled through `record`; returns the transfer IDs. */
  run: (record: Recorder, tracker: SlotTracker) => Promise<string[]>;
}

export interface ContentFlow {
  kind: ContentFlowKind;
  /** The card whose command goes out first: named by a failure no card can be blamed for. */
  from: SlotName;
  plan(ctx: FlowContext): Promise<FlowPlan>;
}

/** Transmission of `offer` from the card in `from` to the other card. */
export function transmission(from: SlotName, offer: ContentOffer): ContentFlow {
  const to = otherSlot(from);
  return {
    kind: 'content-transfer',
    from,
    plan: async ({ sessions, ids, sessionId }) => ({
      ...startedWithFacts(
        [sessions[from], sessions[to]],
        [await describeOffer(sessions[from], offer, 'the sender')],
        (parties, [described]) => ({
          ...partiesPayload('content-transfer', parties),
          offer: described,
          sessionId,
        }),
      ),
      run: async (record, tracker) => {
        const sessionIds = { sender: ids[from], receiver: ids[to] };
        const clients = [tracker.client(sessions[from]), tracker.client(sessions[to])] as const;
        const r = await transmitContent(...clients, sessionIds, toFlowOffer(offer), record);
        return [toHex(r.txId)];
      },
    }),
  };
}

/** Exchange of the initiator's `give` for the responder's `take`, atomically. */
export function exchange(initiator: SlotName, give: ContentOffer, take: ContentOffer): ContentFlow {
  const responder = otherSlot(initiator);
  return {
    kind: 'content-exchange',
    from: initiator,
    plan: async ({ sessions, ids, sessionId }) => ({
      ...startedWithFacts(
        [sessions[initiator], sessions[responder]],
        [
          await describeOffer(sessions[initiator], give, 'the initiator'),
          await describeOffer(sessions[responder], take, 'the responder'),
        ],
        (parties, [described, taken]) => ({
          ...partiesPayload('content-exchange', parties),
          give: described,
          take: taken,
          sessionId,
        }),
      ),
      run: async (record, tracker) => {
        const sessionIds = { initiator: ids[initiator], responder: ids[responder] };
        const clients = [tracker.client(sessions[initiator]), tracker.client(sessions[responder])] as const;
        const r = await exchangeContents(
          ...clients,
          sessionIds,
          toFlowOffer(give),
          toFlowOffer(take),
          record,
        );
        return [toHex(r.first), toHex(r.second)];
      },
    }),
  };
}

/**
 * The 'started' payload and the flow's facts, from the same two cards and offers: the cards in role
 * order, the items offered, and the e-money one side gives (the value leg of an exchange).
 */
function startedWithFacts(
  cards: [CardSession, CardSession],
  offers: OfferRecord[],
  started: (parties: [CardSession, CardSession], offers: OfferRecord[]) => Record<string, unknown>,
): { started: Record<string, unknown>; facts: FlowFacts } {
  const money = offers.find((o) => 'amount' in o);
  return {
    started: started(cards, offers),
    facts: {
      cards: cards.map(cardFact),
      items: offers.flatMap((o) => ('label' in o ? [{ label: o.label, type: o.type }] : [])),
      ...(money && 'amount' in money ? { amount: money.amount, currency: money.currency } : {}),
    },
  };
}
