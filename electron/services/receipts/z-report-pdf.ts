// The Z report as an A4 PDF for the accountant's file: the day and who made it, the lines per kind with
// the total, the same per operator, and the transfers still in doubt. Tables break across pages with
// their heading repeated.
import { MM, pdfBytes, winAnsi } from './pdf-output.js';
import type { ZLine, ZReport } from './z-report.js';

const PAGE: [number, number] = [210 * MM, 297 * MM];
const MARGIN = 18 * MM;
const INNER = PAGE[0] - 2 * MARGIN;

interface Column {
  title: string;
  width: number;
  align: 'left' | 'right';
}

const LINE_COLUMNS: Column[] = [
  { title: 'Kind', width: 0.2, align: 'left' },
  { title: 'Count', width: 0.08, align: 'right' },
  { title: 'Not completed', width: 0.15, align: 'right' },
  { title: 'Items', width: 0.08, align: 'right' },
  { title: 'In', width: 0.163, align: 'right' },
  { title: 'Out', width: 0.163, align: 'right' },
  { title: 'Net', width: 0.163, align: 'right' },
];

const DOUBT_COLUMNS: Column[] = [
  { title: 'Flow', width: 0.37, align: 'left' },
  { title: 'Kind', width: 0.12, align: 'left' },
  { title: 'Amount', width: 0.14, align: 'right' },
  { title: 'Since', width: 0.25, align: 'left' },
  { title: 'Operator', width: 0.12, align: 'left' },
];

const lineCells = (l: ZLine) => [
  l.label,
  String(l.count),
  String(l.notCompleted),
  String(l.items),
  l.valueIn.text,
  l.valueOut.text,
  l.net.text,
];

export function zReportPdf(z: ZReport): Promise<Uint8Array> {
  const number = String(z.reportNumber).padStart(4, '0');
  return pdfBytes(
    { title: `Z report ${number} ${z.businessDay} ${z.terminalId}`, size: PAGE, margin: MARGIN },
    (doc) => {
      let y = MARGIN;
      const text = (t: string, font: string, size: number, gap = 2) => {
        doc.font(font).fontSize(size).text(winAnsi(t), MARGIN, y, { width: INNER });
        y += doc.heightOfString(winAnsi(t), { width: INNER }) + gap;
      };
      /** Starts a new page when `h` does not fit; says whether it did. */
      const room = (h: number) => {
        if (y + h <= PAGE[1] - MARGIN) return false;
        doc.addPage();
        y = MARGIN;
        return true;
      };
      const table = (columns: Column[], rows: string[][], boldRows: Set<number> = new Set()) => {
        const row = (cells: string[], font: string, heading: boolean) => {
          doc.font(font).fontSize(9);
          const widths = columns.map((c) => c.width * INNER - 4);
          const h =
            Math.max(...cells.map((c, i) => doc.heightOfString(winAnsi(c), { width: widths[i] }))) + 4;
          // A row that moves to a new page gets the table's heading above it again.
          if (room(h) && !heading) head();
          doc.font(font).fontSize(9);
          let x = MARGIN;
          cells.forEach((c, i) => {
            // Right-aligned figures keep a gap before the next column's text.
            const right = columns[i]!.align === 'right';
            doc.text(winAnsi(c), x, y + 2, { width: widths[i]! - (right ? 6 : 0), align: columns[i]!.align });
            x += columns[i]!.width * INNER;
          });
          y += h;
          if (heading)
            doc
              .moveTo(MARGIN, y)
              .lineTo(MARGIN + INNER, y)
              .lineWidth(0.5)
              .stroke();
        };
        const head = () =>
          row(
            columns.map((c) => c.title),
            'Helvetica-Bold',
            true,
          );
        room(40);
        head();
        rows.forEach((cells, i) => {
          row(cells, boldRows.has(i) ? 'Helvetica-Bold' : 'Helvetica', false);
        });
        y += 8;
      };

      text(`Z report No. ${number}`, 'Helvetica-Bold', 18, 4);
      text(z.shopName, 'Helvetica-Bold', 12);
      text(`Terminal ${z.terminalId}`, 'Helvetica', 10);
      text(`Business day ${z.businessDay} (${z.timeZone})`, 'Helvetica', 10);
      text(`From ${z.from} to ${z.to}`, 'Helvetica', 10);
      text(`Generated ${z.generatedAt}`, 'Helvetica', 10, 10);

      text('By kind', 'Helvetica-Bold', 12, 4);
      table(LINE_COLUMNS, [...z.kinds.map(lineCells), lineCells(z.total)], new Set([z.kinds.length]));

      text('By operator', 'Helvetica-Bold', 12, 4);
      if (z.operators.length === 0) text('No flows on this day.', 'Helvetica', 10, 8);
      for (const o of z.operators) {
        room(60);
        text(o.id ? `${o.name} (${o.id})` : o.name, 'Helvetica-Bold', 10, 2);
        table(LINE_COLUMNS, [...o.lines.map(lineCells), lineCells(o.total)], new Set([o.lines.length]));
      }

      text('Open in doubt', 'Helvetica-Bold', 12, 4);
      if (z.openInDoubt.length === 0) text('None.', 'Helvetica', 10);
      else
        table(
          DOUBT_COLUMNS,
          z.openInDoubt.map((d) => [d.flowId, d.kind, d.amount?.text ?? '', d.since, d.operator]),
        );
    },
  );
}
