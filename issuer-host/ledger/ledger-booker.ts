// Books the value transfers of an upload into the ledger (migration 004; docs/issuer-host.md,
// "Ledger"), in the ingest's transaction. Each value-transfer entry is read for its flow's terms
// (the `started` entry: payer, payee, amount, currency) and the transaction random Rt, which with
// the payer's holder ID names the transfer whichever terminal journaled it (a flow of origin
// `found-on-card` or `delivered` at another terminal is the same transfer). Steps book:
//
//   credit-initiated, debited, released,   pending  payer card → the shop's value in flight
//   started of another origin
//   credited, completed                    pending, then post   in flight → payee card
//   aborted, refunded, rolled-back (once   pending, then void   in flight → payer card
//   Rt is known)
//
// Every booking is idempotent by (transfer, phase): a step journaled twice, or by two terminals,
// books once. A resolution that contradicts the one booked (posted here, voided there) or terms that
// differ for the same transfer are not booked but kept as ledger exceptions for the issuer.
import { decodeRecord } from '../../db/journal-codec.js';
import type { IngestContext, IngestedEntry } from '../clearing/ingest.js';
import type { Sql } from '../db/host-database.js';
import {
  accountId,
  type Booking,
  ensurePending,
  keepRelease,
  noteFlow,
  type PendingTransfer,
  recordException,
  resolve,
  sameTransferFamily,
} from '../db/ledger-records.js';

const HEX = /^[0-9A-F]+$/;
const HOLDER_ID = /^[0-9A-F]{32}$/;
const RANDOM = /^[0-9A-F]{2,64}$/;

export interface FlowState {
  payerId?: string;
  payeeId?: string;
  amount?: number;
  currency?: number;
  date?: number;
  txRandom?: string;
  rxRandom?: string;
}

export type Action = 'pending' | 'post' | 'void' | null;

export function actionOf(step: string, payload: Record<string, unknown>, state: FlowState): Action {
  switch (step) {
    case 'started':
      return typeof payload.origin === 'string' ? 'pending' : null;
    case 'credit-initiated':
    case 'debited':
    case 'released':
      return 'pending';
    case 'credited':
    case 'completed':
      return 'post';
    case 'aborted':
    case 'refunded':
      return 'void';
    case 'rolled-back':
      return state.txRandom !== undefined ? 'void' : null;
    default:
      return null;
  }
}

/** Folds an entry's payload into its flow's terms. */
export function learn(state: FlowState, step: string, payload: Record<string, unknown>): void {
  if (step === 'started') {
    if (typeof payload.payerId === 'string') state.payerId = payload.payerId;
    if (typeof payload.payeeId === 'string') state.payeeId = payload.payeeId;
    if (Number.isSafeInteger(payload.amount)) state.amount = payload.amount as number;
    if (Number.isSafeInteger(payload.currency)) state.currency = payload.currency as number;
    if (Number.isSafeInteger(payload.date)) state.date = payload.date as number;
  }
  if (typeof payload.txRandom === 'string' && HEX.test(payload.txRandom)) state.txRandom = payload.txRandom;
  if (typeof payload.rxRandom === 'string' && HEX.test(payload.rxRandom)) state.rxRandom = payload.rxRandom;
}

/** Whether an entry's booking may be made: the proofs the cards made for it (clearing/transfer-proofs.ts). */
export type AdmitBooking = (entry: IngestedEntry, action: 'pending' | 'post' | 'void') => boolean;

export async function bookValueTransfers(
  tx: Sql,
  context: IngestContext,
  entries: readonly IngestedEntry[],
  admit?: AdmitBooking,
): Promise<void> {
  const transfers = entries.filter((e) => e.flowKind === 'value-transfer');
  if (transfers.length === 0) return;
  const states = new Map<string, FlowState>();
  const batch: BatchMemory = { done: new Set(), accounts: new Map() };
  for (const entry of transfers) {
    let state = states.get(entry.flowId);
    if (state === undefined) {
      state = await earlierState(tx, context.terminalId, entry);
      states.set(entry.flowId, state);
    }
    learn(state, entry.step, entry.payload);
    const action = actionOf(entry.step, entry.payload, state);
    if (action !== null && (admit?.(entry, action) ?? true))
      await book(tx, context, entry, state, action, batch);
  }
}

