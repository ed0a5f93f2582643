// Release and refund (docs/protocol.md §4.5), the payee's mirror of ABORT DEBIT / CANCEL CREDIT: a
// payee gives up a pending credit and proves it will never credit it; the payer takes that proof to
// get back what it debited. For each transaction at most one of {acknowledgement, release proof} exists.
import type { CommandApdu } from '../../../protocol/apdu.js';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { MAC_LENGTH, macEquals, RANDOM_LENGTH } from '../../../protocol/crypto-suite.js';
import { MAC_LABEL } from '../../../protocol/settlement/mac-input.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import type { SettlementContext } from './applet-context.js';
import { CommandData, requireParameters } from './command-data.js';
import { retireTransferKeys } from './state.js';
import { abortOpenDebit, creditTerms, debitTerms, mac } from './value-records.js';

/** RELEASE CREDIT: a pending credit becomes released (never credited); answers its release proof, the same one when repeated. */
export function releaseCredit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const txRandom = toHex(CommandData.expectLength(cmd.data, RANDOM_LENGTH).bytes(RANDOM_LENGTH));
  const r0 = ctx.store.read().creditLog.find((r) => r.txRandom === txRandom);
  if (!r0) throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'no record of this transaction');
  if (r0.status === 'released') return fromHex(r0.proof!);
  if (r0.status !== 'pending')
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, `the credit is already ${r0.status}`);
  return ctx.store.transaction((s) => {
    const r = s.creditLog.find((x) => x.txRandom === txRandom)!;
    const proof = mac(s, MAC_LABEL.RELEASE_PROOF, creditTerms(s, r));
    r.status = 'released';
    r.proof = toHex(proof);
    retireTransferKeys(s);
    return proof;
  });
}

/**
 * REFUND DEBIT: the payee's release proof for this debit's own reception random. A debited amount
 * comes back (refunded) once; an open debit is aborted; a settled one is left as it is.
 */
export function refundDebit(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectLength(cmd.data, 2 * RANDOM_LENGTH + MAC_LENGTH);
  const txRandom = toHex(data.bytes(RANDOM_LENGTH));
  const rxRandom = data.bytes(RANDOM_LENGTH);
  const proof = data.bytes(MAC_LENGTH);
  const s0 = ctx.store.read();
  const r0 = s0.debitLog.find((r) => r.txRandom === txRandom);
  if (!r0) throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'no record of this transaction');
  if (!macEquals(mac(s0, MAC_LABEL.RELEASE_PROOF, debitTerms(s0, r0, rxRandom)), proof)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'release proof invalid');
  }
  switch (r0.status) {
    case 'aborted':
    case 'refunded':
      return new Uint8Array(0); // already applied, or never needed: nothing changes
    case 'acknowledged':
      throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'the payee acknowledged this credit');
    case 'debited':
      // A release of another credit record under this random (a replayed INITIATE CREDIT's) returns nothing.
      if (r0.rxRandom !== toHex(rxRandom))
        throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'the release is of another credit');
      // Cannot happen under the headroom rule (§4.4); a card migrated from version 1 may start above it.
      if (s0.balance + r0.amount > s0.maxBalance) throw new CardStatusError(SW.MAXIMUM_BALANCE_EXCEEDED);
      break;
    case 'open':
      break;
  }
  ctx.store.transaction((s) => {
    const r = s.debitLog.find((x) => x.txRandom === txRandom)!;
    if (r.status === 'open') abortOpenDebit(s, r);
    else {
      s.balance += r.amount;
      r.status = 'refunded';
      r.proof = toHex(proof);
    }
    retireTransferKeys(s);
  });
  return new Uint8Array(0);
}
