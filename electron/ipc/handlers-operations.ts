// The contract's card operations beyond the payment: issue a ticket or coupon on the shop's card,
// sell one to the customer in one exchange, send an item, alter an item's body in an issuer session,
// refund a sale, unblock a holder's PIN. The shop's card is the one in the payee slot, the customer's
// the one in the payer slot. Each runs on the engines' one lock and journal; what was approved (who
// ran it, which supervisor confirmed a refund) comes from channel-access.ts in the call's context.
import { TerminalError } from '../../protocol/errors.js';
import { newItem } from '../services/issuing/issuing-terminal.js';
import { admitRefund, refundableSale } from '../services/reports/sales.js';
import type { Receipt } from './documents.js';
import { errorInfo } from './error-info.js';
import type { HandlerServices, Handlers } from './handlers.js';
import { operationWire, type ShopSupport } from './shop-support.js';

type OperationChannel =
  | 'items:issue'
  | 'items:sell'
  | 'items:send'
  | 'items:alter'
  | 'refund:check'
  | 'refund:run'
  | 'pin:unblock';

export function operationHandlers(s: HandlerServices, shop: ShopSupport): Pick<Handlers, OperationChannel> {
  return {
    'items:issue': async ({ type, label, bodyText }, ctx) => {
      if (!s.issuing) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          'this terminal has no issuing service: it cannot reach the issuer’s authority',
        );
      }
      const item = newItem({ type, issuerId: await s.issuing.issuerId(), label, body: bodyText ?? '' });
      const out = await s.issuing.issue('payee', item);
      switch (out.status) {
        case 'issued':
          return {
            status: 'completed',
            flowId: out.flowId,
            warnings: [],
            receipt: receiptOrNone(shop, out.flowId, ctx.screen),
          };
        case 'rejected':
        case 'refused':
          return { status: 'refused', flowId: out.flowId, error: errorInfo(out.error) };
        case 'interrupted':
          // The card may or may not hold the item: the log keeps the flow open until it is read again.
          return {
            status: 'interrupted',
            flowId: out.flowId,
            error: errorInfo(out.error),
            recovery: 'not-attempted',
            inDoubt: true,
          };
      }
    },

    'items:sell': async ({ itemId, price, customerPin }, ctx) => {
      await shop.customerConsent(customerPin, ctx.screen);
      await s.contents.authenticate({});
      const out = await s.contents.exchange({
        initiator: 'payer',
        give: { amount: price },
        take: { itemId },
      });
      const receipt =
        out.status === 'completed'
          ? await shop.afterCustomerFlow(out.flowId, out.balances.payer, ctx)
          : undefined;
      return operationWire(out, receipt);
    },

    'items:send': async ({ itemId, from, customerPin }, ctx) => {
      const fromCustomer = from === 'payer';
      if (fromCustomer) await shop.customerConsent(customerPin, ctx.screen);
      await s.contents.authenticate({});
      const out = await s.contents.send({ from, itemId });
      let receipt: Receipt | undefined;
      if (out.status === 'completed') {
        receipt = fromCustomer
          ? await shop.afterCustomerFlow(out.flowId, out.balances.payer, ctx)
          : receiptOrNone(shop, out.flowId, ctx.screen);
      }
      return operationWire(out, receipt);
    },

    'items:alter': async ({ slot, itemId, bodyText }) => {
      // The other card must be this card's issuer card: it gets issuer access to its own items here.
      await s.contents.authenticate(slot === 'payer' ? { payerMode: 'issuer' } : { payeeMode: 'issuer' });
      const out = await s.contents.alterContent(slot, itemId, new TextEncoder().encode(bodyText));
      if (out.status === 'completed') return { status: 'completed', flowId: out.flowId, warnings: [] };
      return { status: 'refused', flowId: out.flowId, error: errorInfo(out.error) };
    },

    'refund:check': async ({ saleFlowId }) => {
      const { sale, refunded, left } = refundableSale(s.journal, s.flows, saleFlowId);
      return { sale, refunded, left };
    },

    'refund:run': async ({ saleFlowId, amount, shopPin }, ctx) => {
      // Refused before the shop's PIN is asked of its card: no try spent on a refund that cannot be.
      const { left } = refundableSale(s.journal, s.flows, saleFlowId);
      if (amount > left) {
        throw new TerminalError(
          'E_REFUND_LIMIT',
          left === 0
            ? 'this sale has been refunded in full'
            : 'the refund is more than what is left of the sale',
          { flowId: saleFlowId, left, amount },
        );
      }
      const confirmedBy = ctx.approval?.confirmedBy?.id;
      let shopLogin = false;
      try {
        await s.engine.login('payee', shopPin);
        shopLogin = true;
        // The engine checks again under its lock, with both cards read: they must be the sale's,
        // and a refund that raced this one has already been counted.
        const out = await s.engine.transfer({
          amount,
          from: 'payee',
          admit: (parties) => ({
            ...admitRefund(s.journal, s.flows, { saleFlowId, amount }, parties),
            ...(confirmedBy ? { confirmedBy } : {}),
          }),
        });
        const receipt =
          out.status === 'completed'
            ? await shop.afterCustomerFlow(out.flowId, out.balances.payer, ctx)
            : undefined;
        return operationWire(out, receipt);
      } finally {
        // The shop's PIN was given for this refund alone.
        if (shopLogin) await s.ownerLogins.end(['payee']);
      }
    },

    'pin:unblock': async ({ slot, unblockCode, newPin }) => {
      await s.engine.unblockPin(slot, unblockCode, newPin);
      s.ownerLogins.ended(slot);
      return { slot };
    },
  };
}

function receiptOrNone(shop: ShopSupport, flowId: string, screen: string): Receipt | undefined {
  try {
    return shop.receipts.receipt(flowId, screen);
  } catch {
    return undefined;
  }
}
