// The terminal's content services (seed 000): card-to-card mutual authentication with session modes,
// listing and reading contents as the cards' access levels allow, atomic transmission (Figs. 6–7)
// and exchange (Fig. 8: a ticket for e-money), each journaled step by step, and their recovery.
// Beside it: content-views.ts (what it answers), card-to-card-session.ts (the session it holds),
// content-offers.ts, content-flows.ts (the relays), content-record.ts (the journal's fold and
// CONTENT_STEP) and content-recovery.ts.
//
// All card work goes through SettlementEngine.withCards(): the same held card sessions (so owner
// logins made with engine.login() apply), the same lock, journal, card checks and card-reset policy
// as value transfers (resetsCards: a card's refusal keeps the sessions, a transport failure resets
// the cards). The communication monitor is the slots' waiting time: a card that does not answer in
// time, or is pulled, interrupts the flow; the interruption is journaled and recovery runs at once
// with the cards present. Recovery needs no session: it works from the cards' signed transfer records.
//
// Start-up, "card presented again" and on demand, open content flows are recovered by the terminal's
// one recovery surface (../recovery/terminal-recovery.ts) with value transfers and key updates;
// recover() here settles content flows alone. send() and exchange() also settle open content flows
// between the two cards before they start.
import { randomUUID } from 'node:crypto';
import type { Flows } from '../../../db/flows.js';
import type { Journal } from '../../../db/journal.js';
import { toHex } from '../../../protocol/bytes.js';
import { cardRefusal } from '../../../protocol/card-refusal.js';
import { TerminalError, toTerminalError } from '../../../protocol/errors.js';
import type { CardSession } from '../settlement/card-session.js';
import { cardLabel } from '../settlement/card-view.js';
import type { CardAccess, SettlementEngine } from '../settlement/settlement-engine.js';
import { resetsCards } from '../settlement/slot-sessions.js';
import type { ReaderSlots, SlotName } from '../slots/reader-slots.js';
import { bodyVisible, CardToCardSession, checkModes } from './card-to-card-session.js';
import type { ContentRecovery, Recorder } from './content-flows.js';
import { checkOffer, itemIdBytes } from './content-offers.js';
import { type ContentFlow, exchange, type FlowPlan, transmission } from './content-plans.js';
import {
  CONTENT_STEP,
  type ContentFlowKind,
  type ContentFlowRecord,
  foldContentFlow,
} from './content-record.js';
import { byHolder, ContentFlowRecovery } from './content-recovery.js';
import type {
  AlterOutcome,
  AuthenticationResult,
  ContentListing,
  ContentOffer,
  ContentOutcome,
  ContentRead,
  ContentRecoveryReport,
  SessionModeName,
} from './content-views.js';
import { SlotTracker } from './slot-tracker.js';

export interface ContentEngineOptions {
  /** The journal the settlement engine writes to (read here; written only through withCards). */
  journal: Journal;
  /** The flow-state cache of the journal: the work list of recovery. */
  flows: Flows;
  /** When given, sessions are forgotten as soon as a card is pulled or inserted. */
  slots?: ReaderSlots;
}

