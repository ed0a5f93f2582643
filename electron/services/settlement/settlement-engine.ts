// The terminal's settlement engine: before every value transfer it reads both cards, refuses
// expired or revoked ones, brings their keys in line by the route the seed prescribes, then runs
// the value transfer of Fig. 4. Every step is journaled; interrupted transfers are recovered at
// start-up, when a card is presented again, or on demand.
import { randomUUID } from 'node:crypto';
import type { Flows } from '../../../db/flows.js';
import type { Journal, JournalRecord } from '../../../db/journal.js';
import { isTerminalError, TerminalError } from '../../../protocol/errors.js';
import { parseCertificate } from '../../../protocol/pki/index.js';
import { isExpired, unixSeconds } from '../../../protocol/settlement/validity-date.js';
import type { ReaderSlots, SlotName } from '../slots/reader-slots.js';
import {
  type CardCheckContext,
  type CertificateStatus,
  certificateStatus,
  checkCard,
  type RevocationChecker,
} from './card-checks.js';
import { type CardSession, closeSession, openCardSession, readSession } from './card-session.js';
import { FlowRecorder, type StepEvent } from './flow-recorder.js';
import { runKeyUpdate } from './key-update.js';
import { type KeyUpdateStep, planKeyUpdate, ROUTE_NAME } from './key-update-plan.js';
import { foldTransfer, TRANSFER_STEP, type TransferRecord, valueState } from './transfer-record.js';
import { type RecoveryOutcome, recoverTransfer } from './transfer-recovery.js';
import { runValueTransfer } from './value-transfer.js';

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
}

export interface CardView {
  slot: SlotName;
  holderId: string;
  validity: string;
  expired: boolean;
  currency: number;
  balance: number;
  maxBalance: number;
  availableBalance: number;
  transferKeyId: number;
  transferKeyIdLimit: number;
  prestoredTransferKeyIds: number[];
  updateKeyId: number;
  updateKeyIdLimit: number;
  unsettledDebits: number;
  pendingCredits: number;
  certificate: { serial: string; subject: string; notAfter: string; status: CertificateStatus };
}

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
      balances: Record<SlotName, number>;
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

export type EngineEvent = { type: 'step'; event: StepEvent } | { type: 'recovered'; report: RecoveryReport };

export class SettlementEngine {
  private readonly recorder: FlowRecorder;
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly caPublicKey: Uint8Array;
  private busy = false;

