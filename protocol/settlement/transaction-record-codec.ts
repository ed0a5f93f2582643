// Value-transfer terms as they travel, and the 104-byte transaction record of GET TRANSACTION STATUS
// (docs/protocol.md §4.4).
import { concat, readU32, u16, u32 } from '../bytes.js';
import { RANDOM_LENGTH } from '../crypto-suite.js';
import { TerminalError } from '../errors.js';
import { HOLDER_ID_LENGTH, RECORD_STATUS, type RecordStatus } from './commands.js';
import { readU16 } from './response-checks.js';

export interface TransactionRecord {
  role: 'debit' | 'credit';
  status: RecordStatus;
  counterpartId: Uint8Array;
  currency: number;
  amount: number;
  date: number;
  transferKeyId: number;
  txRandom: Uint8Array;
  rxRandom: Uint8Array;
  /** RC (debited), AP (aborted), RP (refunded, released), ACK (credited), otherwise zeros. */
  proof: Uint8Array;
}

export const TRANSACTION_RECORD_LENGTH = 2 + HOLDER_ID_LENGTH + 2 + 4 + 4 + 4 + 3 * RANDOM_LENGTH;

export interface TransferRequest {
  counterpartId: Uint8Array;
  currency: number;
  amount: number;
  date: number;
}

export function encodeTerms(t: TransferRequest): Uint8Array {
  if (t.counterpartId.length !== HOLDER_ID_LENGTH)
    throw new TerminalError('E_INPUT_INVALID', 'holder IDs are 16 bytes');
  return concat(t.counterpartId, u16(t.currency), u32(t.amount), u32(t.date));
}

const KNOWN_STATUS = new Set<number>(Object.values(RECORD_STATUS));

export function decodeTransactionRecord(r: Uint8Array): TransactionRecord {
  const status = r[1]!;
  const role = r[0] === 1 ? 'debit' : r[0] === 2 ? 'credit' : undefined;
  // A debit record carries a debit state (0X), a credit record a credit state (1X).
  if (!role || !KNOWN_STATUS.has(status) || (role === 'debit') !== status < 0x10) {
    throw new TerminalError('E_APDU_MALFORMED', 'unknown transaction record role or status');
  }
  let o = 2;
  const take = (n: number) => {
    o += n;
    return r.slice(o - n, o);
  };
  return {
    role,
    status: status as RecordStatus,
    counterpartId: take(HOLDER_ID_LENGTH),
    currency: readU16(take(2)),
    amount: readU32(take(4)),
    date: readU32(take(4)),
    transferKeyId: readU32(take(4)),
    txRandom: take(RANDOM_LENGTH),
    rxRandom: take(RANDOM_LENGTH),
    proof: take(RANDOM_LENGTH),
  };
}

export function decodeTransactionRecords(r: Uint8Array): TransactionRecord[] {
  if (r.length % TRANSACTION_RECORD_LENGTH !== 0)
    throw new TerminalError('E_APDU_MALFORMED', 'unsettled list length');
  return Array.from({ length: r.length / TRANSACTION_RECORD_LENGTH }, (_, i) =>
    decodeTransactionRecord(r.subarray(i * TRANSACTION_RECORD_LENGTH, (i + 1) * TRANSACTION_RECORD_LENGTH)),
  );
}