/**
 * What this upload booked already: a flow's later steps repeat its bookings (debited after
 * credit-initiated, completed after credited), which need no second round trip; and the accounts.
 */
export interface BatchMemory {
  done: Set<string>;
  accounts: Map<string, bigint>;
}

export async function account(
  tx: Sql,
  batch: BatchMemory,
  kind: 'card' | 'in-flight',
  ref: string,
  currency: number,
) {
  const key = `${kind}:${ref}:${currency}`;
  let id = batch.accounts.get(key);
  if (id === undefined) {
    id = await accountId(tx, kind, ref, currency);
    batch.accounts.set(key, id);
  }
  return id;
}

/** The flow's terms from its entries the host held before this upload. */
async function earlierState(tx: Sql, terminalId: string, entry: IngestedEntry): Promise<FlowState> {
  const state: FlowState = {};
  if (entry.flowNo === entry.seq) return state;
  const rows = await tx.query<{ record: Uint8Array }>(
    `SELECT record FROM clearing_entries WHERE terminal_id = $1 AND flow_no = $2 AND seq < $3 ORDER BY seq`,
    [terminalId, entry.flowNo, entry.seq],
  );
  for (const row of rows) {
    const { step, payload } = decodeRecord(row.record);
    learn(state, step, payload);
  }
  return state;
}

async function book(
  tx: Sql,
  context: IngestContext,
  entry: IngestedEntry,
  state: FlowState,
  action: 'pending' | 'post' | 'void',
  batch: BatchMemory,
): Promise<void> {
  const { payerId, payeeId, amount, currency, txRandom } = state;
  if (
    payerId === undefined ||
    payeeId === undefined ||
    txRandom === undefined ||
    amount === undefined ||
    currency === undefined ||
    !HOLDER_ID.test(payerId) ||
    !HOLDER_ID.test(payeeId) ||
    !RANDOM.test(txRandom) ||
    !(amount > 0) ||
    !(currency >= 1 && currency <= 999)
  ) {
    // Nothing that names a transfer of value (no Rt yet, no amount), or terms no card could have
    // written: the entry is held (the chain needs it), but it books nothing. Refusing the upload
    // instead would stop the terminal's clearing for good.
    return;
  }
  const booking: Booking = {
    ...entryBooking(context, entry),
    transferKey: `${payerId}:${txRandom}`,
    amount: BigInt(amount),
    currency,
  };
  if (entry.step === 'released') await keepReleaseProof(tx, booking, state, entry);
  if (!(await firstInBatch(tx, batch, booking, action))) return;
  const payer = await account(tx, batch, 'card', payerId, currency);
  const inFlight = await account(tx, batch, 'in-flight', context.shopId, currency);
  await bookPhase(tx, booking, action, {
    payer,
    inFlight,
    payee: () => account(tx, batch, 'card', payeeId, currency),
    journaled: { amount, currency, payerId },
  });
}

/** Where a booking comes from: the uploading terminal's entry. */
export function entryBooking(
  context: IngestContext,
  entry: IngestedEntry,
): Pick<Booking, 'terminalId' | 'shopId' | 'seq' | 'flowId' | 'entryAt' | 'bookedAt'> {
  return {
    terminalId: context.terminalId,
    shopId: context.shopId,
    seq: entry.seq,
    flowId: entry.flowId,
    entryAt: entry.at,
    bookedAt: context.now,
  };
}

/**
 * Whether this flow books this phase of this transfer for the first time in the upload (a flow's
 * later steps repeat its bookings: skip the round trips); notes the flow for the transfer once.
 */
