// GET CARD INFO, GET BALANCE and GET TRANSACTION STATUS: public data only, never a key.

import type { CommandApdu } from '../../../protocol/apdu.js';
import { concat, fromHex, u16, u32 } from '../../../protocol/bytes.js';
import { RANDOM_LENGTH } from '../../../protocol/crypto-suite.js';
import { encodeNoPinLimits, encodePinStatus } from '../../../protocol/settlement/cardholder-policy.js';
import { APPLET_VERSION, RECORD_STATUS, STATUS_QUERY, TAG } from '../../../protocol/settlement/commands.js';
import { encodeValidity } from '../../../protocol/settlement/validity-date.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import { encodeTlvList } from '../../../protocol/tlv.js';
import { accessLevel, canReadBalance } from './access.js';
import type { SettlementContext } from './applet-context.js';
import { limitsOf, pinStatusOf } from './cardholder-verification.js';
import { CommandData, requireParameters } from './command-data.js';
import { type CreditRecord, type DebitRecord, openDebitTotal, pendingCreditTotal } from './state.js';

export function getCardInfo(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  CommandData.expectLength(cmd.data, 0);
  const s = ctx.store.read();
  const prestored = Object.keys(s.transferKeys)
    .map(Number)
    .filter((id) => id > s.transferKeyId)
    .sort((a, b) => a - b);
  const unsettledDebits = s.debitLog.filter((r) => r.status === 'open' || r.status === 'debited').length;
  const pendingCredits = s.creditLog.filter((r) => r.status === 'pending').length;
  return encodeTlvList([
    { tag: TAG.HOLDER_ID, value: fromHex(s.holderId) },
    { tag: TAG.VALIDITY, value: encodeValidity(s.validity) },
    { tag: TAG.TRANSFER_KEY_ID, value: u32(s.transferKeyId) },
    { tag: TAG.TRANSFER_KEY_ID_LIMIT, value: u32(s.transferKeyIdLimit) },
    { tag: TAG.UPDATE_KEY_ID, value: u32(s.updateKeyId) },
    { tag: TAG.UPDATE_KEY_ID_LIMIT, value: u32(s.updateKeyIdLimit) },
    { tag: TAG.PRESTORED_KEY_IDS, value: concat(...prestored.map(u32)) },
    { tag: TAG.CURRENCY, value: u16(s.currency) },
    { tag: TAG.UNSETTLED, value: Uint8Array.of(unsettledDebits, pendingCredits) },
    { tag: TAG.APPLET_VERSION, value: Uint8Array.of(APPLET_VERSION) },
    ...(s.cardholderPolicy
      ? [{ tag: TAG.NO_PIN_LIMITS, value: encodeNoPinLimits(limitsOf(s.cardholderPolicy)) }]
      : []),
    { tag: TAG.PIN_STATE, value: encodePinStatus(pinStatusOf(ctx, s)) },
    { tag: TAG.CERTIFICATE, value: fromHex(s.certificate) },
  ]);
}

/** Balance ‖ maximum ‖ balance less open debits ‖ balance plus pending credits ‖ currency. */
export function getBalance(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  CommandData.expectLength(cmd.data, 0);
  const s = ctx.store.read();
  // Seed 000: the balance is shown only to the owner (PIN) or the purse issuer (issuer mode).
  if (!canReadBalance(accessLevel(ctx), s)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'the balance needs owner or issuer access');
  }
  return concat(
    u32(s.balance),
    u32(s.maxBalance),
    u32(s.balance - openDebitTotal(s)),
    u32(s.balance + pendingCreditTotal(s)),
    u16(s.currency),
  );
}

export function getTransactionStatus(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [STATUS_QUERY.ONE, STATUS_QUERY.LIST_UNSETTLED]);
  const s = ctx.store.read();
  if (cmd.p1 === STATUS_QUERY.LIST_UNSETTLED) {
    CommandData.expectLength(cmd.data, 0);
    const unsettled = [
      ...s.debitLog.filter((r) => r.status === 'open' || r.status === 'debited'),
      ...s.creditLog.filter((r) => r.status === 'pending'),
    ];
    return concat(...unsettled.map(encodeRecord));
  }
  const txRandom = CommandData.expectLength(cmd.data, RANDOM_LENGTH).bytes(RANDOM_LENGTH);
  const key = Buffer.from(txRandom).toString('hex').toUpperCase();
  // A card can be payer and payee of different transactions; the debit log is searched first.
  const record = s.debitLog.find((r) => r.txRandom === key) ?? s.creditLog.find((r) => r.txRandom === key);
  if (!record) throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'no record of this transaction');
  return encodeRecord(record);
}

const DEBIT_STATUS = {
  open: RECORD_STATUS.DEBIT_OPEN,
  debited: RECORD_STATUS.DEBIT_DEBITED,
  acknowledged: RECORD_STATUS.DEBIT_ACKNOWLEDGED,
  aborted: RECORD_STATUS.DEBIT_ABORTED,
  refunded: RECORD_STATUS.DEBIT_REFUNDED,
} as const;
const CREDIT_STATUS = {
  pending: RECORD_STATUS.CREDIT_PENDING,
  credited: RECORD_STATUS.CREDIT_CREDITED,
  cancelled: RECORD_STATUS.CREDIT_CANCELLED,
  released: RECORD_STATUS.CREDIT_RELEASED,
} as const;

/** role ‖ status ‖ counterpart ‖ currency ‖ amount ‖ date ‖ key ID ‖ tx random ‖ rx random ‖ proof */
function encodeRecord(r: DebitRecord | CreditRecord): Uint8Array {
  const zero = '00'.repeat(RANDOM_LENGTH);
  const isDebit = 'payeeId' in r;
  return concat(
    Uint8Array.of(isDebit ? 0x01 : 0x02),
    Uint8Array.of(isDebit ? DEBIT_STATUS[r.status] : CREDIT_STATUS[(r as CreditRecord).status]),
    fromHex(isDebit ? r.payeeId : (r as CreditRecord).payerId),
    u16(r.currency),
    u32(r.amount),
    u32(r.date),
    u32(r.transferKeyId),
    fromHex(r.txRandom),
    fromHex(r.rxRandom ?? zero),
    fromHex(r.proof ?? zero),
  );
}