  constructor(private readonly o: SettlementEngineOptions) {
    this.caPublicKey = parseCertificate(o.caCertificateDer).publicKey;
    this.recorder = new FlowRecorder(o.journal, {
      onStep: (event) => this.emit({ type: 'step', event }),
      ...(o.afterJournalAppend ? { afterAppend: o.afterJournalAppend } : {}),
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
    const session = await openCardSession(this.o.slots, slot);
    try {
      return this.view(session);
    } finally {
      await closeSession(session);
    }
  }

  private view(s: CardSession): CardView {
    return {
      slot: s.slot,
      holderId: s.holderIdHex,
      validity: s.info.validity,
      expired: isExpired(s.info.validity, this.now()),
      currency: s.info.currency,
      balance: s.balance.balance,
      maxBalance: s.balance.maxBalance,
      availableBalance: s.balance.availableBalance,
      transferKeyId: s.info.transferKeyId,
      transferKeyIdLimit: s.info.transferKeyIdLimit,
      prestoredTransferKeyIds: s.info.prestoredTransferKeyIds,
      updateKeyId: s.info.updateKeyId,
      updateKeyIdLimit: s.info.updateKeyIdLimit,
      unsettledDebits: s.info.unsettledDebits,
      pendingCredits: s.info.pendingCredits,
      certificate: {
        serial: s.certificate.serial.toString(),
        subject: s.certificate.subjectName,
        notAfter: s.certificate.notAfter.toISOString(),
        status: certificateStatus(s, this.checkContext()),
      },
    };
  }

  /** Seed S1001–S1006 (or the other embodiments' equivalents) without a value transfer. */
  async updateKeys(): Promise<KeyUpdateSummary[]> {
    return this.exclusive(async () => {
      const { payer, payee } = await this.openBoth();
      try {
        const updated = await this.alignKeys(payer, payee);
        return updated.summaries;
      } finally {
        await Promise.all([closeSession(payer), closeSession(payee)]);
      }
    });
  }

  async transfer(request: { amount: number }): Promise<TransferOutcome> {
    return this.exclusive(() => this.runTransfer(request));
  }

  private async runTransfer(request: { amount: number }): Promise<TransferOutcome> {
    const keyUpdates: KeyUpdateSummary[] = [];
    const { amount } = request;
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > 0xffffffff) {
      return {
        status: 'refused',
        keyUpdates,
        error: new TerminalError(
          'E_INPUT_INVALID',
          'the amount must be a whole number of minor units above zero',
        ),
      };
    }
    let payer: CardSession | undefined;
    let payee: CardSession | undefined;
    let flowId: string | undefined;
    try {
      ({ payer, payee } = await this.openBoth());
      await this.recoverWith([payer, payee]);
      const aligned = await this.alignKeys(payer, payee);
      ({ payer, payee } = aligned);
      const { warnings } = aligned;
      keyUpdates.push(...aligned.summaries);
      if (payer.balance.availableBalance < amount) {
        throw new TerminalError(
          'E_INSUFFICIENT_FUNDS',
          `the payer card holds ${payer.balance.availableBalance}, less than ${amount}`,
          {
            available: payer.balance.availableBalance,
            amount,
          },
        );
      }
      if (payee.balance.balanceWithPendingCredits + amount > payee.balance.maxBalance) {
        throw new TerminalError(
          'E_BALANCE_LIMIT',
          `the payee card would exceed its maximum balance of ${payee.balance.maxBalance}`,
          {
            maxBalance: payee.balance.maxBalance,
          },
        );
      }
      flowId = randomUUID();
      const terms = { amount, currency: this.o.currency, date: this.now() };
      this.recorder.record(flowId, 'value-transfer', TRANSFER_STEP.STARTED, {
        payerId: payer.holderIdHex,
        payeeId: payee.holderIdHex,
        payerSerial: payer.certificate.serial.toString(),
        payeeSerial: payee.certificate.serial.toString(),
        ...terms,
        keyUpdates: keyUpdates.map((k) => k.flowId),
      });
      await runValueTransfer(this.recorder, flowId, payer, payee, terms);
      payer = await readSession('payer', payer.client);
      payee = await readSession('payee', payee.client);
      return {
        status: 'completed',
        flowId,
        amount,
        keyUpdates,
        balances: { payer: payer.balance.balance, payee: payee.balance.balance },
        warnings,
      };
    } catch (e) {
      const error = isTerminalError(e)
        ? e
        : new TerminalError('E_INTERNAL', String((e as Error)?.message ?? e));
      if (!flowId) return { status: 'refused', keyUpdates, error };
      const record = foldTransfer(this.recorder.entries(flowId));
      if (record.lastStep === TRANSFER_STEP.REFUSED) return { status: 'refused', flowId, keyUpdates, error };
      if (record.lastStep === TRANSFER_STEP.ROLLED_BACK)
        return { status: 'rolled-back', flowId, keyUpdates, error };
      this.recorder.record(flowId, 'value-transfer', TRANSFER_STEP.INTERRUPTED, {
        code: error.code,
        message: error.message,
      });
      await Promise.all([closeSession(payer), closeSession(payee)]);
      payer = payee = undefined;
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
    } finally {
      await Promise.all([closeSession(payer), closeSession(payee)]);
    }
  }

  /** Recovers every open value transfer that the cards now present allow (start-up, card presented). */
  async recover(): Promise<RecoveryReport[]> {
    return this.exclusive(async () => {
      const sessions = await this.openPresent();
      try {
        return await this.recoverWith(sessions);
      } finally {
        await Promise.all(sessions.map(closeSession));
      }
    });
  }

  /**
   * Recovers open transfers whenever a card is presented again (seed 000's "same card presented").
   * Returns the unsubscribe function.
   */
  recoverOnCardInsert(onError?: (e: unknown) => void): () => void {
    return this.o.slots.on((event) => {
      if (event.type !== 'card-inserted' || this.busy) return;
      if (!this.openTransfers().length) return;
      this.recover().catch((e: unknown) => onError?.(e));
    });
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

  private async recoverWith(sessions: CardSession[]): Promise<RecoveryReport[]> {
    const byHolder = new Map(sessions.map((s) => [s.holderIdHex, s]));
    const reports: RecoveryReport[] = [];
    for (const r of this.openTransfers()) {
      if (!byHolder.has(r.payerId) && !byHolder.has(r.payeeId)) continue;
      const outcome = await recoverTransfer(this.recorder, r.flowId, byHolder);
      const report = { flowId: r.flowId, outcome, amount: r.amount, payerId: r.payerId, payeeId: r.payeeId };
      reports.push(report);
      this.emit({ type: 'recovered', report });
    }
    // Balances and unsettled counts changed: refresh the sessions' view.
    for (const s of sessions) Object.assign(s, await readSession(s.slot, s.client));
    return reports;
  }

  private async recoverFlowWithPresentCards(flowId: string): Promise<RecoveryOutcome | 'not-attempted'> {
    const sessions = await this.openPresent();
    try {
      if (sessions.length === 0) return 'not-attempted';
      return await recoverTransfer(this.recorder, flowId, new Map(sessions.map((s) => [s.holderIdHex, s])));
    } catch {
      return 'not-attempted';
    } finally {
      await Promise.all(sessions.map(closeSession));
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
    const payer = await openCardSession(this.o.slots, 'payer');
    try {
      return { payer, payee: await openCardSession(this.o.slots, 'payee') };
    } catch (e) {
      await closeSession(payer);
      throw e;
    }
  }

  private async openPresent(): Promise<CardSession[]> {
    const sessions: CardSession[] = [];
    for (const status of this.o.slots.status()) {
      if (!status.cardPresent) continue;
      try {
        sessions.push(await openCardSession(this.o.slots, status.slot));
      } catch {
        // A card that cannot be read now is recovered when it is presented again.
      }
    }
    return sessions;
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
