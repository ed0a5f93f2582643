// The settlement applet: an instruction table over the handlers of seed 002.
import type { CommandApdu } from '../../../protocol/apdu.js';
import { randomBytes } from '../../../protocol/crypto-suite.js';
import { CLA_ISO, CLA_PROPRIETARY, INS, SETTLEMENT_AID } from '../../../protocol/settlement/commands.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import type { Applet, CommandHandler } from '../../os/applet.js';
import type { PersistentStore } from '../../os/persistent-store.js';
import { resetRetryCounter, verifyPin } from './access.js';
import type { SettlementContext } from './applet-context.js';
import { getBalance, getCardInfo, getTransactionStatus } from './card-info.js';
import { contentRelease, contentReturn } from './content-release.js';
import {
  contentAbort,
  contentAccept,
  contentAcknowledge,
  contentCancel,
  contentCommit,
  contentReceive,
  contentSend,
  contentStatus,
} from './content-transfer.js';
import { createContent, listContents, readContent, updateContent } from './contents.js';
import { applyKeyUpdate, beginKeyUpdate, exportTransferKey } from './key-update.js';
import { authBegin, authConfirm, authPeer, sessionEnd } from './mutual-auth.js';
import type { SettlementState } from './state.js';
import { refundDebit, releaseCredit } from './value-release.js';
import {
  abortDebit,
  acknowledgeDebit,
  cancelCredit,
  credit,
  debit,
  initiateCredit,
  initiateDebit,
} from './value-transfer.js';

/** INS the card OS itself answers under the ISO class (SELECT, GET RESPONSE). */
const OS_INSTRUCTIONS = new Set<number>([INS.SELECT, INS.GET_RESPONSE]);

export class SettlementApplet implements Applet {
  readonly aid = SETTLEMENT_AID;
  private readonly ctx: SettlementContext;
  private readonly instructions: ReadonlyMap<number, CommandHandler>;

  constructor(store: PersistentStore<SettlementState>, random: (length: number) => Uint8Array = randomBytes) {
    this.ctx = { store, transient: {}, random };
    const bind =
      (handler: (ctx: SettlementContext, cmd: CommandApdu) => Uint8Array): CommandHandler =>
      (cmd) =>
        handler(this.ctx, cmd);
    // Keyed by CLA and INS: ISO VERIFY (00 20) and BEGIN KEY UPDATE (80 20) share an INS.
    const p = (ins: number) => (CLA_PROPRIETARY << 8) | ins;
    const iso = (ins: number) => (CLA_ISO << 8) | ins;
    this.instructions = new Map<number, CommandHandler>([
      [iso(INS.VERIFY), bind(verifyPin)],
      [iso(INS.RESET_RETRY_COUNTER), bind(resetRetryCounter)],
      [p(INS.AUTH_BEGIN), bind(authBegin)],
      [p(INS.AUTH_PEER), bind(authPeer)],
      [p(INS.AUTH_CONFIRM), bind(authConfirm)],
      [p(INS.SESSION_END), bind(sessionEnd)],
      [p(INS.LIST_CONTENTS), bind(listContents)],
      [p(INS.READ_CONTENT), bind(readContent)],
      [p(INS.UPDATE_CONTENT), bind(updateContent)],
      [p(INS.CREATE_CONTENT), bind(createContent)],
      [p(INS.CONTENT_SEND), bind(contentSend)],
      [p(INS.CONTENT_RECEIVE), bind(contentReceive)],
      [p(INS.CONTENT_COMMIT), bind(contentCommit)],
      [p(INS.CONTENT_ACCEPT), bind(contentAccept)],
      [p(INS.CONTENT_ABORT), bind(contentAbort)],
      [p(INS.CONTENT_CANCEL), bind(contentCancel)],
      [p(INS.CONTENT_ACKNOWLEDGE), bind(contentAcknowledge)],
      [p(INS.CONTENT_STATUS), bind(contentStatus)],
      [p(INS.GET_CARD_INFO), bind(getCardInfo)],
      [p(INS.GET_BALANCE), bind(getBalance)],
      [p(INS.GET_TRANSACTION_STATUS), bind(getTransactionStatus)],
      [p(INS.BEGIN_KEY_UPDATE), bind(beginKeyUpdate)],
      [p(INS.EXPORT_TRANSFER_KEY), bind(exportTransferKey)],
      [p(INS.APPLY_KEY_UPDATE), bind(applyKeyUpdate)],
      [p(INS.INITIATE_DEBIT), bind(initiateDebit)],
      [p(INS.INITIATE_CREDIT), bind(initiateCredit)],
      [p(INS.DEBIT), bind(debit)],
      [p(INS.CREDIT), bind(credit)],
      [p(INS.ACKNOWLEDGE_DEBIT), bind(acknowledgeDebit)],
      [p(INS.ABORT_DEBIT), bind(abortDebit)],
      [p(INS.CANCEL_CREDIT), bind(cancelCredit)],
      [p(INS.RELEASE_CREDIT), bind(releaseCredit)],
      [p(INS.REFUND_DEBIT), bind(refundDebit)],
      [p(INS.CONTENT_RELEASE), bind(contentRelease)],
      [p(INS.CONTENT_RETURN), bind(contentReturn)],
    ]);
  }

  select(): void {
    this.clearTransient();
  }

  clearTransient(): void {
    this.ctx.transient = {};
  }

  /** Class before instruction (docs/protocol.md §3): the other class's INS is 6E00, no command at all 6D00. */
  process(cmd: CommandApdu): Uint8Array {
    if (cmd.cla !== CLA_PROPRIETARY && cmd.cla !== CLA_ISO) throw new CardStatusError(SW.CLA_NOT_SUPPORTED);
    const handler = this.instructions.get((cmd.cla << 8) | cmd.ins);
    if (handler) return handler(cmd);
    const otherClass = cmd.cla === CLA_ISO ? CLA_PROPRIETARY : CLA_ISO;
    if (
      this.instructions.has((otherClass << 8) | cmd.ins) ||
      (otherClass === CLA_ISO && OS_INSTRUCTIONS.has(cmd.ins))
    )
      throw new CardStatusError(SW.CLA_NOT_SUPPORTED, 'this instruction belongs to the other class');
    throw new CardStatusError(SW.INS_NOT_SUPPORTED);
  }
}
