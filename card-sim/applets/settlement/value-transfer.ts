// The value transfer of seed 002 Fig. 4, with the hardening of docs/protocol.md §4.3: both cards keep
// a durable record of each transaction, so a debit without its credit can be completed (or proven
// never to have happened, or paid back) after any interruption, exactly once; a pending credit exists
// only on a genuine payer's debit proof; and value leaves only under the cardholder policy (§4.6).
import type { CommandApdu } from '../../../protocol/apdu.js';
import { concat, fromHex, toHex } from '../../../protocol/bytes.js';
import { MAC_LENGTH, macEquals, RANDOM_LENGTH } from '../../../protocol/crypto-suite.js';
import { HOLDER_ID_LENGTH } from '../../../protocol/settlement/commands.js';
import { MAC_LABEL, ZERO_RANDOM } from '../../../protocol/settlement/mac-input.js';
import { isExpired } from '../../../protocol/settlement/validity-date.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import type { SettlementContext } from './applet-context.js';
import { authorisePayment, countPaymentWithoutPin } from './cardholder-verification.js';
import { CommandData, requireParameters } from './command-data.js';
import {
  type CreditRecord,
  headroomUsed,
  openDebitTotal,
  retireTransferKeys,
  type SettlementState,
} from './state.js';
import {
  abortOpenDebit,
  appendRecord,
  creditTerms,
  debitTerms,
  mac,
  SETTLED_CREDIT,
  SETTLED_DEBIT,
} from './value-records.js';

const TERMS_LENGTH = HOLDER_ID_LENGTH + 2 + 4 + 4;

interface Terms {
  counterpartId: Uint8Array;
  currency: number;
  amount: number;
  date: number;
}

function readTerms(data: CommandData, s: SettlementState): Terms {
  const counterpartId = data.bytes(HOLDER_ID_LENGTH);
  const currency = data.u16();
  const amount = data.u32();
  const date = data.u32();
  if (toHex(counterpartId) === s.holderId)
    throw new CardStatusError(SW.INCORRECT_DATA, 'a card cannot pay itself');
  if (currency !== s.currency)
    throw new CardStatusError(SW.INCORRECT_DATA, 'currency differs from the purse');
  if (amount === 0) throw new CardStatusError(SW.INCORRECT_DATA, 'amount must be positive');
  if (isExpired(s.validity, date)) throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'card expired');
  return { counterpartId, currency, amount, date };
}

/** Value the purse can pay now: the balance less what open exchanges reserve (an open debit is abandoned by a new one). */
function payable(s: SettlementState): number {
  return s.balance - openDebitTotal(s, { exceptOpenDebits: true });
}

/** S2001/S2101A: the payer reserves the amount and answers a fresh transmission random and its debit proof. */
export function initiateDebit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectLength(cmd.data, TERMS_LENGTH);
  const s0 = ctx.store.read();
  const terms = readTerms(data, s0);
  // The cardholder policy before any balance comparison: without the PIN the balance can be probed
  // at most up to the no-PIN allowance.
  authorisePayment(ctx, s0, terms.amount);
  if (terms.amount > payable(s0)) throw new CardStatusError(SW.INSUFFICIENT_FUNDS);
  const txRandom = ctx.random(RANDOM_LENGTH);
  const proof = ctx.store.transaction((s) => {
    // One open debit at a time: starting a new one abandons the old, which can then never be debited.
    for (const r of s.debitLog) if (r.status === 'open') abortOpenDebit(s, r);
    const record = {
      txRandom: toHex(txRandom),
      payeeId: toHex(terms.counterpartId),
      currency: terms.currency,
      amount: terms.amount,
      date: terms.date,
      transferKeyId: s.transferKeyId,
      status: 'open' as const,
    };
    appendRecord(s.debitLog, record, SETTLED_DEBIT);
    retireTransferKeys(s);
    return mac(s, MAC_LABEL.DEBIT_PROOF, debitTerms(s, record, ZERO_RANDOM));
  });
  return concat(txRandom, proof);
}

