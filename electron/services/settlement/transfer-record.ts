// What the journal knows about one value transfer, folded from its entries. Step names and payload
// fields are documented in docs/journal.md; recovery and the in-doubt list read only this.
import type { JournalRecord } from '../../../db/journal.js';
import { startedEntry } from './flow-recorder.js';

export const TRANSFER_STEP = {
  STARTED: 'started',
  /** Written by terminals before the compact journal; its txRandom now goes with CREDIT_INITIATED. */
  DEBIT_INITIATED: 'debit-initiated',
  CREDIT_INITIATED: 'credit-initiated',
  DEBITED: 'debited',
  CREDITED: 'credited',
  ABORTED: 'aborted',
  /**
   * The payee gave up its pending credit (RELEASE CREDIT): its release proof, journaled before REFUND
   * DEBIT is sent. The flow stays open until the payer has taken the proof ('refunded').
   */
  RELEASED: 'released',
  /** The payer took the release proof (REFUND DEBIT): what it debited, if anything, is back. Closes the flow. */
  REFUNDED: 'refunded',
  INTERRUPTED: 'interrupted',
  /**
   * The payer refused the payee's acknowledgement (ACKNOWLEDGE DEBIT 6982), read again from the
   * payee's record: it is not genuine (a forged record, a card that lies). The acknowledgement no
   * longer counts; the flow is in doubt again, and the same one is never journaled or sent again.
   */
  ACK_REFUSED: 'ack-refused',
  COMPLETED: 'completed',
  ROLLED_BACK: 'rolled-back',
  REFUSED: 'failed-no-value-moved',
} as const;

/**
 * Where a flow came from when this terminal did not run it: a pending credit found on a card that no
 * flow of this journal accounts for ('found-on-card'), or a release proof handed to deliver()
 * ('delivered': made by another terminal, or carried by the issuer).
 */
export type TransferOrigin = 'found-on-card' | 'delivered';

export interface TransferRecord {
  flowId: string;
  /** Undefined for a transfer this terminal ran. */
  origin?: TransferOrigin;
  payerId: string;
  payeeId: string;
  payerSerial?: string;
  payeeSerial?: string;
  amount: number;
  currency: number;
  date: number;
  txRandom?: string;
  rxRandom?: string;
  challenge?: string;
  receptionChallenge?: string;
  ack?: string;
  abortProof?: string;
  /** The payee's release proof (protocol version 2): the payer is, or will be, paid back. */
  releaseProof?: string;
  /** An acknowledgement the payer refused ('ack-refused'): a payee record answering it is no proof. */
  refusedAck?: string;
  payeeSettled: boolean;
  payerSettled: boolean;
  lastStep: string;
  startedAt: string;
  updatedAt: string;
}

export type ValueState =
  /** Nothing left either card, or it is proven it never will. */
  | 'no-value-moved'
  /** The payer has or may have debited; the payee's credit is not confirmed: value in flight. */
  | 'in-doubt'
  /** The payee confirmed the credit. */
  | 'delivered'
  /**
   * The payee released its credit; the payer has not taken the release proof yet. Whatever it debited
   * comes back when it does (a pending delivery, listed with the proof).
   */
  | 'returning';

export function foldTransfer(entries: JournalRecord[]): TransferRecord {
  const first = startedEntry(entries, 'value-transfer');
  const p = first.payload;
  const r: TransferRecord = {
    flowId: first.flowId,
    payerId: String(p.payerId),
    payeeId: String(p.payeeId),
    payerSerial: p.payerSerial ? String(p.payerSerial) : undefined,
    payeeSerial: p.payeeSerial ? String(p.payeeSerial) : undefined,
    ...(p.origin === 'found-on-card' || p.origin === 'delivered' ? { origin: p.origin } : {}),
    amount: Number(p.amount),
    currency: Number(p.currency),
    date: Number(p.date),
    payeeSettled: false,
    payerSettled: false,
    lastStep: first.step,
    startedAt: first.at,
    updatedAt: first.at,
  };
  // A flow adopted from a card or a delivered proof names its randoms in its 'started' entry already.
  for (const [i, e] of entries.entries()) {
    const q = e.payload as Record<string, string | boolean | undefined>;
    r.lastStep = e.step;
    r.updatedAt = e.at;
    if (i === 0) {
      for (const key of ['txRandom', 'rxRandom'] as const)
        if (typeof q[key] === 'string') r[key] = q[key] as string;
      continue;
    }
    for (const key of [
      'txRandom',
      'rxRandom',
      'challenge',
      'receptionChallenge',
      'ack',
      'abortProof',
      'releaseProof',
    ] as const) {
      if (typeof q[key] === 'string') r[key] = q[key] as string;
    }
    if (q.payeeSettled === true) r.payeeSettled = true;
    if (q.payerSettled === true) r.payerSettled = true;
    if (e.step === TRANSFER_STEP.ACK_REFUSED) {
      r.refusedAck = typeof q.refusedAck === 'string' ? q.refusedAck : r.ack;
      r.ack = undefined;
      r.payeeSettled = false;
    }
  }
  return r;
}

export function valueState(r: TransferRecord): ValueState {
  if (r.ack) return 'delivered';
  if (r.releaseProof && !isClosedStep(r.lastStep)) return 'returning';
  // A pending credit found on a card: its payer may have debited.
  if (r.origin === 'found-on-card' && !isClosedStep(r.lastStep)) return 'in-doubt';
  if (r.abortProof || r.releaseProof || r.lastStep === TRANSFER_STEP.REFUSED) return 'no-value-moved';
  if (r.receptionChallenge) return 'in-doubt';
  // DEBIT may have reached the payer once the transmission challenge existed.
  if (r.challenge) return 'in-doubt';
  return 'no-value-moved';
}

/** The steps that close a value-transfer flow (db/flows.ts TERMINAL_STEPS, as this flow uses them). */
export function isClosedStep(step: string): boolean {
  return (
    step === TRANSFER_STEP.COMPLETED ||
    step === TRANSFER_STEP.ROLLED_BACK ||
    step === TRANSFER_STEP.REFUNDED ||
    step === TRANSFER_STEP.REFUSED
  );
}
