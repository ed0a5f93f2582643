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
import {
  abortDebit,
  acknowledgeDebit,
  cancelCredit,
  credit,
  debit,
  initiateCredit,
  initiateDebit,
} from './value-transfer.js';

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
    ]);
  }

  select(): void {
    this.clearTransient();
  }

  clearTransient(): void {
    this.ctx.transient = {};
  }

  process(cmd: CommandApdu): Uint8Array {
    if (cmd.cla !== CLA_PROPRIETARY && cmd.cla !== CLA_ISO) throw new CardStatusError(SW.CLA_NOT_SUPPORTED);
    const handler = this.instructions.get((cmd.cla << 8) | cmd.ins);
    if (!handler) throw new CardStatusError(SW.INS_NOT_SUPPORTED);
    return handler(cmd);
  }
}