export class ContentEngine {
  private readonly session = new CardToCardSession();
  private readonly recovery: ContentFlowRecovery;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly engine: SettlementEngine,
    o: ContentEngineOptions,
  ) {
    this.recovery = new ContentFlowRecovery(o);
    this.unsubscribe =
      o.slots?.on((e) => {
        if (e.type !== 'reader-attached') this.session.forget();
      }) ?? (() => undefined);
  }

  close(): void {
    this.unsubscribe();
    this.session.forget();
  }

  /** The authenticated session as last established, if the terminal still believes it holds. */
  currentSession(): Omit<AuthenticationResult, 'warnings'> | undefined {
    return this.session.current();
  }

  /**
   * Seed 000 Fig. 5 between the payer and payee cards. Both cards are checked first (validity, CA
   * signature, CRL: E_CARD_EXPIRED, E_PKI_SIGNATURE, E_PKI_REVOKED...); then each card checks the
   * other's certificate and holder ID and confirms it, and both agree a session ID. `payerMode` is
   * what the payer card requires of the payee: 'issuer' grants the payee, if it is the issuer card of
   * the payer's contents (or purse), issuer access to them.
   */
  async authenticate(
    modes: { payerMode?: SessionModeName; payeeMode?: SessionModeName } = {},
  ): Promise<AuthenticationResult> {
    const checked = checkModes(modes);
    return this.engine.withCards(async (cards) => {
      this.session.forget(); // a new authentication ends any earlier session
      // Holder ID, validity and certificate as read when the card session opened: a card swapped
      // since is a new channel and so a new session, read afresh.
      const payer = await cards.session('payer');
      const payee = await cards.session('payee');
      if (payer.holderIdHex === payee.holderIdHex)
        throw new TerminalError('E_SAME_CARD', 'the same card is in both slots');
      const warnings = [...cards.check(payer), ...cards.check(payee)];
      const views = await this.session.establish(payer, payee, checked, cards.now());
      return { ...views, warnings };
    });
  }

  /** Ends owner mode and the card-to-card session on the card in `slot` (engine.logout) and forgets the session. */
  async logout(slot: SlotName): Promise<void> {
    this.session.forget();
    await this.engine.logout(slot);
  }

  /** The card's contents as its access level shows them: labels always, bodies only where allowed. */
  listContents(slot: SlotName): Promise<ContentListing> {
    return this.engine.withCards(async (cards) => {
      const session = await cards.session(slot);
      const items = await session.client.listContents();
      const access = await this.session.accessOf(session);
      return {
        slot,
        holderId: session.holderIdHex,
        access,
        // The card decides; the terminal never shows more than the level allows even if it did.
        items: items.map((i) => {
          if (i.body === undefined || bodyVisible(access, i)) return i;
          const { body: _hidden, ...rest } = i;
          return rest;
        }),
      };
    });
  }

  /** READ CONTENT: the body of one item, if the card's access level allows it (else E_ACCESS_DENIED). */
  async readContent(slot: SlotName, itemId: string): Promise<ContentRead> {
    const id = itemIdBytes(itemId);
    return this.engine.withCards(async (cards) => {
      const session = await cards.session(slot);
      try {
        return { slot, itemId: toHex(id), body: toHex(await session.client.readContent(id)) };
      } catch (e) {
        throw cardRefusal(toTerminalError(e), { slot });
      }
    });
  }

  /**
   * UPDATE CONTENT: a new body for an item on the card in `slot`. The card decides who may (the item's
   * issuer in an issuer session for a ticket or coupon, the owner for personal data): a refusal
   * changes nothing. Journaled as an administration flow (alter-requested, then completed or
   * failed-no-value-moved) with the item's public part, never the body.
   */
  alterContent(slot: SlotName, itemId: string, body: Uint8Array): Promise<AlterOutcome> {
    return this.engine.withCards(async (cards) => {
      checkSlot(slot, 'the slot');
      const id = itemIdBytes(itemId);
      const session = await cards.session(slot);
      const item = (await session.client.listContents()).find((i) => i.id === toHex(id));
      if (!item) {
        const error = new TerminalError('E_INPUT_INVALID', `the ${slot} card holds no item ${toHex(id)}`, {
          slot,
        });
        return { status: 'refused', error };
      }
      const flowId = randomUUID();
      cards.record(flowId, 'admin', 'alter-requested', {
        slot,
        cardHolderId: session.holderIdHex,
        cardLabel: cardLabel(session),
        item: { id: item.id, type: item.type, policy: item.policy, label: item.label },
        bodyBytes: body.length,
      });
      try {
        await session.client.updateContent(id, body);
      } catch (e) {
        const error = cardRefusal(toTerminalError(e), { slot });
        cards.record(flowId, 'admin', 'failed-no-value-moved', { code: error.code, sw: error.details.sw });
        if (resetsCards(error)) await this.resetCards(cards);
        return { status: 'refused', flowId, error };
      }
      cards.record(flowId, 'admin', 'completed', {});
      return { status: 'completed', flowId };
    });
  }

  /** Transmission (Figs. 6–7) from the card in `from` to the other card, over the authenticated session. */
  send(request: { from: SlotName } & ContentOffer): Promise<ContentOutcome> {
    return this.startFlow(() => {
      const offer = checkOffer(request);
      checkSlot(request.from, 'the sender slot');
      return transmission(request.from, offer);
    });
  }

  /**
   * Exchange (Fig. 8): the initiator's `give` for the responder's `take`, atomically. Buying a
   * ticket: `{ initiator: 'payer', give: { amount: 1500 }, take: { itemId } }` (the customer's PIN
   * must be verified: paying needs owner mode).
   */
  exchange(request: {
    initiator: SlotName;
    give: ContentOffer;
    take: ContentOffer;
  }): Promise<ContentOutcome> {
    return this.startFlow(() => {
      const give = checkOffer(request.give);
      const take = checkOffer(request.take);
      checkSlot(request.initiator, 'the initiator slot');
      return exchange(request.initiator, give, take);
    });
  }

  /** Settles every open content flow whose cards are present (start-up, card presented again, on demand). */
  recover(): Promise<ContentRecoveryReport[]> {
    return this.engine.withCards(async (cards) => this.recovery.recoverWith(cards, await cards.present()));
  }

  /** Content flows not yet closed (completed, rolled back or refused), oldest first. */
  openFlows(): ContentFlowRecord[] {
    return this.recovery.openFlows();
  }

  // ---- internals ----

  /** Checks the request (refused with nothing sent if it is bad input), then runs its flow. */
  private startFlow(request: () => ContentFlow): Promise<ContentOutcome> {
    let flow: ContentFlow;
    try {
      flow = request();
    } catch (e) {
      return Promise.resolve({ status: 'refused', error: toTerminalError(e) });
    }
    return this.engine.withCards((cards) => this.runFlow(cards, flow));
  }

  private async runFlow(cards: CardAccess, flow: ContentFlow): Promise<ContentOutcome> {
    const { kind, from: fromSlot } = flow;
    let sessions: Record<SlotName, CardSession>;
    let warnings: string[];
    let plan: FlowPlan;
    try {
      sessions = { payer: await cards.session('payer'), payee: await cards.session('payee') };
      warnings = [...cards.check(sessions.payer), ...cards.check(sessions.payee)];
      const between = this.session.between(sessions.payer, sessions.payee);
      // Settle what an earlier, interrupted flow between these cards left open (it may lock the item).
      await this.recovery.recoverWith(cards, [sessions.payer, sessions.payee]);
      plan = await flow.plan({ sessions, ...between });
    } catch (e) {
      const error = toTerminalError(e);
      if (resetsCards(error)) await this.resetCards(cards);
      return { status: 'refused', error: cardRefusal(error, { slot: slotNamed(error) }) };
    }

    const flowId = randomUUID();
    const record: Recorder = (step, payload) => {
      cards.record(flowId, kind, step, payload);
    };
    cards.record(flowId, kind, CONTENT_STEP.STARTED, plan.started, plan.facts);
    const tracker = new SlotTracker();
    try {
      const txIds = await plan.run(record, tracker);
      const balances = await this.balancesAfter(cards);
      return { status: 'completed', flowId, kind, txIds, balances, warnings };
    } catch (e) {
      return this.afterFailure(cards, flowId, kind, toTerminalError(e), tracker.last ?? fromSlot, sessions);
    }
  }

  private async balancesAfter(cards: CardAccess): Promise<Record<SlotName, number | undefined>> {
    try {
      // Only where the cards grant them (owner or issuer level): no GET BALANCE a card would refuse.
      const payer = await cards.balance('payer');
      const payee = await cards.balance('payee');
      return { payer: payer?.balance, payee: payee?.balance };
    } catch {
      return { payer: undefined, payee: undefined }; // the flow completed; display only
    }
  }

  /**
   * A card refused, or the exchange with a card broke off. A refusal of the first content command
   * changed nothing; any later refusal is rolled back at once over the live sessions. A transport
   * failure (timeout of the communication monitor, card pulled, power lost) is journaled as an
   * interruption; the cards are reset and recovery runs with the cards then present.
   */
  private async afterFailure(
    cards: CardAccess,
    flowId: string,
    kind: ContentFlowKind,
    error: TerminalError,
    slot: SlotName,
    sessions: Record<SlotName, CardSession>,
  ): Promise<ContentOutcome> {
    const record = (step: string, payload: Record<string, unknown>) =>
      cards.record(flowId, kind, step, payload);
    const shown = cardRefusal(error, { slot });
    const recoverWith = (present: CardSession[]) =>
      this.recovery.recoverFlow(cards, foldContentFlow(cards.entries(flowId)), byHolder(present));
    let recovery: ContentRecovery | 'not-attempted';
    if (!resetsCards(error)) {
      const refusal = {
        code: error.code,
        sw: error.details.sw,
        ins: error.details.ins,
        slot,
        message: error.message,
      };
      if (foldContentFlow(cards.entries(flowId)).lastStep === CONTENT_STEP.STARTED) {
        record(CONTENT_STEP.REFUSED, refusal);
        return { status: 'refused', flowId, error: shown };
      }
      record(CONTENT_STEP.CARD_REFUSED, refusal);
      try {
        recovery = await recoverWith(Object.values(sessions));
      } catch (e) {
        // Recovery failed too: the flow stays open (interrupted) for the next recovery.
        const failure = toTerminalError(e);
        record(CONTENT_STEP.INTERRUPTED, { code: failure.code, message: failure.message });
        if (resetsCards(failure)) await this.resetCards(cards);
        recovery = 'not-attempted';
      }
      if (recovery === 'rolled-back') return { status: 'rolled-back', flowId, error: shown };
      return { status: 'interrupted', flowId, error: shown, recovery };
    }
    record(CONTENT_STEP.INTERRUPTED, { code: error.code, message: error.message, slot });
    // The cards' sessions end with the broken channel; recovery works from their signed records.
    await this.resetCards(cards);
    try {
      const present = await cards.present();
      recovery = present.length === 0 ? 'not-attempted' : await recoverWith(present);
    } catch (e) {
      if (resetsCards(e)) await this.resetCards(cards);
      recovery = 'not-attempted';
    }
    return { status: 'interrupted', flowId, error: shown, recovery };
  }

  /** Drops the held card sessions (the cards are reset), and with them the card-to-card session. */
  private async resetCards(cards: CardAccess): Promise<void> {
    this.session.forget();
    await cards.dropAll();
  }
}

function checkSlot(slot: unknown, what: string): asserts slot is SlotName {
  if (slot !== 'payer' && slot !== 'payee')
    throw new TerminalError('E_INPUT_INVALID', `${what} is payer or payee`);
}

/** The slot a refusal names in its details, if any. */
function slotNamed(e: TerminalError): SlotName | undefined {
  return e.details.slot === 'payer' || e.details.slot === 'payee' ? e.details.slot : undefined;
}
