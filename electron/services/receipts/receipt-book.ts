// The receipts of the terminal's flows: built from the journal (electron/services/reports/
// shop-flow-of.ts) whenever asked, and exported as PDF or ESC/POS bytes. The customer's balance is no
// part of the journal: it is remembered, for a few recent flows, only as the customer's own session
// showed it to the screen that ran the flow, and it appears on that screen's receipt alone. Any other
// screen, or a reprint once it is forgotten, gets the receipt without it.
import type { Journal } from '../../../db/journal.js';
import { TerminalError } from '../../../protocol/errors.js';
import { shopFlowOf } from '../reports/shop-flow-of.js';
import type { DocumentSettings } from './document-settings.js';
import { buildReceipt, type Receipt } from './receipt.js';
import { receiptEscPos } from './receipt-escpos.js';
import { receiptPdf } from './receipt-pdf.js';

export type ReceiptFormat = 'pdf' | 'escpos';

/** A document made for export: what the hosts deliver (electron/ipc/document-delivery.ts). */
export interface ExportedDocument {
  /** A plain file name: letters, digits, '.', '_' and '-'. */
  fileName: string;
  mimeType: string;
  bytes: Uint8Array;
}

export interface ReceiptBookOptions {
  journal: Pick<Journal, 'entriesForFlow'>;
  settings: DocumentSettings;
  /** The operator's name for an ID the journal holds (the ID itself for one no longer configured). */
  operatorName(id: string): string;
  /** How many recent flows' customer balances are kept (default 50). */
  keep?: number;
}

interface Remembered {
  /** The screen (IPC caller) that ran the flow. */
  screen: string;
  balance: number;
}

export class ReceiptBook {
  private readonly balances = new Map<string, Remembered>();

  constructor(private readonly o: ReceiptBookOptions) {}

  /** After a flow this terminal ran: the customer's balance as their own session (owner PIN) showed it. */
  remember(flowId: string, screen: string, customerBalance: number | undefined): void {
    if (customerBalance === undefined) return;
    this.balances.set(flowId, { screen, balance: customerBalance });
    const keep = this.o.keep ?? 50;
    for (const old of this.balances.keys()) {
      if (this.balances.size <= keep) break;
      this.balances.delete(old);
    }
  }

  /** The receipt of a flow; E_INPUT_INVALID for an unknown flow or one that is no shop business. */
  receipt(flowId: string, screen?: string): Receipt {
    const facts = shopFlowOf(this.o.journal.entriesForFlow(flowId), { operatorName: this.o.operatorName });
    if (!facts) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `flow ${flowId} has no receipt (no such sale, refund, exchange, item sent or issue)`,
        {
          flowId,
        },
      );
    }
    const remembered = this.balances.get(flowId);
    const own = remembered !== undefined && screen !== undefined && remembered.screen === screen;
    return buildReceipt(
      {
        ...facts.flow,
        shopCard: facts.shopCard,
        customerCard: facts.customerCard,
        customerBalance: own ? { amount: remembered.balance, sessionAllowsBalance: true } : undefined,
      },
      this.o.settings,
    );
  }

  /** The receipt as a file: an 80 mm PDF, or ESC/POS bytes for an 80 mm thermal printer. */
  async export(flowId: string, format: ReceiptFormat, screen?: string): Promise<ExportedDocument> {
    const receipt = this.receipt(flowId, screen);
    const name = `receipt-${flowId.slice(0, 8)}`;
    if (format === 'pdf') {
      return { fileName: `${name}.pdf`, mimeType: 'application/pdf', bytes: await receiptPdf(receipt) };
    }
    return {
      fileName: `${name}.escpos`,
      mimeType: 'application/octet-stream',
      bytes: receiptEscPos(receipt),
    };
  }
}
