// The terminal's settlement engine: before every value transfer it reads both cards, refuses
// expired or revoked ones and payments that need the cardholder's PIN until it is verified, brings
// their keys in line by the route the seed prescribes, then runs the value transfer of Fig. 4. Every
// step is journaled; interrupted transfers are recovered through the terminal's one recovery surface
// (recovery/terminal-recovery.ts: start-up, card presented again, on demand).
import { randomUUID } from 'node:crypto';
import { checkFacts } from '../../../db/flow-facts.js';
import type { Flows } from '../../../db/flows.js';
import type { FlowFacts, FlowKind, Journal, JournalRecord } from '../../../db/journal.js';
import { AMOUNT_RULE, isAmount } from '../../../protocol/amount.js';
import { cardRefusal } from '../../../protocol/card-refusal.js';
import { TerminalError, toTerminalError } from '../../../protocol/errors.js';
import { parseCertificate } from '../../../protocol/pki/index.js';
import type { Balance } from '../../../protocol/settlement/settlement-client.js';
import { unixSeconds } from '../../../protocol/settlement/validity-date.js';
import type { ReaderSlots, SlotName } from '../slots/reader-slots.js';
import {
  type CardCheckContext,
  certificateStatus,
  checkCard,
  type RevocationChecker,
} from './card-checks.js';
import { cardFact } from './card-facts.js';
import type { CardSession } from './card-session.js';
import { type CardView, cardLabel, cardView, pinState } from './card-view.js';
import { requirePinFor } from './cardholder-check.js';
import { type FailureSink, isolated, type RecoveryFailure } from './flow-isolation.js';
import { FlowRecorder, type StepEvent } from './flow-recorder.js';
import { recoverKeyUpdate, runKeyUpdate } from './key-update.js';
import { type KeyUpdateStep, planKeyUpdate, ROUTE_NAME } from './key-update-plan.js';
import { resetsCards, SlotSessions } from './slot-sessions.js';
import { foldTransfer, TRANSFER_STEP, type TransferRecord, valueState } from './transfer-record.js';
import { type RecoveryOutcome, recoverTransfer } from './transfer-recovery.js';
import { roles, runValueTransfer, type TransferRequest } from './value-transfer.js';

export type { TransferRequest } from './value-transfer.js';

export interface SettlementEngineOptions {
  slots: ReaderSlots;
  journal: Journal;
  flows: Flows;
  crl: RevocationChecker;
  caCertificateDer: Uint8Array;
  /** ISO 4217 numeric currency this terminal settles in. */
  currency: number;
  now?: () => Date;
  /** Fault injection for tests: runs after each committed journal entry. */
  afterJournalAppend?: (record: JournalRecord) => void;
  /**
   * Fields every flow's opening entry carries (FlowRecorder's OPENING_STEPS), whoever opens it: the
   * terminal services pass the signed-in operator's ID, `{ operator }`, or nothing when none is.
   */
  stamp?: () => Record<string, unknown>;
}

export type { CardView } from './card-view.js';

export interface KeyUpdateSummary {
  flowId: string;
  receiver: SlotName;
  route: string;
  reason: string;
}

export type TransferOutcome =
  | {
      status: 'completed';
      flowId: string;
      amount: number;
      keyUpdates: KeyUpdateSummary[];
      /** After the transfer, where the cards show them (owner or issuer access). */
      balances: Record<SlotName, number | undefined>;
      warnings: string[];
    }
  | { status: 'refused'; flowId?: string; keyUpdates: KeyUpdateSummary[]; error: TerminalError }
  | { status: 'rolled-back'; flowId: string; keyUpdates: KeyUpdateSummary[]; error: TerminalError }
  | {
      status: 'interrupted';
      flowId: string;
      keyUpdates: KeyUpdateSummary[];
      error: TerminalError;
      recovery: RecoveryOutcome | 'not-attempted';
      inDoubt: boolean;
    };

export interface InDoubtItem extends TransferRecord {
  valueState: 'in-doubt';
}

export interface RecoveryReport {
  flowId: string;
  outcome: RecoveryOutcome;
  amount: number;
  payerId: string;
  payeeId: string;
}