/** S2002/S2101B–S2103B: on a genuine payer's debit proof, the payee reserves room and answers the transmission challenge. */
export function initiateCredit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectLength(cmd.data, TERMS_LENGTH + RANDOM_LENGTH + MAC_LENGTH);
  const s0 = ctx.store.read();
  const terms = readTerms(data, s0);
  const txRandom = data.bytes(RANDOM_LENGTH);
  const debitProof = data.bytes(MAC_LENGTH);
  // Nothing is stored, and nothing about this card is compared, without a genuine card's proof.
  const offered: CreditRecord = {
    txRandom: toHex(txRandom),
    payerId: toHex(terms.counterpartId),
    currency: terms.currency,
    amount: terms.amount,
    date: terms.date,
    transferKeyId: s0.transferKeyId,
    rxRandom: toHex(ZERO_RANDOM),
    status: 'pending',
  };
  if (!macEquals(mac(s0, MAC_LABEL.DEBIT_PROOF, creditTerms(s0, offered, ZERO_RANDOM)), debitProof)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'debit proof invalid');
  }
  if (s0.creditLog.some((r) => r.txRandom === offered.txRandom)) {
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'transmission random already used');
  }
  if (headroomUsed(s0) + terms.amount > s0.maxBalance) {
    throw new CardStatusError(SW.MAXIMUM_BALANCE_EXCEEDED);
  }
  const rxRandom = ctx.random(RANDOM_LENGTH);
  const challenge = ctx.store.transaction((s) => {
    const record: CreditRecord = { ...offered, rxRandom: toHex(rxRandom) };
    appendRecord(s.creditLog, record, SETTLED_CREDIT);
    return mac(s, MAC_LABEL.TRANSMISSION_CHALLENGE, creditTerms(s, record));
  });
  return concat(rxRandom, challenge);
}

/** S2003/S2103A–S2105A: the payer checks the transmission challenge, debits, and issues the reception challenge. */
export function debit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectLength(cmd.data, 2 * RANDOM_LENGTH + MAC_LENGTH);
  const txRandom = toHex(data.bytes(RANDOM_LENGTH));
  const rxRandom = data.bytes(RANDOM_LENGTH);
  const challenge = data.bytes(MAC_LENGTH);
  const s0 = ctx.store.read();
  const r0 = s0.debitLog.find((r) => r.txRandom === txRandom && r.status === 'open');
  if (!r0) throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'no open debit for this transaction');
  const expected = mac(s0, MAC_LABEL.TRANSMISSION_CHALLENGE, debitTerms(s0, r0, rxRandom));
  const verified = macEquals(expected, challenge);
  // Refusals after a verified challenge change nothing: the terminal may verify the PIN and send DEBIT again.
  const authorised = verified ? authorisePayment(ctx, s0, r0.amount) : undefined;
  if (verified && r0.amount > payable(s0)) throw new CardStatusError(SW.INSUFFICIENT_FUNDS);
  const reception = ctx.store.transaction((s) => {
    const r = s.debitLog.find((x) => x.txRandom === txRandom)!;
    if (!verified) {
      // The random is single-use: a failed challenge ends the transaction, so no MAC can be guessed twice.
      abortOpenDebit(s, r);
      return undefined;
    }
    const rc = mac(s, MAC_LABEL.RECEPTION_CHALLENGE, debitTerms(s, r, rxRandom));
    s.balance -= r.amount;
    if (authorised?.withoutPin) countPaymentWithoutPin(s, r.amount);
    r.status = 'debited';
    r.rxRandom = toHex(rxRandom);
    r.proof = toHex(rc);
    return rc;
  });
  if (!reception)
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'transmission challenge invalid');
  return reception;
}

