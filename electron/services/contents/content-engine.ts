// The terminal's content services (seed 000): card-to-card mutual authentication with session modes,
// listing and reading contents as the cards' access levels allow, atomic transmission (Figs. 6–7)
// and exchange (Fig. 8: a ticket for e-money), each journaled step by step, and their recovery.
//
// All card work goes through SettlementEngine.withCards(): the same held card sessions (so owner
// logins made with engine.login() apply), the same lock, journal and card checks as value transfers.
// The communication monitor is the slots' waiting time: a card that does not answer in time, or is
// pulled, interrupts the flow; the interruption is journaled and recovery runs at once with the
// cards present. Recovery needs no session: it works from the cards' signed transfer records.
//
// Start-up and "card presented again": open content flows are NOT covered by engine.recover(). Users
// of the terminal services call both, e.g. `await t.engine.recover(); await t.contents.recover();`,
// and may subscribe `t.contents.recoverOnCardInsert()` next to `t.engine.recoverOnCardInsert()`.
// send() and exchange() also settle open content flows between the two cards before they start.
import { randomUUID } from 'node:crypto';
import { type Flows, TERMINAL_STEPS } from '../../../db/flows.js';
import type { Journal, JournalRecord } from '../../../db/journal.js';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import type { CardChannel } from '../../../protocol/card-channel.js';
import { isTerminalError, TerminalError } from '../../../protocol/errors.js';
import { INS } from '../../../protocol/settlement/commands.js';
import type { ContentPolicy, ListedItem } from '../../../protocol/settlement/contents-codec.js';
import { SESSION_MODE } from '../../../protocol/settlement/session-keys.js';
import {
  type ContentTransferRecord,
  type SessionResult,
  SettlementClient,
} from '../../../protocol/settlement/settlement-client.js';
import { SW } from '../../../protocol/status-words.js';
import { type CardSession, readBalance } from '../settlement/card-session.js';
import type { CardAccess, SettlementEngine } from '../settlement/settlement-engine.js';
import type { ReaderSlots, SlotName } from '../slots/reader-slots.js';
import { establishSession } from './card-session-auth.js';
import {
  type ContentRecovery,
  exchangeContents,
  type Offer,
  type Recorder,
  recoverExchange,
  recoverTransmission,
  statusOf,
  transmitContent,
} from './content-flows.js';

export type SessionModeName = 'basic' | 'issuer';
export type ContentFlowKind = 'content-transfer' | 'content-exchange';

/** What one side offers: an item on its card (hex ID), or an amount of its purse (minor units). */
export type ContentOffer = { itemId: string } | { amount: number };

/** One card's side of an authenticated session, as plain JSON. */
export interface SessionView {
  slot: SlotName;
  holderId: string;
  peerHolderId: string;
  /** What this card required the other to prove. */
  mode: SessionModeName;
  /** Hex, 16 bytes; both cards hold the same ID, valid only for this session. */
  sessionId: string;
  /** This card's access level granted to the peer: 'issuer' when the peer is the issuer card in issuer mode. */
  level: 'basic' | 'issuer';
  peerIssuer?: string;
}

export interface AuthenticationResult {
  payer: SessionView;
  payee: SessionView;
  /** CRL warnings (stale CRL under the warn policy). */
  warnings: string[];
}

export interface AccessView {
  /** The owner's PIN is verified on this card (owner mode). */
  owner: boolean;
  /** The card-to-card session this card holds, if any. */
  session: 'none' | 'basic' | 'issuer';
  /** Contents issuer whose issuer card is authenticated in issuer mode. */
  issuer?: string;
}

export interface ContentListing {
  slot: SlotName;
  holderId: string;
  access: AccessView;
  /** Every item's public part; `body` only where the card gave it and the level allows it. */
  items: ListedItem[];
}

export interface ContentRead {
  slot: SlotName;
  itemId: string;
  /** Hex. */
  body: string;
}

/** What the journal records of an offer. */
export type OfferRecord =
  | { itemId: string; label: string; type: string; policy: ContentPolicy }
  | { amount: number; currency: number };

