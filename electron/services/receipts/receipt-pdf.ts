// A receipt as a PDF the size of a till receipt: 80 mm wide, as long as its lines. The same fields in
// the same order as the print view and the thermal printer.

import { MM, measure, type Pdf, pdfBytes, winAnsi } from './pdf-output.js';
import type { Receipt, ReceiptRow } from './receipt.js';

const WIDTH = 80 * MM;
const MARGIN = 4 * MM;
const INNER = WIDTH - 2 * MARGIN;
const LABEL = INNER * 0.4;
const GAP = 4;

export function receiptPdf(receipt: Receipt): Promise<Uint8Array> {
  // First measure (nothing drawn), then draw on a page of exactly that height.
  const height = measure({ title: '', size: [WIDTH, 10_000], margin: MARGIN }, (doc) =>
    layout(doc, receipt, false),
  );
  return pdfBytes(
    { title: `${receipt.title} ${receipt.flowId}`, size: [WIDTH, height + 2 * MARGIN], margin: MARGIN },
    (doc) => {
      layout(doc, receipt, true);
    },
  );
}

/** Lays the receipt out from the top; returns where it ends. */
function layout(doc: Pdf, r: Receipt, draw: boolean): number {
  let y = MARGIN;
  const block = (
    text: string,
    font: string,
    size: number,
    align: 'left' | 'center' | 'right',
    x = MARGIN,
    width = INNER,
  ) => {
    doc.font(font).fontSize(size);
    const h = doc.heightOfString(winAnsi(text), { width, align });
    if (draw) doc.text(winAnsi(text), x, y, { width, align });
    return h;
  };
  const rule = () => {
    y += 3;
    if (draw)
      doc
        .moveTo(MARGIN, y)
        .lineTo(WIDTH - MARGIN, y)
        .lineWidth(0.5)
        .dash(2, { space: 1.5 })
        .stroke()
        .undash();
    y += 4;
  };
  // Label and value side by side when each fits its column on one line; else each on its own line.
  const rows = (list: ReceiptRow[]) => {
    for (const row of list) {
      const font = row.total ? 'Helvetica-Bold' : 'Helvetica';
      const [labelSize, valueSize] = row.total ? [9, 12] : [8.5, 8.5];
      const fits = (text: string, size: number, width: number) =>
        doc.font(font).fontSize(size).widthOfString(winAnsi(text)) <= width;
      if (fits(row.label, labelSize, LABEL - GAP) && fits(row.value, valueSize, INNER - LABEL)) {
        const left = block(row.label, font, labelSize, 'left', MARGIN, LABEL - GAP);
        const right = block(row.value, font, valueSize, 'right', MARGIN + LABEL, INNER - LABEL);
        y += Math.max(left, right) + 1.5;
      } else {
        y += block(row.label, font, labelSize, 'left');
        y += block(row.value, font, valueSize, 'right') + 1.5;
      }
    }
  };

  y += block(r.shopName, 'Helvetica-Bold', 14, 'center') + 2;
  y += block(r.title, 'Helvetica-Bold', 11, 'center');
  rule();
  rows(r.header);
  rule();
  rows(r.body);
  rule();
  y += block(r.result.text, 'Helvetica-Bold', 9.5, 'center') + 3;
  y += block('Flow', 'Helvetica', 7, 'center');
  y += block(r.flowId, 'Helvetica', 7, 'center');
  return y;
}
