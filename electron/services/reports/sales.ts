// A sale as a refund sees it: what was sold to whom, and how much of it has been paid back. The sale
// is one flow by ID, its refunds the flows that name it (the flow table's refund_of index,
// db/flows.ts), each confirmed from its own 'started' entry: never a scan of the log. A refund
// completed, or still open (its value may yet arrive), counts as paid back; one that ended without
// moving value does not.
import type { Flows } from '../../../db/flows.js';
import type { Journal } from '../../../db/journal.js';
import { TerminalError } from '../../../protocol/errors.js';
import { foldTransfer, TRANSFER_STEP } from '../settlement/transfer-record.js';

export interface SaleRecord {
  flowId: string;
  /** When the sale completed (ISO, UTC). */
  at: string;
  amount: number;
  customerId: string;
  customerLabel: string;
  shopId: string;
  shopLabel: string;
}

export interface Refundable {
  sale: SaleRecord;
  /** Completed or still open refunds of the sale. */
  refunded: number;
  left: number;
}

export type SalesJournal = Pick<Journal, 'entriesForFlow'>;
export type SalesFlows = Pick<Flows, 'flow' | 'refundsOf'>;

/** The sale `saleFlowId` and what is left to refund of it; E_INPUT_INVALID when it is no completed sale. */
export function refundableSale(journal: SalesJournal, flows: SalesFlows, saleFlowId: string): Refundable {
  const state = flows.flow(saleFlowId);
  const notASale = (why: string) =>
    new TerminalError('E_INPUT_INVALID', `flow ${saleFlowId} ${why}: only a completed sale can be refunded`, {
      flowId: saleFlowId,
    });
  if (!state) throw notASale('is not in the transaction log');
  if (state.flowKind !== 'value-transfer') throw notASale('is not a payment');
  const entries = journal.entriesForFlow(saleFlowId);
  const started = entries[0]?.payload ?? {};
  if (typeof started.refundOf === 'string') throw notASale('is itself a refund');
  const r = foldTransfer(entries);
  if (r.lastStep !== TRANSFER_STEP.COMPLETED) throw notASale('did not complete');
  const sale: SaleRecord = {
    flowId: saleFlowId,
    at: r.updatedAt,
    amount: r.amount,
    customerId: r.payerId,
    customerLabel: String(started.payerLabel ?? ''),
    shopId: r.payeeId,
    shopLabel: String(started.payeeLabel ?? ''),
  };
  let refunded = 0;
  for (const f of flows.refundsOf(saleFlowId)) {
    if (f.flowKind !== 'value-transfer' || f.firstSeq <= state.firstSeq) continue;
    const refund = journal.entriesForFlow(f.flowId);
    if (refund[0]?.payload.refundOf !== saleFlowId) continue;
    const fold = foldTransfer(refund);
    if (fold.lastStep === TRANSFER_STEP.COMPLETED || !f.terminal) refunded += fold.amount;
  }
  return { sale, refunded, left: Math.max(0, sale.amount - refunded) };
}

/**
 * Admits a refund of `amount` between the two cards now in their roles (the shop's card pays, the
 * customer's receives): the cards must be the sale's, and the amount at most what is left. Throws the
 * refusal; returns the 'started' fields of the refund.
 */
export function admitRefund(
  journal: SalesJournal,
  flows: SalesFlows,
  request: { saleFlowId: string; amount: number },
  parties: { payerId: string; payeeId: string },
): Record<string, unknown> {
  const { sale, left } = refundableSale(journal, flows, request.saleFlowId);
  if (parties.payerId !== sale.shopId || parties.payeeId !== sale.customerId) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      'these are not the cards of that sale: the customer’s card goes in the payer slot, the shop’s in the payee slot',
      { flowId: sale.flowId },
    );
  }
  if (request.amount > left) {
    throw new TerminalError(
      'E_REFUND_LIMIT',
      left === 0 ? 'this sale has been refunded in full' : 'the refund is more than what is left of the sale',
      { flowId: sale.flowId, sale: sale.amount, left, amount: request.amount },
    );
  }
  return { refundOf: sale.flowId };
}