export async function firstInBatch(
  tx: Sql,
  batch: BatchMemory,
  booking: Booking,
  phase: 'pending' | 'post' | 'void',
): Promise<boolean> {
  const noted = `${booking.flowId}\u0000${booking.transferKey}`;
  const once = `${noted}\u0000${phase}`;
  if (batch.done.has(once)) return false;
  batch.done.add(once);
  if (!batch.done.has(noted)) {
    batch.done.add(noted);
    await noteFlow(tx, booking);
  }
  return true;
}

/**
 * One phase of a two-phase booking, idempotent by (transfer key, phase): the pending transfer (payer
 * → in flight) is claimed or found, then a post (in flight → payee) or void (back to the payer) made
 * unless one is booked. Terms that differ from the pending's, a resolution contradicting the one
 * booked, or a card settling what the issuer refunded are kept as exceptions, never booked. Value
 * transfers and content legs (content-booker.ts) book through here; a resolution is of its pending's
 * kind.
 */
export async function bookPhase(
  tx: Sql,
  booking: Booking,
  action: 'pending' | 'post' | 'void',
  parties: {
    payer: bigint;
    inFlight: bigint;
    payee: () => Promise<bigint>;
    journaled: Record<string, unknown>;
  },
): Promise<void> {
  const { payer } = parties;
  const pending = await ensurePending(tx, booking, { debit: payer, credit: parties.inFlight });
  if (
    !sameTransferFamily(pending.kind, booking.kind ?? 'value-transfer') ||
    pending.amount !== booking.amount ||
    pending.currency !== booking.currency ||
    pending.debitAccount !== payer
  ) {
    await exception(tx, booking, 'terms-differ', {
      booked: { kind: pending.kind, amount: pending.amount.toString(), currency: pending.currency },
      journaled: { kind: booking.kind ?? 'value-transfer', ...parties.journaled },
    });
    return;
  }
  if (action === 'pending') return;
  if (pending.resolution !== null) {
    if (pending.resolvedBy === 'refund-case') {
      // The issuer refunded the payer already: a card settling it too is the issuer's loss to see.
      await exception(tx, booking, 'after-refund-case', { booked: 'refund-case', journaled: action });
    } else if (pending.resolution !== action) {
      await exception(tx, booking, 'conflicting-resolution', {
        booked: pending.resolution,
        journaled: action,
      });
    }
    return;
  }
  const credit = action === 'post' ? await parties.payee() : payer;
  await resolve(tx, action, pending satisfies PendingTransfer, booking, credit);
}

async function exception(
  tx: Sql,
  booking: Booking,
  kind: 'conflicting-resolution' | 'terms-differ' | 'after-refund-case',
  detail: Record<string, unknown>,
): Promise<void> {
  await recordException(tx, {
    transferKey: booking.transferKey,
    kind,
    terminalId: booking.terminalId,
    flowId: booking.flowId,
    seq: booking.seq,
    detail,
    at: booking.bookedAt,
  });
}

async function keepReleaseProof(
  tx: Sql,
  booking: Booking,
  state: FlowState,
  entry: IngestedEntry,
): Promise<void> {
  const proof = entry.payload.releaseProof;
  if (typeof proof !== 'string' || !/^[0-9A-F]{2,128}$/.test(proof)) return;
  if (state.rxRandom === undefined || !RANDOM.test(state.rxRandom)) return;
  if (state.date !== undefined && !(state.date >= 0)) return;
  await keepRelease(tx, {
    transferKey: booking.transferKey,
    payerId: state.payerId!,
    payeeId: state.payeeId!,
    amount: booking.amount,
    currency: booking.currency,
    date: state.date ?? 0,
    txRandom: state.txRandom!,
    rxRandom: state.rxRandom,
    releaseProof: proof,
    terminalId: booking.terminalId,
    seq: booking.seq,
  });
}