export type ContentOutcome =
  | {
      status: 'completed';
      flowId: string;
      kind: ContentFlowKind;
      txIds: string[];
      /** After the flow, where the cards show them (owner or issuer access). */
      balances: Record<SlotName, number | undefined>;
      warnings: string[];
    }
  | { status: 'refused'; flowId?: string; error: TerminalError }
  | { status: 'rolled-back'; flowId: string; error: TerminalError }
  | {
      status: 'interrupted';
      flowId: string;
      error: TerminalError;
      /** What recovery with the cards then present achieved; 'waiting' leaves the flow open. */
      recovery: ContentRecovery | 'not-attempted';
    };

/** An open (or closed) content flow as folded from the journal. */
export interface ContentFlowRecord {
  flowId: string;
  kind: ContentFlowKind;
  /** Sender of a transmission, initiator of an exchange (holder IDs, hex). */
  fromId: string;
  /** Receiver of a transmission, responder of an exchange. */
  toId: string;
  fromSlot: SlotName;
  toSlot: SlotName;
  /** What the sender / initiator gives. */
  offer: OfferRecord;
  /** What the responder gives (exchange only). */
  take?: OfferRecord;
  sessionId: string;
  /** The transmission, or the exchange's first half (initiator → responder). */
  txId?: string;
  /** The exchange's second half (responder → initiator). */
  secondTxId?: string;
  lastStep: string;
  startedAt: string;
  updatedAt: string;
}

export interface ContentRecoveryReport {
  flowId: string;
  kind: ContentFlowKind;
  outcome: ContentRecovery;
}

export interface ContentEngineOptions {
  /** The journal the settlement engine writes to (read here; written only through withCards). */
  journal: Journal;
  /** The flow-state cache of the journal: the work list of recovery. */
  flows: Flows;
  /** When given, sessions are forgotten as soon as a card is pulled or inserted. */
  slots?: ReaderSlots;
}

const CLOSED_STEPS: ReadonlySet<string> = new Set(TERMINAL_STEPS);
const CONTENT_KINDS: readonly string[] = ['content-transfer', 'content-exchange'];
const other = (slot: SlotName): SlotName => (slot === 'payer' ? 'payee' : 'payer');
const MODE: Record<SessionModeName, number> = { basic: SESSION_MODE.BASIC, issuer: SESSION_MODE.ISSUER };

interface HeldSide {
  /** The session lives as long as this card channel: a new channel is a new card session. */
  client: SettlementClient;
  view: SessionView;
}

