// The one shop dialog open at a time: issue, an item's actions, refund, PIN unblock, or a receipt.
import type { MoneyFormatWire } from '../../../electron/ipc/contract.js';
import type { CardQueue } from '../hooks/useCardQueue.js';
import type { SlotsState } from '../hooks/useSlots.js';
import type { TerminalApi } from '../terminal-api.js';
import { IssueDialog } from './IssueDialog.js';
import { ItemDialog } from './ItemDialog.js';
import { ReceiptDialog } from './ReceiptDialog.js';
import { RefundDialog } from './RefundDialog.js';
import { UnblockDialog } from './UnblockDialog.js';
import type { ShopOperations } from './useShopOperations.js';
import './shop.css';

export function ShopDialogs(props: {
  api: TerminalApi;
  ops: ShopOperations;
  queued: CardQueue;
  money: MoneyFormatWire;
  slots: SlotsState;
  after: () => Promise<void>;
}) {
  const { api, ops, money } = props;
  const d = ops.dialog;
  if (!d) return null;
  switch (d.kind) {
    case 'issue':
      return <IssueDialog api={api} ops={ops} />;
    case 'item':
      return (
        <ItemDialog
          key={d.item.id}
          api={api}
          ops={ops}
          slot={d.slot}
          item={d.item}
          money={money}
          customerLoggedIn={props.slots.payer.view?.ownerLoggedIn === true}
        />
      );
    case 'refund':
      return <RefundDialog api={api} ops={ops} money={money} />;
    case 'unblock':
      return <UnblockDialog api={api} ops={ops} queued={props.queued} slot={d.slot} after={props.after} />;
    case 'receipt':
      return <ReceiptDialog key={d.receipt.flowId} api={api} receipt={d.receipt} onClose={ops.close} />;
  }
}
