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
  INTERRUPTED: 'interrupted',
  COMPLETED: 'completed',
  ROLLED_BACK: 'rolled-back',
  REFUSED: 'failed-no-value-moved',
} as const;

export interface TransferRecord {
  flowId: string;
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
  | 'delivered';

export function foldTransfer(entries: JournalRecord[]): TransferRecord {
  const first = startedEntry(entries, 'value-transfer');
  const p = first.payload;
  const r: TransferRecord = {
    flowId: first.flowId,
    payerId: String(p.payerId),
    payeeId: String(p.payeeId),
    payerSerial: p.payerSerial ? String(p.payerSerial) : undefined,
    payeeSerial: p.payeeSerial ? String(p.payeeSerial) : undefined,
    amount: Number(p.amount),
    currency: Number(p.currency),
    date: Number(p.date),
    payeeSettled: false,
    payerSettled: false,
    lastStep: first.step,
    startedAt: first.at,
    updatedAt: first.at,
  };
  for (const e of entries.slice(1)) {
    const q = e.payload as Record<string, string | boolean | undefined>;
    r.lastStep = e.step;
    r.updatedAt = e.at;
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
  }
  return r;
}

export function valueState(r: TransferRecord): ValueState {
  if (r.ack) return 'delivered';
  if (r.abortProof || r.releaseProof || r.lastStep === TRANSFER_STEP.REFUSED) return 'no-value-moved';
  if (r.receptionChallenge) return 'in-doubt';
  // DEBIT may have reached the payer once the transmission challenge existed.
  if (r.challenge) return 'in-doubt';
  return 'no-value-moved';
}