/** What withCards() hands to other card services. */
export interface CardAccess {
  session(slot: SlotName): Promise<CardSession>;
  refresh(slot: SlotName): Promise<CardSession>;
  /** The card's balance where it grants it, read only if not current (no APDU where it is masked). */
  balance(slot: SlotName): Promise<Balance | undefined>;
  /** Sessions with the cards present; one that cannot be read is skipped and handed to `unreadable`. */
  present(unreadable?: (slot: SlotName, error: unknown) => void): Promise<CardSession[]>;
  dropAll(): Promise<void>;
  record(
    flowId: string,
    kind: FlowKind,
    step: string,
    payload?: Record<string, unknown>,
    facts?: FlowFacts,
  ): JournalRecord;
  entries(flowId: string): JournalRecord[];
  /** Validity, CA signature and CRL of the card; throws the refusal; returns CRL warnings. */
  check(session: CardSession): string[];
  /** Unix seconds. */
  now(): number;
  /**
   * The engine's recovery of value transfers and key updates with these cards (recover()'s work).
   * A flow whose recovery fails goes to `failed` and the pass goes on (flow-isolation.ts); without
   * `failed`, it is emitted as a 'recovery-failed' event.
   */
  recoverTransfers(sessions: CardSession[], failed?: FailureSink): Promise<RecoveryReport[]>;
}

export type { CallerFacts } from './value-transfer.js';

export type EngineEvent =
  | { type: 'step'; event: StepEvent }
  | { type: 'recovered'; report: RecoveryReport }
  | { type: 'recovery-failed'; failure: RecoveryFailure };

export class SettlementEngine {
  private readonly recorder: FlowRecorder;
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly caPublicKey: Uint8Array;
  private readonly sessions: SlotSessions;
  private readonly ownerLoggedIn = new Set<string>();
  private busy = false;

  constructor(private readonly o: SettlementEngineOptions) {
    this.caPublicKey = parseCertificate(o.caCertificateDer).publicKey;
    this.sessions = new SlotSessions(o.slots);
    o.slots.on((e) => {
      if (e.type === 'card-removed' || e.type === 'card-inserted') this.ownerLoggedIn.clear();
    });
    this.recorder = new FlowRecorder(o.journal, {
      onStep: (event) => this.emit({ type: 'step', event }),
      afterAppend: o.afterJournalAppend,
      stamp: o.stamp,
    });
  }

