// What each content flow journals when it starts and which relay it runs: a transmission (Figs. 6–7)
// from one card to the other, or an exchange (Fig. 8) of the initiator's offer for the responder's.
// The engine runs a plan once both cards are read, checked and authenticated with each other.
import { toHex } from '../../../protocol/bytes.js';
import type { CardSession } from '../settlement/card-session.js';
import type { SlotName } from '../slots/reader-slots.js';
import { otherSlot } from './card-to-card-session.js';
import { exchangeContents, type Recorder, transmitContent } from './content-flows.js';
import { describeOffer, toFlowOffer } from './content-offers.js';
import { type ContentFlowKind, partiesPayload } from './content-record.js';
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
      started: {
        ...partiesPayload('content-transfer', [sessions[from], sessions[to]]),
        offer: await describeOffer(sessions[from], offer, 'the sender'),
        sessionId,
      },
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
      started: {
        ...partiesPayload('content-exchange', [sessions[initiator], sessions[responder]]),
        give: await describeOffer(sessions[initiator], give, 'the initiator'),
        take: await describeOffer(sessions[responder], take, 'the responder'),
        sessionId,
      },
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