/** S2004/S2104B–S2105B: the payee checks the reception challenge and credits, once. */
export function credit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectLength(cmd.data, RANDOM_LENGTH + MAC_LENGTH);
  const txRandom = toHex(data.bytes(RANDOM_LENGTH));
  const challenge = data.bytes(MAC_LENGTH);
  const s0 = ctx.store.read();
  const r0 = s0.creditLog.find((r) => r.txRandom === txRandom && r.status === 'pending');
  // A wrong challenge leaves the pending credit untouched: it may still be completed by the real one.
  if (!r0) throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'no pending credit for this transaction');
  if (!macEquals(mac(s0, MAC_LABEL.RECEPTION_CHALLENGE, creditTerms(s0, r0)), challenge)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'reception challenge invalid');
  }
  return ctx.store.transaction((s) => {
    const r = s.creditLog.find((x) => x.txRandom === txRandom)!;
    // Cannot happen under the headroom rule (§4.4); a card migrated from version 1 may start above it.
    if (s.balance + r.amount > s.maxBalance) throw new CardStatusError(SW.MAXIMUM_BALANCE_EXCEEDED);
    const ack = mac(s, MAC_LABEL.CREDIT_ACKNOWLEDGEMENT, creditTerms(s, r));
    s.balance += r.amount;
    r.status = 'credited';
    r.proof = toHex(ack);
    retireTransferKeys(s);
    return ack;
  });
}

/** The payer settles its debit record on the payee's acknowledgement. */
export function acknowledgeDebit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectLength(cmd.data, RANDOM_LENGTH + MAC_LENGTH);
  const txRandom = toHex(data.bytes(RANDOM_LENGTH));
  const ack = data.bytes(MAC_LENGTH);
  const s0 = ctx.store.read();
  const r0 = s0.debitLog.find((r) => r.txRandom === txRandom && r.status === 'debited');
  if (!r0)
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'no unacknowledged debit for this transaction');
  const expected = mac(s0, MAC_LABEL.CREDIT_ACKNOWLEDGEMENT, debitTerms(s0, r0, fromHex(r0.rxRandom!)));
  if (!macEquals(expected, ack))
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'acknowledgement invalid');
  ctx.store.transaction((s) => {
    s.debitLog.find((x) => x.txRandom === txRandom)!.status = 'acknowledged';
    retireTransferKeys(s);
  });
  return new Uint8Array(0);
}

/** The payer gives up an open debit (or repeats the proof of an aborted one): it will never debit it. */
export function abortDebit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const txRandom = toHex(CommandData.expectLength(cmd.data, RANDOM_LENGTH).bytes(RANDOM_LENGTH));
  const r0 = ctx.store.read().debitLog.find((r) => r.txRandom === txRandom);
  if (!r0) throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'no record of this transaction');
  if (r0.status === 'aborted') return fromHex(r0.proof!);
  if (r0.status !== 'open')
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'the debit is already committed');
  return ctx.store.transaction((s) => {
    const r = s.debitLog.find((x) => x.txRandom === txRandom)!;
    abortOpenDebit(s, r);
    retireTransferKeys(s);
    return fromHex(r.proof!);
  });
}

/** The payee drops a pending credit on the payer's proof that it never debited. */
export function cancelCredit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectLength(cmd.data, RANDOM_LENGTH + MAC_LENGTH);
  const txRandom = toHex(data.bytes(RANDOM_LENGTH));
  const proof = data.bytes(MAC_LENGTH);
  const s0 = ctx.store.read();
  const r0 = s0.creditLog.find((r) => r.txRandom === txRandom && r.status === 'pending');
  if (!r0) throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'no pending credit for this transaction');
  if (!macEquals(mac(s0, MAC_LABEL.ABORT_PROOF, creditTerms(s0, r0, ZERO_RANDOM)), proof)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'abort proof invalid');
  }
  ctx.store.transaction((s) => {
    s.creditLog.find((x) => x.txRandom === txRandom)!.status = 'cancelled';
    retireTransferKeys(s);
  });
  return new Uint8Array(0);
}