  on(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) l(e);
  }

  private now(): number {
    return unixSeconds(this.o.now?.() ?? new Date());
  }

  private checkContext(): CardCheckContext {
    return { caPublicKey: this.caPublicKey, crl: this.o.crl, now: this.now() };
  }

  /** Reads the public view of the card in a slot (no state changes). */
  async readCard(slot: SlotName): Promise<CardView> {
    return this.exclusive(() => this.guard(async () => this.view(await this.sessions.refresh(slot))));
  }

  /** Owner mode (seed 000): verifies the cardholder's PIN on the card in `slot`; the card counts the tries. */
  async login(slot: SlotName, pin: string): Promise<CardView> {
    if (!/^\d{4,12}$/.test(pin)) throw new TerminalError('E_INPUT_INVALID', 'a PIN is 4 to 12 digits');
    return this.exclusive(() =>
      this.guard(async () => {
        const session = await this.sessions.get(slot);
        try {
          await session.client.verifyPin(pin);
        } catch (e) {
          throw cardRefusal(toTerminalError(e), { slot, secret: 'PIN' });
        }
        this.ownerLoggedIn.add(session.holderIdHex);
        return this.view(await this.sessions.refresh(slot));
      }),
    );
  }

  /** Ends owner mode and any card-to-card session on the card in `slot`. */
  async logout(slot: SlotName): Promise<void> {
    await this.exclusive(() =>
      this.guard(async () => {
        const session = await this.sessions.get(slot);
        this.ownerLoggedIn.delete(session.holderIdHex);
        await session.client.sessionEnd();
      }),
    );
  }

  /** The issuer's unblock path: the PUK and a new PIN reset the PIN's retry counter. */
  async unblockPin(slot: SlotName, puk: string, newPin: string): Promise<void> {
    if (!/^\d{8}$/.test(puk) || !/^\d{4,12}$/.test(newPin)) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        'the unblock code is 8 digits and the new PIN 4 to 12 digits',
      );
    }
    await this.exclusive(() =>
      this.guard(async () => {
        const session = await this.sessions.get(slot);
        // Journaled as an administration flow; neither the code nor the PIN is ever written down.
        const flowId = randomUUID();
        this.recorder.record(flowId, 'admin', 'unblock-requested', {
          slot,
          cardHolderId: session.holderIdHex,
          cardLabel: cardLabel(session),
        });
        try {
          await session.client.resetRetryCounter(puk, newPin);
        } catch (e) {
          const refusal = cardRefusal(toTerminalError(e), { slot, secret: 'unblock code' });
          this.recorder.record(flowId, 'admin', 'failed-no-value-moved', {
            code: refusal.code,
            sw: refusal.details.sw,
            triesLeft: refusal.details.triesLeft,
          });
          throw refusal;
        }
        this.ownerLoggedIn.delete(session.holderIdHex);
        this.recorder.record(flowId, 'admin', 'completed', {});
      }),
    );
  }

  /**
   * Runs card work under the terminal's card-reset policy (resetsCards): a refusal keeps the held
   * sessions; a transport failure, a malformed answer or an internal error drops them, so the next
   * operation starts clean.
   */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (resetsCards(e)) await this.resetCards();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.sessions.close();
  }

  /** Drops every held session (the cards are reset), and with it every owner login. */
  private async resetCards(): Promise<void> {
    this.ownerLoggedIn.clear();
    await this.sessions.dropAll();
  }

  /**
   * Runs other card work (the content engine) with the held slot sessions, one operation at a time,
   * with the same journal and card checks as value transfers.
   */
  withCards<T>(work: (cards: CardAccess) => Promise<T>): Promise<T> {
    return this.exclusive(() =>
      this.guard(() =>
        work({
          session: (slot) => this.sessions.get(slot),
          refresh: (slot) => this.sessions.refresh(slot),
          balance: (slot) => this.sessions.balance(slot),
          present: (unreadable) => this.sessions.present(unreadable),
          dropAll: () => this.resetCards(),
          record: (flowId, kind, step, payload, facts) =>
            this.recorder.record(flowId, kind, step, payload, facts),
          entries: (flowId) => this.recorder.entries(flowId),
          check: (session) => checkCard(session, this.checkContext()),
          now: () => this.now(),
          recoverTransfers: (sessions, failed) => this.recoverWith(sessions, failed),
        }),
      ),
    );
  }

  private view(s: CardSession): CardView {
    return cardView(s, {
      ownerLoggedIn: this.ownerLoggedIn.has(s.holderIdHex),
      certificateStatus: certificateStatus(s, this.checkContext()),
      now: this.now(),
      pin: pinState(s),
    });
  }

  /** Seed S1001–S1006 (or the other embodiments' equivalents) without a value transfer. */
  async updateKeys(): Promise<KeyUpdateSummary[]> {
    return this.exclusive(() =>
      this.guard(async () => {
        const { payer, payee } = await this.openBoth();
        return (await this.alignKeys(payer, payee)).summaries;
      }),
    );
  }

  async transfer(request: TransferRequest): Promise<TransferOutcome> {
    return this.exclusive(() => this.runTransfer(request));
  }

  private async runTransfer(request: TransferRequest): Promise<TransferOutcome> {
    const keyUpdates: KeyUpdateSummary[] = [];
    const { amount } = request;
    const from = request.from ?? 'payer';
    if (!isAmount(amount)) {
      return { status: 'refused', keyUpdates, error: new TerminalError('E_INPUT_INVALID', AMOUNT_RULE) };
    }
    if (from !== 'payer' && from !== 'payee') {
      return {
        status: 'refused',
        keyUpdates,
        error: new TerminalError('E_INPUT_INVALID', 'the paying slot is payer or payee'),
      };
    }
    // `payer` and `payee` are the cards' roles in this transfer; the slots stay what they are.
    try {
      checkFacts(request.facts ?? {}); // before any card is asked: the journal would refuse them later
    } catch (e) {
      return { status: 'refused', keyUpdates, error: toTerminalError(e) };
    }
    let payer: CardSession | undefined;
    let payee: CardSession | undefined;
    let flowId: string | undefined;
    try {
      let bySlot = await this.openBoth();
      await this.recoverWith([bySlot.payer, bySlot.payee]);
      // What recovery changed on the cards (unsettled counts, balances) is read again, and only that.
      bySlot = await this.openBoth();
      [payer, payee] = roles(bySlot, from);
      // Before anything changes a card: an expired or revoked card is refused before it is asked for
      // a PIN, and a payment the payer card would refuse without its PIN (protocol §4.6) waits for it.
      this.acceptPair(payer, payee);
      requirePinFor(payer, amount);
      const admitted =
        request.admit?.({ payerId: payer.holderIdHex, payeeId: payee.holderIdHex, amount }) ?? {};
      // Keys are aligned by slot: the plan is the same whichever card pays.
      const aligned = await this.alignKeys(bySlot.payer, bySlot.payee);
      [payer, payee] = roles(aligned, from);
      const { warnings } = aligned;
      keyUpdates.push(...aligned.summaries);
      // With the balances visible and current (owner or issuer access, read to be shown) the terminal
      // refuses early; otherwise the cards themselves refuse (SW 9401 / 9402), which arrive as the
      // same error codes. No GET BALANCE is sent for this: the card's own check is the one that counts.
      if (payer.balance && payer.balance.availableBalance < amount) {
        throw new TerminalError(
          'E_INSUFFICIENT_FUNDS',
          `the ${payer.slot} card does not hold enough for this amount`,
          { available: payer.balance.availableBalance, amount, slot: payer.slot },
        );
      }
      if (payee.balance && payee.balance.balanceWithPendingCredits + amount > payee.balance.maxBalance) {
        throw new TerminalError(
          'E_BALANCE_LIMIT',
          `the ${payee.slot} card would exceed its maximum balance`,
          { maxBalance: payee.balance.maxBalance, slot: payee.slot },
        );
      }
      flowId = randomUUID();
      const terms = { amount, currency: this.o.currency, date: this.now() };
      this.recorder.record(
        flowId,
        'value-transfer',
        TRANSFER_STEP.STARTED,
        {
          ...admitted,
          payerId: payer.holderIdHex,
          payeeId: payee.holderIdHex,
          payerSerial: payer.certificate.serial.toString(),
          payeeSerial: payee.certificate.serial.toString(),
          payerSlot: payer.slot,
          payeeSlot: payee.slot,
          payerLabel: cardLabel(payer),
          payeeLabel: cardLabel(payee),
          ...terms,
          keyUpdates: keyUpdates.map((k) => k.flowId),
        },
        {
          ...request.facts,
          refundOf: typeof admitted.refundOf === 'string' ? admitted.refundOf : request.facts?.refundOf,
          amount,
          currency: terms.currency,
          cards: [cardFact(payer), cardFact(payee)],
        },
      );
      await runValueTransfer(this.recorder, flowId, payer, payee, terms);
      const balances = await this.balancesShown();
      return { status: 'completed', flowId, amount, keyUpdates, balances, warnings };
    } catch (e) {
      const error = toTerminalError(e);
      if (resetsCards(error)) await this.resetCards();
      if (!flowId) return { status: 'refused', keyUpdates, error };
      const record = foldTransfer(this.recorder.entries(flowId));
      if (record.lastStep === TRANSFER_STEP.REFUSED) return { status: 'refused', flowId, keyUpdates, error };
      if (record.lastStep === TRANSFER_STEP.ROLLED_BACK)
        return { status: 'rolled-back', flowId, keyUpdates, error };
      // A transport failure (the cards were reset above), or a refusal after the debit: recovery
      // settles the flow with the cards now present, over the held sessions where they still hold.
      this.recorder.record(flowId, 'value-transfer', TRANSFER_STEP.INTERRUPTED, {
        code: error.code,
        message: error.message,
      });
      const recovery = await this.recoverFlowWithPresentCards(flowId);
      const after = foldTransfer(this.recorder.entries(flowId));
      return {
        status: 'interrupted',
        flowId,
        keyUpdates,
        error,
        recovery,
        inDoubt: valueState(after) === 'in-doubt' && recovery !== 'completed',
      };
    }
  }

  /**
   * The balances a completed transfer shows, where the cards grant them; a card at public level is
   * asked nothing more. Display only: a card pulled right after its transfer shows none, and the
   * completed flow stays completed.
   */
  private async balancesShown(): Promise<Record<SlotName, number | undefined>> {
    const shown = async (slot: SlotName) => {
      try {
        return (await this.sessions.balance(slot))?.balance;
      } catch (e) {
        if (resetsCards(e)) await this.resetCards();
        return undefined;
      }
    };
    return { payer: await shown('payer'), payee: await shown('payee') };
  }

  /** Recovers every open value transfer that the cards now present allow (start-up, card presented). */
  async recover(): Promise<RecoveryReport[]> {
    return this.exclusive(() => this.guard(async () => this.recoverWith(await this.sessions.present())));
  }

  /** Value transfers whose value may be in flight: the payer has (or may have) debited, the payee has not confirmed. */
  inDoubt(): InDoubtItem[] {
    return this.openTransfers()
      .filter((r) => valueState(r) === 'in-doubt')
      .map((r) => ({ ...r, valueState: 'in-doubt' as const }));
  }

  openTransfers(): TransferRecord[] {
    return this.o.flows
      .openFlows()
      .filter((f) => f.flowKind === 'value-transfer')
      .map((f) => foldTransfer(this.recorder.entries(f.flowId)));
  }

  private async recoverWith(
    sessions: CardSession[],
    failed: FailureSink = (failure) => this.emit({ type: 'recovery-failed', failure }),
  ): Promise<RecoveryReport[]> {
    const byHolder = new Map(sessions.map((s) => [s.holderIdHex, s]));
    const reports: RecoveryReport[] = [];
    // Each flow on its own: one whose card answers garbage is reported and the pass goes on.
    for (const r of this.openTransfers()) {
      if (!byHolder.has(r.payerId) && !byHolder.has(r.payeeId)) continue;
      const outcome = await isolated(
        r.flowId,
        'value-transfer',
        () => recoverTransfer(this.recorder, r.flowId, byHolder),
        failed,
      );
      if (outcome === undefined) continue;
      const report = { flowId: r.flowId, outcome, amount: r.amount, payerId: r.payerId, payeeId: r.payeeId };
      reports.push(report);
      this.emit({ type: 'recovered', report });
    }
    // Key updates move no value, but an interrupted one stays open until its receiver says which
    // keys it holds.
    for (const f of this.o.flows.openFlows()) {
      if (f.flowKind !== 'key-update') continue;
      await isolated(
        f.flowId,
        'key-update',
        () => recoverKeyUpdate(this.recorder, f.flowId, byHolder),
        failed,
      );
    }
    // Balances and unsettled counts may have changed: each session forgot what the commands sent may
    // have changed, and reads it again when it is next needed (card-session.ts).
    return reports;
  }

  private async recoverFlowWithPresentCards(flowId: string): Promise<RecoveryOutcome | 'not-attempted'> {
    try {
      const sessions = await this.sessions.present();
      if (sessions.length === 0) return 'not-attempted';
      return await recoverTransfer(this.recorder, flowId, new Map(sessions.map((s) => [s.holderIdHex, s])));
    } catch {
      await this.resetCards();
      return 'not-attempted';
    }
  }

  private acceptPair(payer: CardSession, payee: CardSession): string[] {
    if (payer.holderIdHex === payee.holderIdHex)
      throw new TerminalError('E_SAME_CARD', 'the same card is in both slots');
    for (const s of [payer, payee]) {
      if (s.info.currency !== this.o.currency) {
        throw new TerminalError(
          'E_CURRENCY_MISMATCH',
          `the ${s.slot} card holds currency ${s.info.currency}, the terminal settles ${this.o.currency}`,
        );
      }
    }
    const ctx = this.checkContext();
    return [...checkCard(payer, ctx), ...checkCard(payee, ctx)];
  }

  /** Checks both cards, then runs the planned key updates; returns the updated sessions. */
  private async alignKeys(payer: CardSession, payee: CardSession) {
    const warnings = this.acceptPair(payer, payee);
    const plan = planKeyUpdate({ payer: payer.info, payee: payee.info });
    if (plan.kind === 'refused') {
      throw new TerminalError('E_KEY_LIMIT', plan.reason, { slot: plan.slot });
    }
    const sessions: Record<SlotName, CardSession> = { payer, payee };
    const summaries: KeyUpdateSummary[] = [];
    for (const step of plan.steps as KeyUpdateStep[]) {
      const result = await runKeyUpdate(
        this.recorder,
        step,
        sessions[step.receiver],
        sessions[step.sender],
        this.now(),
      );
      sessions[step.receiver] = result.receiver;
      summaries.push({
        flowId: result.flowId,
        receiver: step.receiver,
        route: ROUTE_NAME[step.route],
        reason: step.reason,
      });
    }
    return { payer: sessions.payer, payee: sessions.payee, summaries, warnings };
  }

  private async openBoth(): Promise<{ payer: CardSession; payee: CardSession }> {
    return { payer: await this.sessions.get('payer'), payee: await this.sessions.get('payee') };
  }

  /** Whether a card operation runs now (a second one is refused with E_BUSY). */
  isBusy(): boolean {
    return this.busy;
  }

  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy) throw new TerminalError('E_BUSY', 'another operation is running');
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }
}
