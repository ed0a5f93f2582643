// What the value-transfer handlers share: the transfer key of a record, the terms each MAC binds
// (docs/protocol.md §4.3), and the debit and credit logs that only ever evict settled records (§4.4).
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { LOG_CAPACITY } from '../../../protocol/settlement/commands.js';
import {
  MAC_LABEL,
  type MacLabel,
  type TransferTerms,
  transferMac,
  ZERO_RANDOM,
} from '../../../protocol/settlement/mac-input.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import type { CreditRecord, DebitRecord, SettlementState } from './state.js';

export const SETTLED_DEBIT: readonly DebitRecord['status'][] = ['acknowledged', 'aborted', 'refunded'];
export const SETTLED_CREDIT: readonly CreditRecord['status'][] = ['credited', 'cancelled', 'released'];

export function transferKey(s: SettlementState, id: number): Uint8Array {
  const key = s.transferKeys[String(id)];
  if (!key) throw new CardStatusError(SW.REFERENCE_DATA_NOT_USABLE, `transfer key ${id} not held`);
  return fromHex(key);
}

export function debitTerms(s: SettlementState, r: DebitRecord, rxRandom: Uint8Array): TransferTerms {
  return {
    transferKeyId: r.transferKeyId,
    payerId: fromHex(s.holderId),
    payeeId: fromHex(r.payeeId),
    currency: r.currency,
    amount: r.amount,
    date: r.date,
    txRandom: fromHex(r.txRandom),
    rxRandom,
  };
}

export function creditTerms(
  s: SettlementState,
  r: CreditRecord,
  rxRandom = fromHex(r.rxRandom),
): TransferTerms {
  return {
    transferKeyId: r.transferKeyId,
    payerId: fromHex(r.payerId),
    payeeId: fromHex(s.holderId),
    currency: r.currency,
    amount: r.amount,
    date: r.date,
    txRandom: fromHex(r.txRandom),
    rxRandom,
  };
}

export function mac(s: SettlementState, label: MacLabel, terms: TransferTerms): Uint8Array {
  return transferMac(transferKey(s, terms.transferKeyId), label, terms);
}

/** Appends a record, evicting the oldest settled one when the log is full; never an unsettled one. */
export function appendRecord<R extends { status: string }>(
  log: R[],
  record: R,
  settled: readonly string[],
): void {
  if (log.length >= LOG_CAPACITY) {
    const index = log.findIndex((r) => settled.includes(r.status));
    if (index < 0)
      throw new CardStatusError(SW.NOT_ENOUGH_MEMORY, 'log full of unsettled records: recover first');
    log.splice(index, 1);
  }
  log.push(record);
}

/** An open debit becomes aborted: never debited, and its abort proof is stored for re-issue. */
export function abortOpenDebit(s: SettlementState, r: DebitRecord): void {
  r.status = 'aborted';
  r.proof = toHex(mac(s, MAC_LABEL.ABORT_PROOF, debitTerms(s, r, ZERO_RANDOM)));
}
