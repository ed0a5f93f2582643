// The settlement applet: an instruction table over the handlers of seed 002.
import type { CommandApdu } from '../../../protocol/apdu.js';
import { randomBytes } from '../../../protocol/crypto-suite.js';
import { CLA_PROPRIETARY, INS, SETTLEMENT_AID } from '../../../protocol/settlement/commands.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import type { Applet, CommandHandler } from '../../os/applet.js';
import type { PersistentStore } from '../../os/persistent-store.js';
import type { SettlementContext } from './applet-context.js';
import { getBalance, getCardInfo, getTransactionStatus } from './card-info.js';
import { applyKeyUpdate, beginKeyUpdate, exportTransferKey } from './key-update.js';
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
    this.instructions = new Map<number, CommandHandler>([
      [INS.GET_CARD_INFO, bind(getCardInfo)],
      [INS.GET_BALANCE, bind(getBalance)],
      [INS.GET_TRANSACTION_STATUS, bind(getTransactionStatus)],
      [INS.BEGIN_KEY_UPDATE, bind(beginKeyUpdate)],
      [INS.EXPORT_TRANSFER_KEY, bind(exportTransferKey)],
      [INS.APPLY_KEY_UPDATE, bind(applyKeyUpdate)],
      [INS.INITIATE_DEBIT, bind(initiateDebit)],
      [INS.INITIATE_CREDIT, bind(initiateCredit)],
      [INS.DEBIT, bind(debit)],
      [INS.CREDIT, bind(credit)],
      [INS.ACKNOWLEDGE_DEBIT, bind(acknowledgeDebit)],
      [INS.ABORT_DEBIT, bind(abortDebit)],
      [INS.CANCEL_CREDIT, bind(cancelCredit)],
    ]);
  }

  select(): void {
    this.clearTransient();
  }

  clearTransient(): void {
    this.ctx.transient = {};
  }

  process(cmd: CommandApdu): Uint8Array {
    if (cmd.cla !== CLA_PROPRIETARY) throw new CardStatusError(SW.CLA_NOT_SUPPORTED);
    const handler = this.instructions.get(cmd.ins);
    if (!handler) throw new CardStatusError(SW.INS_NOT_SUPPORTED);
    return handler(cmd);
  }
}
