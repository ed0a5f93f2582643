// What the shop's channels share: the receipt book (built from the journal and the configuration's
// shop), the customer's PIN where a flow needs the customer's consent, what follows a completed
// customer flow (its receipt for the screen that ran it, the end of the customer's owner login), and
// a content flow's outcome as the contract carries it.
import { TerminalError } from '../../protocol/errors.js';
import type { ContentOutcome } from '../services/contents/content-views.js';
import { ReceiptBook } from '../services/receipts/receipt-book.js';
import type { TransferOutcome } from '../services/settlement/settlement-engine.js';
import type { OperationOutcomeWire } from './contract-shop.js';
import type { Receipt } from './documents.js';
import { errorInfo } from './error-info.js';
import type { CallContext, HandlerServices } from './handlers.js';

export interface ShopSupport {
  receipts: ReceiptBook;
  /**
   * The customer's consent to pay or give from their card: their PIN, verified now when given;
   * without one, an owner login this screen opened. E_ACCESS_DENIED (reason owner-pin-needed) else.
   */
  customerConsent(pin: string | undefined, screen: string): Promise<void>;
  /**
   * After a completed flow with a customer: the receipt (with the customer's balance when their own
   * login on this screen showed it), then the customer's owner login ends if the configuration says so.
   */
  afterCustomerFlow(
    flowId: string,
    customerBalance: number | undefined,
    ctx: CallContext,
  ): Promise<Receipt | undefined>;
}

/** A content flow's or a value transfer's outcome for the contract, with the receipt of a completed one. */
export function operationWire(o: ContentOutcome | TransferOutcome, receipt?: Receipt): OperationOutcomeWire {
  switch (o.status) {
    case 'completed':
      return { status: 'completed', flowId: o.flowId, warnings: o.warnings, receipt };
    case 'refused':
      return { status: 'refused', flowId: o.flowId, error: errorInfo(o.error) };
    case 'rolled-back':
      return { status: 'rolled-back', flowId: o.flowId, error: errorInfo(o.error) };
    case 'interrupted':
      return {
        status: 'interrupted',
        flowId: o.flowId,
        error: errorInfo(o.error),
        recovery: o.recovery,
        // A content flow is in doubt while recovery has not settled it.
        inDoubt: 'inDoubt' in o ? o.inDoubt : o.recovery !== 'completed' && o.recovery !== 'rolled-back',
      };
  }
}

export function createShopSupport(s: HandlerServices): ShopSupport {
  const names = new Map((s.config.operators ?? []).map((o) => [o.id, o.name]));
  const receipts = new ReceiptBook({
    journal: s.journal,
    settings: {
      shopName: s.config.shop.name,
      terminalId: s.config.shop.terminalId,
      timeZone: s.config.shop.timeZone,
      money: {
        currencyCode: s.config.currencyCode,
        minorUnits: s.config.minorUnits,
        locale: s.config.locale,
      },
    },
    operatorName: (id) => names.get(id) ?? id,
  });

  return {
    receipts,
    async customerConsent(pin, screen) {
      if (pin !== undefined) {
        await s.engine.login('payer', pin);
        s.ownerLogins.opened('payer', screen);
        return;
      }
      if (s.ownerLogins.owner('payer') !== screen) {
        throw new TerminalError(
          'E_ACCESS_DENIED',
          'the customer’s PIN is needed to pay or give from their card',
          {
            slot: 'payer',
            reason: 'owner-pin-needed',
          },
        );
      }
    },
    async afterCustomerFlow(flowId, customerBalance, ctx) {
      const own = s.ownerLogins.owner('payer') === ctx.screen;
      receipts.remember(flowId, ctx.screen, own ? customerBalance : undefined);
      let receipt: Receipt | undefined;
      try {
        receipt = receipts.receipt(flowId, ctx.screen);
      } catch {
        // The flow completed; a receipt that cannot be made now is asked for again from the log.
        receipt = undefined;
      }
      if (s.config.endOwnerLoginAfterSale) await s.ownerLogins.end(['payer']);
      return receipt;
    },
  };
}