export class ContentEngine {
  private held: Record<SlotName, HeldSide> | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly engine: SettlementEngine,
    private readonly o: ContentEngineOptions,
  ) {
    this.unsubscribe =
      o.slots?.on((e) => {
        if (e.type !== 'reader-attached') this.held = undefined;
      }) ?? (() => undefined);
  }

  close(): void {
    this.unsubscribe();
    this.held = undefined;
  }

  /** The authenticated session as last established, if the terminal still believes it holds. */
  currentSession(): Omit<AuthenticationResult, 'warnings'> | undefined {
    return this.held ? { payer: this.held.payer.view, payee: this.held.payee.view } : undefined;
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
    const payerMode = modes.payerMode ?? 'basic';
    const payeeMode = modes.payeeMode ?? 'basic';
    for (const m of [payerMode, payeeMode]) {
      if (!(m in MODE))
        throw new TerminalError('E_INPUT_INVALID', `session mode is basic or issuer, not ${m}`);
    }
    return this.cardWork(async (cards) => {
      this.held = undefined; // a new authentication ends any earlier session
      // Holder ID, validity and certificate as read when the card session opened: a card swapped
      // since is a new channel and so a new session, read afresh.
      const payer = await cards.session('payer');
      const payee = await cards.session('payee');
      if (payer.holderIdHex === payee.holderIdHex)
        throw new TerminalError('E_SAME_CARD', 'the same card is in both slots');
      const warnings = [...cards.check(payer), ...cards.check(payee)];
      const tracker = new SlotTracker();
      let result: Awaited<ReturnType<typeof establishSession>>;
      try {
        result = await establishSession(
          { client: tracker.client(payer), certificate: payer.info.certificate, mode: MODE[payerMode] },
          { client: tracker.client(payee), certificate: payee.info.certificate, mode: MODE[payeeMode] },
          cards.now(),
        );
      } catch (e) {
        throw authError(e, tracker.last, { payer: payerMode, payee: payeeMode });
      }
      const side = (
        s: CardSession,
        peer: CardSession,
        mode: SessionModeName,
        r: SessionResult,
      ): HeldSide => ({
        client: s.client,
        view: {
          slot: s.slot,
          holderId: s.holderIdHex,
          peerHolderId: peer.holderIdHex,
          mode,
          sessionId: toHex(r.sessionId),
          level: r.level,
          ...(r.peerIssuer ? { peerIssuer: toHex(r.peerIssuer) } : {}),
        },
      });
      this.held = {
        payer: side(payer, payee, payerMode, result.a),
        payee: side(payee, payer, payeeMode, result.b),
      };
      return { payer: this.held.payer.view, payee: this.held.payee.view, warnings };
    });
  }

  /** Ends owner mode and the card-to-card session on the card in `slot` (engine.logout) and forgets the session. */
  async logout(slot: SlotName): Promise<void> {
    this.held = undefined;
    await this.engine.logout(slot);
  }

  /** The card's contents as its access level shows them: labels always, bodies only where allowed. */
  listContents(slot: SlotName): Promise<ContentListing> {
    return this.cardWork(async (cards) => {
      const session = await cards.session(slot);
      const items = await session.client.listContents();
      const access = await this.accessOf(session);
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
    return this.cardWork(async (cards) => {
      const session = await cards.session(slot);
      try {
        return { slot, itemId: toHex(id), body: toHex(await session.client.readContent(id)) };
      } catch (e) {
        throw operatorError(e, slot);
      }
    });
  }

  /** Transmission (Figs. 6–7) from the card in `from` to the other card, over the authenticated session. */
  send(request: { from: SlotName } & ContentOffer): Promise<ContentOutcome> {
    let offer: ContentOffer;
    try {
      offer = checkOffer(request);
      if (request.from !== 'payer' && request.from !== 'payee')
        throw new TerminalError('E_INPUT_INVALID', 'the sender slot is payer or payee');
    } catch (e) {
      return Promise.resolve({ status: 'refused', error: e as TerminalError });
    }
    const from = request.from;
    const to = other(from);
    return this.engine.withCards((cards) =>
      this.runFlow(cards, 'content-transfer', from, async (ctx) => {
        const give = await describeOffer(ctx.sessions[from], offer, 'the sender');
        return {
          started: {
            senderSlot: from,
            receiverSlot: to,
            senderId: ctx.sessions[from].holderIdHex,
            receiverId: ctx.sessions[to].holderIdHex,
            offer: give,
            sessionId: ctx.sessionId,
          },
          run: async (record, tracker) => {
            const r = await transmitContent(
              tracker.client(ctx.sessions[from]),
              tracker.client(ctx.sessions[to]),
              { sender: ctx.ids[from], receiver: ctx.ids[to] },
              toFlowOffer(offer),
              record,
            );
            return [toHex(r.txId)];
          },
        };
      }),
    );
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
    let give: ContentOffer;
    let take: ContentOffer;
    try {
      give = checkOffer(request.give);
      take = checkOffer(request.take);
      if (request.initiator !== 'payer' && request.initiator !== 'payee')
        throw new TerminalError('E_INPUT_INVALID', 'the initiator slot is payer or payee');
    } catch (e) {
      return Promise.resolve({ status: 'refused', error: e as TerminalError });
    }
    const initiator = request.initiator;
    const responder = other(initiator);
    return this.engine.withCards((cards) =>
      this.runFlow(cards, 'content-exchange', initiator, async (ctx) => {
        const gives = await describeOffer(ctx.sessions[initiator], give, 'the initiator');
        const takes = await describeOffer(ctx.sessions[responder], take, 'the responder');
        return {
          started: {
            initiatorSlot: initiator,
            responderSlot: responder,
            initiatorId: ctx.sessions[initiator].holderIdHex,
            responderId: ctx.sessions[responder].holderIdHex,
            give: gives,
            take: takes,
            sessionId: ctx.sessionId,
          },
          run: async (record, tracker) => {
            const r = await exchangeContents(
              tracker.client(ctx.sessions[initiator]),
              tracker.client(ctx.sessions[responder]),
              { initiator: ctx.ids[initiator], responder: ctx.ids[responder] },
              toFlowOffer(give),
              toFlowOffer(take),
              record,
            );
            return [toHex(r.first), toHex(r.second)];
          },
        };
      }),
    );
  }

  /** Settles every open content flow whose cards are present (start-up, card presented again, on demand). */
  recover(): Promise<ContentRecoveryReport[]> {
    return this.engine.withCards(async (cards) => this.recoverWith(cards, await cards.present()));
  }

  /** Recovers open content flows whenever a card is inserted; returns the unsubscribe function. */
  recoverOnCardInsert(onError?: (e: unknown) => void): () => void {
    const slots = this.o.slots;
    if (!slots) throw new TerminalError('E_INTERNAL', 'the content engine was built without reader slots');
    return slots.on((event) => {
      if (event.type !== 'card-inserted' || this.openFlows().length === 0) return;
      void (async () => {
        // The settlement engine may be recovering value transfers for the same card: wait our turn.
        for (let attempt = 0; ; attempt++) {
          try {
            await this.recover();
            return;
          } catch (e) {
            if (!isTerminalError(e, 'E_BUSY') || attempt >= 50) {
              onError?.(e);
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      })();
    });
  }

  /** Content flows not yet closed (completed, rolled back or refused), oldest first. */
  openFlows(): ContentFlowRecord[] {
    return this.o.flows
      .openFlows()
      .filter((f) => CONTENT_KINDS.includes(f.flowKind))
      .map((f) => foldContentFlow(this.entries(f.flowId)));
  }

  private entries(flowId: string): JournalRecord[] {
    return this.o.journal.entriesForFlow(flowId);
  }

  // ---- internals ----

  /**
   * withCards(), except that a refusal (a card's status word, bad input, a certificate check) leaves
   * the held card sessions, and so the owner logins and the authenticated session, in place. Only
   * a transport failure resets the cards (the engine's guard drops the sessions).
   */
  private async cardWork<T>(work: (cards: CardAccess) => Promise<T>): Promise<T> {
    const result = await this.engine.withCards(async (cards) => {
      try {
        return { value: await work(cards) };
      } catch (e) {
        if (isTerminalError(e) && isRefusalCode(e)) return { refusal: e };
        throw e;
      }
    });
    if ('refusal' in result) throw result.refusal;
    return result.value;
  }

  private async accessOf(session: CardSession): Promise<AccessView> {
    let owner = false;
    try {
      owner = (await session.client.pinStatus()) === 'verified';
    } catch (e) {
      // A card without an owner PIN (6A88) has no owner mode.
      if (!isTerminalError(e, 'E_CARD_STATUS')) throw e;
    }
    const side = this.validSide(session);
    return {
      owner,
      session: side ? side.view.level : 'none',
      ...(side?.view.peerIssuer && side.view.level === 'issuer' ? { issuer: side.view.peerIssuer } : {}),
    };
  }

  /** The held session side of this card, if it still belongs to the card's current channel. */
  private validSide(session: CardSession): HeldSide | undefined {
    const side = this.held?.[session.slot];
    if (!side || side.client !== session.client || side.view.holderId !== session.holderIdHex)
      return undefined;
    return side;
  }

  private async runFlow(
    cards: CardAccess,
    kind: ContentFlowKind,
    fromSlot: SlotName,
    prepare: (ctx: {
      sessions: Record<SlotName, CardSession>;
      ids: Record<SlotName, Uint8Array>;
      sessionId: string;
    }) => Promise<{
      started: Record<string, unknown>;
      run: (record: Recorder, tracker: SlotTracker) => Promise<string[]>;
    }>,
  ): Promise<ContentOutcome> {
    let sessions: Record<SlotName, CardSession>;
    let warnings: string[];
    let plan: Awaited<ReturnType<typeof prepare>>;
    try {
      sessions = { payer: await cards.session('payer'), payee: await cards.session('payee') };
      warnings = [...cards.check(sessions.payer), ...cards.check(sessions.payee)];
      const payerSide = this.validSide(sessions.payer);
      const payeeSide = this.validSide(sessions.payee);
      if (!payerSide || !payeeSide || payerSide.view.peerHolderId !== sessions.payee.holderIdHex) {
        this.held = undefined;
        throw new TerminalError(
          'E_ACCESS_DENIED',
          'the cards hold no authenticated session with each other: authenticate first',
        );
      }
      // Settle what an earlier, interrupted flow between these cards left open (it may lock the item).
      await this.recoverWith(cards, [sessions.payer, sessions.payee]);
      plan = await prepare({
        sessions,
        ids: { payer: fromHex(payerSide.view.sessionId), payee: fromHex(payeeSide.view.sessionId) },
        sessionId: payerSide.view.sessionId,
      });
    } catch (e) {
      const error = toTerminalError(e);
      if (!isRefusalCode(error)) {
        this.held = undefined;
        await cards.dropAll();
      }
      return { status: 'refused', error: operatorError(error, tracked(error)) };
    }

    const flowId = randomUUID();
    const record: Recorder = (step, payload) => {
      cards.record(flowId, kind, step, payload);
    };
    record('started', plan.started);
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
      const payer = await readBalance((await cards.session('payer')).client);
      const payee = await readBalance((await cards.session('payee')).client);
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
    const shown = operatorError(error, slot);
    const flow = foldContentFlow(cards.entries(flowId));
    if (error.code === 'E_CARD_STATUS') {
      const refusal = {
        code: error.code,
        sw: error.details.sw,
        ins: error.details.ins,
        slot,
        message: error.message,
      };
      if (flow.lastStep === 'started') {
        record('failed-no-value-moved', refusal);
        return { status: 'refused', flowId, error: shown };
      }
      record('card-refused', refusal);
      let recovery: ContentRecovery | 'not-attempted';
      try {
        recovery = await this.recoverFlow(
          cards,
          foldContentFlow(cards.entries(flowId)),
          byHolder(Object.values(sessions)),
        );
      } catch (e) {
        record('interrupted', { code: toTerminalError(e).code, message: toTerminalError(e).message });
        await cards.dropAll();
        recovery = 'not-attempted';
      }
      if (recovery === 'rolled-back') return { status: 'rolled-back', flowId, error: shown };
      return { status: 'interrupted', flowId, error: shown, recovery };
    }
    record('interrupted', { code: error.code, message: error.message, slot });
    // The cards' sessions end with the broken channel; recovery works from their signed records.
    this.held = undefined;
    await cards.dropAll();
    let recovery: ContentRecovery | 'not-attempted';
    try {
      const present = await cards.present();
      recovery =
        present.length === 0
          ? 'not-attempted'
          : await this.recoverFlow(cards, foldContentFlow(cards.entries(flowId)), byHolder(present));
    } catch {
      await cards.dropAll();
      recovery = 'not-attempted';
    }
    return { status: 'interrupted', flowId, error: shown, recovery };
  }

  private async recoverWith(cards: CardAccess, present: CardSession[]): Promise<ContentRecoveryReport[]> {
    const holders = byHolder(present);
    const reports: ContentRecoveryReport[] = [];
    for (const flow of this.openFlows()) {
      if (!holders.has(flow.fromId) && !holders.has(flow.toId)) continue;
      reports.push({
        flowId: flow.flowId,
        kind: flow.kind,
        outcome: await this.recoverFlow(cards, flow, holders),
      });
    }
    return reports;
  }

  /** Settles one content flow with the cards given (by holder ID); 'waiting' when a needed card is absent. */
  private async recoverFlow(
    cards: CardAccess,
    flow: ContentFlowRecord,
    holders: Map<string, CardSession>,
  ): Promise<ContentRecovery> {
    if (CLOSED_STEPS.has(flow.lastStep)) return flow.lastStep === 'completed' ? 'completed' : 'rolled-back';
    const record: Recorder = (step, payload) => {
      cards.record(flow.flowId, flow.kind, step, payload);
    };
    const from = holders.get(flow.fromId)?.client;
    const to = holders.get(flow.toId)?.client;
    let txId = flow.txId;
    if (txId && from && !(await this.isFlowTransfer(from, flow, txId))) {
      // The first card answered CONTENT SEND with the ID of a transfer that is not this flow's (an
      // earlier answer replayed, or one corrupted on its way). Settling by that transfer's record
      // would report another transfer's outcome as this one's; the card's own open transfer, if it
      // made one, is found as if its ID had never been journaled.
      txId = undefined;
    }
    if (!txId) {
      // Interrupted before the first transfer ID was journaled: the card may have opened it anyway
      // (its answer lost). It never reached the other card (the terminal never relayed it).
      if (!from) return 'waiting';
      const found = await this.findUnjournaled(from, flow);
      if (!found) {
        record('rolled-back', { reason: 'the first card never started it' });
        return 'rolled-back';
      }
      txId = toHex(found.txId);
      record(flow.kind === 'content-transfer' ? 'sent' : 'first-sent', {
        [flow.kind === 'content-transfer' ? 'txId' : 'firstTxId']: txId,
        foundOnCard: true,
      });
    }
    if (flow.kind === 'content-transfer') return recoverTransmission(from, to, fromHex(txId), record);
    return recoverExchange(
      from,
      to,
      fromHex(txId),
      record,
      flow.secondTxId ? fromHex(flow.secondTxId) : undefined,
    );
  }

  /**
   * Whether the first card's record under `txId` can be this flow's first transfer: to this peer,
   * of this offer, no other open flow's, and committed only if this flow relayed the commit
   * instruction (COMMIT goes out only after that is journaled; recovery never commits).
   */
  private async isFlowTransfer(
    card: SettlementClient,
    flow: ContentFlowRecord,
    txId: string,
  ): Promise<boolean> {
    const out = (await statusOf(card, fromHex(txId))).find((r) => r.direction === 'out');
    if (
      !out ||
      toHex(out.peerId) !== flow.toId ||
      out.exchangeInitiator !== (flow.kind === 'content-exchange')
    )
      return false;
    const offer = flow.offer;
    const sameOffer =
      'amount' in offer
        ? out.kind === 'value' && out.amount === offer.amount
        : out.kind === 'item' && out.itemId !== undefined && toHex(out.itemId) === offer.itemId;
    if (!sameOffer) return false;
    if (this.openFlows().some((f) => f.flowId !== flow.flowId && (f.txId === txId || f.secondTxId === txId)))
      return false;
    if (out.status !== 'deleted' && out.status !== 'acknowledged') return true;
    const commitRelayed = flow.kind === 'content-transfer' ? 'received' : 'second-received';
    return this.entries(flow.flowId).some((e) => e.step === commitRelayed);
  }

  /** The card's open outgoing transfer of this flow that the journal never learned the ID of. */
  private async findUnjournaled(
    card: SettlementClient,
    flow: ContentFlowRecord,
  ): Promise<ContentTransferRecord | undefined> {
    const known = new Set(
      this.openFlows().flatMap((f) => [f.txId, f.secondTxId].filter((x): x is string => x !== undefined)),
    );
    const offer = flow.offer;
    return (await card.unsettledContentTransfers()).find(
      (r) =>
        r.direction === 'out' &&
        r.status === 'open' &&
        toHex(r.peerId) === flow.toId &&
        r.linkTxId === undefined &&
        r.exchangeInitiator === (flow.kind === 'content-exchange') &&
        !known.has(toHex(r.txId)) &&
        ('amount' in offer
          ? r.kind === 'value' && r.amount === offer.amount
          : r.kind === 'item' && r.itemId !== undefined && toHex(r.itemId) === offer.itemId),
    );
  }
}

/** Folds a content flow's journal entries (docs: see the step names in content-flows.ts). */
export function foldContentFlow(entries: JournalRecord[]): ContentFlowRecord {
  const first = entries[0];
  if (first?.step !== 'started')
    throw new TerminalError('E_INTERNAL', 'a content flow must begin with its started entry');
  const p = first.payload;
  const exchange = first.flowKind === 'content-exchange';
  const r: ContentFlowRecord = {
    flowId: first.flowId,
    kind: exchange ? 'content-exchange' : 'content-transfer',
    fromId: String(exchange ? p.initiatorId : p.senderId),
    toId: String(exchange ? p.responderId : p.receiverId),
    fromSlot: (exchange ? p.initiatorSlot : p.senderSlot) as SlotName,
    toSlot: (exchange ? p.responderSlot : p.receiverSlot) as SlotName,
    offer: (exchange ? p.give : p.offer) as OfferRecord,
    ...(exchange ? { take: p.take as OfferRecord } : {}),
    sessionId: String(p.sessionId),
    lastStep: first.step,
    startedAt: first.at,
    updatedAt: first.at,
  };
  for (const e of entries) {
    if (typeof e.payload.txId === 'string') r.txId = e.payload.txId;
    if (typeof e.payload.firstTxId === 'string') r.txId = e.payload.firstTxId;
    if (typeof e.payload.secondTxId === 'string') r.secondTxId = e.payload.secondTxId;
    r.lastStep = e.step;
    r.updatedAt = e.at;
  }
  return r;
}

/** Remembers which slot's card the last command went to, so a refusal or a failure can name it. */
class SlotTracker {
  last: SlotName | undefined;

  client(session: CardSession): SettlementClient {
    const channel = session.client.channel;
    const tracked: CardChannel = {
      atr: channel.atr,
      close: () => channel.close(),
      transmit: (apdu, opts) => {
        this.last = session.slot;
        return channel.transmit(apdu, opts);
      },
    };
    return new SettlementClient(tracked);
  }
}

function byHolder(sessions: CardSession[]): Map<string, CardSession> {
  return new Map(sessions.map((s) => [s.holderIdHex, s]));
}

function checkOffer(o: ContentOffer): ContentOffer {
  if ('itemId' in o && o.itemId !== undefined) return { itemId: toHex(itemIdBytes(o.itemId)) };
  if ('amount' in o && o.amount !== undefined) {
    if (!Number.isSafeInteger(o.amount) || o.amount <= 0 || o.amount > 0xffffffff)
      throw new TerminalError(
        'E_INPUT_INVALID',
        'the amount must be a whole number of minor units above zero',
      );
    return { amount: o.amount };
  }
  throw new TerminalError('E_INPUT_INVALID', 'an offer is an item ID or an amount');
}

function itemIdBytes(text: string): Uint8Array {
  if (typeof text !== 'string' || !/^[0-9A-Fa-f]{32}$/.test(text))
    throw new TerminalError('E_INPUT_INVALID', 'an item ID is 16 bytes in hex (32 digits)');
  return fromHex(text);
}

function toFlowOffer(o: ContentOffer): Offer {
  return 'itemId' in o ? { item: fromHex(o.itemId) } : { amount: o.amount };
}

/** Looks the offered item up on the giving card (labels are public) for the journal. */
async function describeOffer(session: CardSession, o: ContentOffer, who: string): Promise<OfferRecord> {
  if ('amount' in o) return { amount: o.amount, currency: session.info.currency };
  const item = (await session.client.listContents()).find((i) => i.id === o.itemId);
  if (!item)
    throw new TerminalError('E_INPUT_INVALID', `${who} (${session.slot} card) holds no item ${o.itemId}`, {
      slot: session.slot,
      itemId: o.itemId,
    });
  if (item.locked)
    throw new TerminalError('E_INPUT_INVALID', `item ${o.itemId} is in another transfer`, {
      slot: session.slot,
      itemId: o.itemId,
    });
  return { itemId: item.id, label: item.label, type: item.type, policy: item.policy };
}

/** The terminal's own copy of the body policy (seed 000's access levels): never show more than this. */
function bodyVisible(access: AccessView, item: Pick<ListedItem, 'policy' | 'issuerId'>): boolean {
  switch (item.policy) {
    case 'public':
      return true;
    case 'issuer-alterable':
      return access.owner || access.issuer === item.issuerId;
    case 'owner-only':
      return access.owner;
    case 'secret':
      return false;
  }
}

function toTerminalError(e: unknown): TerminalError {
  return isTerminalError(e) ? e : new TerminalError('E_INTERNAL', String((e as Error)?.message ?? e));
}

const REFUSAL_CODES = new Set([
  'E_CARD_STATUS',
  'E_INSUFFICIENT_FUNDS',
  'E_BALANCE_LIMIT',
  'E_INPUT_INVALID',
  'E_ACCESS_DENIED',
  'E_PIN_REQUIRED',
  'E_PIN_BLOCKED',
  'E_CARD_EXPIRED',
  'E_PKI_SIGNATURE',
  'E_PKI_EXPIRED',
  'E_PKI_REVOKED',
  'E_PKI_MALFORMED',
  'E_CRL_STALE',
  'E_SAME_CARD',
]);
const isRefusalCode = (e: TerminalError) => REFUSAL_CODES.has(e.code);
const tracked = (e: TerminalError) =>
  e.details.slot === 'payer' || e.details.slot === 'payee' ? (e.details.slot as SlotName) : undefined;

/** Card status words as the operator's error codes; other errors pass through. */
function operatorError(e: unknown, slot?: SlotName): TerminalError {
  const error = toTerminalError(e);
  if (error.code !== 'E_CARD_STATUS') return error;
  const sw = Number(error.details.sw);
  const details = { ...error.details, ...(slot ? { slot } : {}) };
  const card = slot ? `the ${slot} card` : 'the card';
  if (sw === SW.SECURITY_STATUS_NOT_SATISFIED) {
    return new TerminalError(
      'E_ACCESS_DENIED',
      `${card} refuses this at the current access level (log in as owner, or authenticate the issuer): ${error.message}`,
      details,
    );
  }
  if (sw === SW.CARDHOLDER_VERIFICATION_REQUIRED)
    return new TerminalError(
      'E_PIN_REQUIRED',
      `${card} needs its holder’s PIN to pay: log in as owner`,
      details,
    );
  if (sw === SW.AUTH_METHOD_BLOCKED)
    return new TerminalError(
      'E_PIN_BLOCKED',
      `${card} needs its PIN to pay, and the PIN is blocked`,
      details,
    );
  if (sw === SW.INSUFFICIENT_FUNDS)
    return new TerminalError('E_INSUFFICIENT_FUNDS', `${card} does not hold enough for this amount`, details);
  if (sw === SW.MAXIMUM_BALANCE_EXCEEDED)
    return new TerminalError('E_BALANCE_LIMIT', `${card} would exceed its maximum balance`, details);
  if (sw === SW.REFERENCED_DATA_NOT_FOUND)
    return new TerminalError('E_INPUT_INVALID', `${card} holds no such item`, details);
  return new TerminalError('E_CARD_STATUS', `${card}: ${error.message}`, details);
}

/** A failed mutual authentication, named by the card that refused and why. */
function authError(
  e: unknown,
  slot: SlotName | undefined,
  modes: Record<SlotName, SessionModeName>,
): TerminalError {
  const error = toTerminalError(e);
  if (error.code !== 'E_CARD_STATUS' || !slot) return error;
  const details = { ...error.details, slot };
  const sw = Number(error.details.sw);
  if (
    sw === SW.SECURITY_STATUS_NOT_SATISFIED &&
    error.details.ins === INS.AUTH_PEER &&
    modes[slot] === 'issuer'
  ) {
    return new TerminalError(
      'E_ACCESS_DENIED',
      `the ${slot} card requires issuer mode, and the ${other(slot)} card is not an issuer card`,
      details,
    );
  }
  if (sw === SW.SECURITY_STATUS_NOT_SATISFIED) {
    return new TerminalError(
      'E_CARD_STATUS',
      `the ${slot} card does not accept the ${other(slot)} card’s certificate or confirmation: ${error.message}`,
      details,
    );
  }
  return new TerminalError(
    'E_CARD_STATUS',
    `the ${slot} card refused the authentication: ${error.message}`,
    details,
  );
}
