// The print views of the shop's documents in Chromium: every field of a receipt and a Z report on
// screen, nothing else, no serious accessibility violation, and printed (Chromium's own print to PDF,
// read back with poppler) on the page size the print CSS asks for: an 80 mm roll for a receipt, A4 for
// the Z report, with nothing of the page around the document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReceipt } from '../../electron/services/receipts/receipt.js';
import { buildZReport } from '../../electron/services/receipts/z-report.js';
import { readPdf } from '../terminal/receipts/pdf-text.js';
import { INPUTS, SALE, SETTINGS } from '../terminal/receipts/receipt-fixtures.js';
import { DAY } from '../terminal/receipts/z-report-fixtures.js';
import { expectAccessible } from './support/accessibility.js';
import { type PrintPreview, startPrintPreview } from './support/print-preview.js';

let preview: PrintPreview;
const MM = 72 / 25.4;
const words = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('print views', () => {
  beforeAll(async () => {
    preview = await startPrintPreview();
  }, 120_000);

  afterAll(async () => {
    await preview?.close();
  });

  it('shows every field of a receipt of each kind, in order, and passes the accessibility check', async () => {
    for (const [name, input] of Object.entries(INPUTS)) {
      const receipt = buildReceipt(input, SETTINGS);
      await preview.show({ receipt });
      const sheet = preview.page.getByTestId('receipt');
      expect(await sheet.getAttribute('aria-label')).toBe(`${receipt.title} receipt`);
      expect(await sheet.locator('h1').textContent()).toBe(receipt.shopName);
      expect(await sheet.locator('h2').textContent()).toBe(receipt.title);
      const rows = await sheet
        .locator('.till-row')
        .evaluateAll((els) =>
          els.map((e) => [e.querySelector('dt')?.textContent, e.querySelector('dd')?.textContent]),
        );
      expect(rows, name).toEqual([...receipt.header, ...receipt.body].map((r) => [r.label, r.value]));
      expect(words((await sheet.textContent()) ?? '')).toContain(
        `${receipt.result.text}Flow ${receipt.flowId}`,
      );
      await expectAccessible(preview.page, `the ${name} receipt`);
    }
  });

  it("shows no balance row when the customer's session did not allow it", async () => {
    await preview.show({
      receipt: buildReceipt(
        { ...SALE, customerBalance: { amount: 187_50, sessionAllowsBalance: false } },
        SETTINGS,
      ),
    });
    expect(await preview.page.getByTestId('receipt').textContent()).not.toMatch(/balance|187/i);
  });

  it('prints a receipt alone on an 80 mm roll', async () => {
    const receipt = buildReceipt(INPUTS['exchange item for e-money']!, SETTINGS);
    await preview.show({ receipt });
    await preview.page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<p>NOT ON THE RECEIPT</p>')`);
    const pdf = readPdf(await preview.print());
    expect(pdf.width).toBeCloseTo(80 * MM, 0);
    expect(pdf.pages).toBe(1);
    const text = words(pdf.text);
    for (const row of [...receipt.header, ...receipt.body])
      expect(text).toContain(words(`${row.label} ${row.value}`));
    expect(text).toContain(receipt.flowId);
    expect(text).not.toContain('NOT ON THE RECEIPT');
  });

  it('shows the Z report with its totals per kind and operator, accessible, and prints it on A4', async () => {
    const report = buildZReport(DAY, SETTINGS);
    await preview.show({ zReport: report });
    const sheet = preview.page.getByTestId('z-report');
    expect(await sheet.locator('h1').textContent()).toBe('Z report No. 0042');
    const kindRows = await sheet
      .locator('table.z-lines')
      .first()
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(kindRows).toEqual(
      [...report.kinds, report.total].map((l) => [
        l.label,
        String(l.count),
        String(l.notCompleted),
        String(l.items),
        l.valueIn.text,
        l.valueOut.text,
        l.net.text,
      ]),
    );
    expect(await sheet.locator('caption').allTextContents()).toEqual([
      'By kind',
      'Casey (casey)',
      'Sam (sam)',
      '(no operator)',
    ]);
    expect(await sheet.locator('table.z-doubt tbody tr').count()).toBe(2);
    await expectAccessible(preview.page, 'the Z report');

    const pdf = readPdf(await preview.print());
    expect(pdf.width).toBeCloseTo(210 * MM, 0);
    expect(pdf.height).toBeCloseTo(297 * MM, 0);
    expect(words(pdf.text)).toContain('Total 12 2 7 €134.78 €17.25 €117.53');
  });
});
