// The receipt's two byte renderings read back: the ESC/POS bytes decoded as a printer would print them
// (80 mm and 58 mm), the PDF through poppler's pdftotext. Every field of every kind is found, nothing
// the receipt must not say is there, and a card label cannot smuggle a printer command.
import { describe, expect, it } from 'vitest';
import { buildReceipt, type Receipt } from '../../../electron/services/receipts/receipt.js';
import {
  PAPER_COLUMNS,
  type Paper,
  receiptEscPos,
} from '../../../electron/services/receipts/receipt-escpos.js';
import { receiptPdf } from '../../../electron/services/receipts/receipt-pdf.js';
import { type DecodedReceipt, decodeEscPos } from './escpos-decoder.js';
import { readPdf } from './pdf-text.js';
import { ALICE, INPUTS, SALE, SETTINGS } from './receipt-fixtures.js';

const receipts = Object.entries(INPUTS).map(
  ([name, input]) => [name, buildReceipt(input, SETTINGS)] as const,
);
const words = (s: string) => s.split(/\s+/).filter(Boolean);
/** True when the words of `value` appear in order in `text` (a value may wrap onto the next lines). */
const inOrder = (text: string, value: string) => {
  let at = 0;
  for (const w of words(value)) {
    const i = text.indexOf(w, at);
    if (i < 0) return false;
    at = i + w.length;
  }
  return true;
};
const rows = (r: Receipt) => [...r.header, ...r.body];
/** A row as printed: label and value on one line, or the label alone and the value on the next line. */
const printedRow = (lines: string[], label: string, value: string) => {
  // Label and value are apart by the column gap ("Item sent", the title, is not the row "Item").
  const i = lines.findIndex((l) => l.trim() === label || l.trim().startsWith(`${label}  `));
  if (i < 0) return false;
  const line = lines[i]!.trim();
  return line.endsWith(value) || (line === label && lines[i + 1]?.trim() === value);
};

/** Every line fits the paper: the standard font's columns, or the small font's (4/3 as many). */
const fitsPaper = (printed: DecodedReceipt, paper: Paper) => {
  const columns = PAPER_COLUMNS[paper];
  for (const l of printed.lines) {
    const max = printed.smallLines.includes(l) ? Math.floor((columns * 4) / 3) : columns;
    expect(l.length, l).toBeLessThanOrEqual(max);
  }
};

