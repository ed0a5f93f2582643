// A receipt as ESC/POS bytes for a thermal receipt printer, through @point-of-sale/receipt-printer-encoder
// (maintained, no I/O of its own, picks for each piece of text a code page the printer has: the euro
// sign and accented names print as themselves). 80 mm paper holds 48 characters a line in the
// printer's standard font, 58 mm paper 32. Sending the bytes (USB, network, serial) is the caller's.
// All text is already made printable by the receipt builder: no control byte from a card label reaches
// the printer.
import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';
import type { Receipt, ReceiptRow } from './receipt.js';

export const PAPER_COLUMNS = { '80mm': 48, '58mm': 32 } as const;
export type Paper = keyof typeof PAPER_COLUMNS;

export function receiptEscPos(receipt: Receipt, paper: Paper = '80mm'): Uint8Array {
  const columns = PAPER_COLUMNS[paper];
  const e = new ReceiptPrinterEncoder({ language: 'esc-pos', columns, feedBeforeCut: 4 });
  const labelWidth = Math.min(18, Math.floor(columns * 0.42));
  const valueWidth = columns - labelWidth - 1;
  // A row whose label or value is too long for its column gets a line of its own for each: wrapped
  // side by side, the two would interleave.
  const rows = (list: ReceiptRow[]) => {
    for (const row of list) {
      if (row.total) e.bold(true).height(2);
      if (row.label.length <= labelWidth && row.value.length <= valueWidth) {
        e.table(
          [
            { width: labelWidth, align: 'left' },
            { width: valueWidth, marginLeft: 1, align: 'right' },
          ],
          [[row.label, row.value]],
        );
      } else if (row.value.length <= columns) {
        e.line(row.label).align('right').line(row.value).align('left');
      } else {
        // A flow ID (36 characters) on 58 mm paper: the small font holds it on one line.
        e.line(row.label).align('right').size('small').line(row.value).size('normal').align('left');
      }
      if (row.total) e.height(1).bold(false);
    }
  };

  e.initialize().codepage('auto');
  e.align('center').bold(true).size(2, 2).line(receipt.shopName).size(1, 1).line(receipt.title).bold(false);
  e.align('left').rule();
  rows(receipt.header);
  e.rule();
  rows(receipt.body);
  e.rule();
  e.align('center').bold(true).line(receipt.result.text).bold(false);
  // A flow ID is 36 characters: the small font keeps it on one line even on 58 mm paper.
  e.size('small').line('Flow').line(receipt.flowId).size('normal');
  e.align('left').cut();
  return e.encode();
}