describe('the receipt as ESC/POS bytes', () => {
  for (const [name, receipt] of receipts) {
    it(`prints every field of a ${name} on 80 mm paper, and cuts`, () => {
      const printed = decodeEscPos(receiptEscPos(receipt, '80mm'));
      const { lines } = printed;
      expect(lines.some((l) => l.trim() === receipt.shopName)).toBe(true);
      expect(lines.some((l) => l.trim() === receipt.title)).toBe(true);
      for (const row of rows(receipt)) {
        expect(printedRow(lines, row.label, row.value), `${row.label}: ${row.value}`).toBe(true);
      }
      fitsPaper(printed, '80mm');
      expect(lines.some((l) => l.trim() === receipt.result.text)).toBe(true);
      expect(lines.some((l) => l.trim() === receipt.flowId)).toBe(true);
      expect(printed.cut).toBe(true);
      for (const row of receipt.body.filter((r) => r.total)) {
        expect(
          printed.boldLines.some((l) => l.startsWith(row.label)),
          row.label,
        ).toBe(true);
      }
    });

    it(`prints every field of a ${name} within 32 columns on 58 mm paper`, () => {
      const printed = decodeEscPos(receiptEscPos(receipt, '58mm'));
      const { lines } = printed;
      const text = lines.join('\n');
      for (const row of rows(receipt)) {
        expect(inOrder(text, `${row.label} ${row.value}`), `${row.label} ${row.value}`).toBe(true);
      }
      expect(inOrder(text, `${receipt.result.text} Flow ${receipt.flowId}`)).toBe(true);
      fitsPaper(printed, '58mm');
    });
  }

  it('prints the euro sign and accented names as themselves, through the code pages the printer has', () => {
    const r = buildReceipt({ ...SALE, customerCard: { ...ALICE, label: 'Zoë Müller-Øst' } }, SETTINGS);
    const { lines, commands } = decodeEscPos(receiptEscPos(r));
    expect(lines.find((l) => l.startsWith('Paid'))).toMatch(/€12\.50$/);
    expect(lines.find((l) => l.startsWith('Customer card'))).toMatch(/Zoë Müller-Øst A1B2…0718$/);
    expect(commands).toContain('ESC t');
  });

  it("never prints the customer's balance without the customer's session", () => {
    for (const paper of Object.keys(PAPER_COLUMNS) as Paper[]) {
      const r = buildReceipt(
        { ...SALE, customerBalance: { amount: 187_50, sessionAllowsBalance: false } },
        SETTINGS,
      );
      const text = decodeEscPos(receiptEscPos(r, paper)).lines.join('\n');
      expect(text).not.toMatch(/187|balance/i);
    }
  });

  it('lets no card label drive the printer (cash drawer, cut, code page)', () => {
    const hostile = '\u001bp\u0000\u0019\u00fa\u001dV\u0000\u001bt\u0011Mallory';
    const r = buildReceipt({ ...SALE, customerCard: { ...ALICE, label: hostile } }, SETTINGS);
    const bytes = receiptEscPos(r);
    const hex = Buffer.from(bytes).toString('hex');
    expect(hex).not.toContain('1b70'); // ESC p: drawer kick pulse
    expect(hex.match(/1d56/g)).toHaveLength(1); // GS V: the receipt's own cut only
    expect(decodeEscPos(bytes).lines.find((l) => l.startsWith('Customer card'))).toMatch(
      /púVtMallory A1B2…0718$/,
    );
  });

  it('the decoder itself refuses bytes it does not know (it would notice a stray command)', () => {
    expect(() => decodeEscPos(Uint8Array.from([0x41, 0x1b, 0x70, 0x00, 0x19, 0xfa]))).toThrow(/ESC 0x70/);
    expect(() => decodeEscPos(Uint8Array.from([0x41, 0x07]))).toThrow(/control byte 0x7/);
    expect(decodeEscPos(Uint8Array.from([0x1b, 0x74, 19, 0xd5, 0x0a])).lines).toEqual(['€']);
  });
});

describe('the receipt as PDF', () => {
  it('is one page, 80 mm wide, with every field of every kind on its line', async () => {
    for (const [name, receipt] of receipts) {
      const pdf = readPdf(await receiptPdf(receipt));
      expect(pdf.pages, name).toBe(1);
      expect(pdf.width).toBeCloseTo((80 * 72) / 25.4, 1);
      const lines = pdf.text.split('\n').map((l) => l.trim());
      expect(lines).toContain(receipt.shopName);
      expect(lines).toContain(receipt.title);
      for (const row of rows(receipt)) {
        expect(printedRow(lines, row.label, row.value), `${name}: ${row.label}: ${row.value}`).toBe(true);
      }
      expect(lines).toContain(receipt.result.text);
      expect(lines).toContain(receipt.flowId);
    }
  });

  it("has no customer balance without the customer's session", async () => {
    const r = buildReceipt(
      { ...SALE, customerBalance: { amount: 187_50, sessionAllowsBalance: false } },
      SETTINGS,
    );
    expect(readPdf(await receiptPdf(r)).text).not.toMatch(/187|balance/i);
  });

  it('writes characters its fonts lack as "?", never as a wrong glyph', async () => {
    const r = buildReceipt({ ...SALE, customerCard: { ...ALICE, label: 'Łucja Ωmega' } }, SETTINGS);
    const line = readPdf(await receiptPdf(r))
      .text.split('\n')
      .find((l) => l.trim().startsWith('Customer card'));
    expect(line?.trim()).toMatch(/\?ucja \?mega A1B2…0718$/);
  });
});
