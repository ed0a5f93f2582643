// The Z report an accountant accepts: counts and totals per kind (exchanges with their e-money leg
// either way), per operator, not-completed flows, open in-doubt items; every total reconciling to the
// cent with its lines (also for random days), the CSV parsing back to the same numbers, the PDF
// readable, and input that would make the totals wrong refused.
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ShopFlow } from '../../../electron/ipc/shop-flow.js';
import { buildZReport, type ZLine, type ZReport } from '../../../electron/services/receipts/z-report.js';
import {
  Z_CSV_COLUMNS,
  zReportCsv,
  zReportFileName,
} from '../../../electron/services/receipts/z-report-csv.js';
import { zReportPdf } from '../../../electron/services/receipts/z-report-pdf.js';
import { isTerminalError } from '../../../protocol/errors.js';
import { readPdf } from './pdf-text.js';
import { SETTINGS } from './receipt-fixtures.js';
import { DAY, DAY_FLOWS } from './z-report-fixtures.js';

const numbers = (l: ZLine) => ({
  count: l.count,
  notCompleted: l.notCompleted,
  items: l.items,
  in: l.valueIn.minor,
  out: l.valueOut.minor,
  net: l.net.minor,
});
const sum = (lines: ZLine[]) =>
  lines.map(numbers).reduce(
    (a, b) => ({
      count: a.count + b.count,
      notCompleted: a.notCompleted + b.notCompleted,
      items: a.items + b.items,
      in: a.in + b.in,
      out: a.out + b.out,
      net: a.net + b.net,
    }),
    { count: 0, notCompleted: 0, items: 0, in: 0, out: 0, net: 0 },
  );

type CsvRow = Record<(typeof Z_CSV_COLUMNS)[number], string>;
const parseCsv = (csv: string): CsvRow[] =>
  parse(csv, { columns: true, record_delimiter: '\r\n', strict: true } as never);

/** Every way the report's totals must agree with its lines, and the CSV with the report. */
function expectReconciled(z: ZReport) {
  expect(numbers(z.total)).toEqual(sum(z.kinds));
  expect(numbers(z.total)).toEqual(sum(z.operators.map((o) => o.total)));
  for (const o of z.operators) expect(numbers(o.total)).toEqual(sum(o.lines));
  for (const l of [...z.kinds, z.total]) expect(l.net.minor).toBe(l.valueIn.minor - l.valueOut.minor);
  const rows = parseCsv(zReportCsv(z));
  const minor = (rs: CsvRow[], c: 'value_in_minor' | 'value_out_minor' | 'net_minor' | 'count') =>
    rs.reduce((n, r) => n + Number(r[c]), 0);
  const total = rows.filter((r) => r.record === 'total');
  expect(total).toHaveLength(1);
  for (const c of ['value_in_minor', 'value_out_minor', 'net_minor', 'count'] as const) {
    expect(
      minor(
        rows.filter((r) => r.record === 'kind'),
        c,
      ),
      c,
    ).toBe(Number(total[0]![c]));
    expect(
      minor(
        rows.filter((r) => r.record === 'operator-total'),
        c,
      ),
      c,
    ).toBe(Number(total[0]![c]));
  }
  for (const r of rows.filter((r) => r.value_in_minor !== '')) {
    // The decimal column says the same as the minor-units column, to the cent.
    expect(Math.round(Number(r.value_in) * 10 ** z.minorUnits)).toBe(Number(r.value_in_minor));
    expect(Math.round(Number(r.net) * 10 ** z.minorUnits)).toBe(Number(r.net_minor));
  }
}

function refusal(input: unknown): string {
  try {
    buildZReport(input as typeof DAY, SETTINGS);
  } catch (e) {
    expect(isTerminalError(e, 'E_INPUT_INVALID'), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('the Z report', () => {
  const z = buildZReport(DAY, SETTINGS);

  it('names the day on the shop’s clock, the shop, the terminal, its number and when it was made', () => {
    expect(z).toMatchObject({
      reportNumber: 42,
      shopName: 'Corner Shop',
      terminalId: 'demo-shop-terminal',
      businessDay: '2026-07-14',
      timeZone: 'Europe/Dublin',
      from: '14 Jul 2026 00:00:00 GMT+1',
      to: '15 Jul 2026 00:00:00 GMT+1',
      generatedAt: '15 Jul 2026 00:10:00 GMT+1',
      currencyCode: 'EUR',
    });
  });

  it('counts and sums each kind, exchanges with their e-money leg either way', () => {
    expect(Object.fromEntries(z.kinds.map((l) => [l.kind, numbers(l)]))).toEqual({
      sale: { count: 5, notCompleted: 1, items: 0, in: 119_78, out: 0, net: 119_78 },
      refund: { count: 1, notCompleted: 0, items: 0, in: 0, out: 7_25, net: -7_25 },
      exchange: { count: 3, notCompleted: 1, items: 4, in: 15_00, out: 10_00, net: 5_00 },
      'item-send': { count: 1, notCompleted: 0, items: 1, in: 0, out: 0, net: 0 },
      issue: { count: 2, notCompleted: 0, items: 2, in: 0, out: 0, net: 0 },
    });
    expect(numbers(z.total)).toEqual({
      count: 12,
      notCompleted: 2,
      items: 7,
      in: 134_78,
      out: 17_25,
      net: 117_53,
    });
    expect(z.total.net.text).toBe('€117.53');
    expect(z.kinds.find((l) => l.kind === 'refund')?.net.text).toBe('-€7.25');
  });

  it('gives each operator their lines, and the flows from before operators their own', () => {
    expect(z.operators.map((o) => [o.id, o.name, numbers(o.total)])).toEqual([
      ['casey', 'Casey', { count: 5, notCompleted: 2, items: 4, in: 34_75, out: 0, net: 34_75 }],
      ['sam', 'Sam', { count: 5, notCompleted: 0, items: 3, in: 100_00, out: 17_25, net: 82_75 }],
      ['', '(no operator)', { count: 2, notCompleted: 0, items: 0, in: 3, out: 0, net: 3 }],
    ]);
    expect(z.operators[1]!.lines.map((l) => l.kind)).toEqual(['sale', 'refund', 'exchange', 'issue']);
  });

  it('lists the transfers still in doubt, from any day', () => {
    expect(z.openInDoubt).toEqual([
      {
        flowId: DAY_FLOWS[8]!.flowId,
        kind: 'exchange',
        amount: { minor: 15_00, text: '€15.00' },
        since: '14 Jul 2026 13:10:00 GMT+1',
        sinceInstant: '2026-07-14T12:10:00.000Z',
        operator: 'Casey',
      },
      {
        flowId: '99999999-0000-4000-8000-000000000001',
        kind: 'sale',
        amount: { minor: 3_00, text: '€3.00' },
        since: '12 Jul 2026 19:00:00 GMT+1',
        sinceInstant: '2026-07-12T18:00:00.000Z',
        operator: '',
      },
    ]);
  });

  it('reconciles to the cent: totals, kinds, operators and the CSV', () => {
    expectReconciled(z);
  });

  it('reconciles for any day of flows', () => {
    const kinds = ['sale', 'refund', 'exchange', 'item-send', 'issue'] as const;
    const flow = fc.record({
      kind: fc.constantFrom(...kinds),
      amount: fc.integer({ min: 1, max: 0xffffffff }),
      second: fc.integer({ min: 0, max: 86_399 }),
      operator: fc.constantFrom(undefined, 'a', 'b', 'c'),
      result: fc.constantFrom('completed', 'completed', 'not-completed', 'in-doubt'),
      leg: fc.constantFrom('in', 'out', 'items'),
    });
    fc.assert(
      fc.property(fc.array(flow, { maxLength: 40 }), (drawn) => {
        const flows = drawn.map((d, i): ShopFlow => {
          const common = {
            flowId: `f-${i}`,
            at: new Date(Date.parse('2026-07-13T23:00:00Z') + d.second * 1000).toISOString(),
            result: d.result as ShopFlow['result'],
            ...(d.operator ? { operator: { id: d.operator, name: d.operator.toUpperCase() } } : {}),
          };
          const item = { item: { type: 'ticket', label: 'T' } };
          switch (d.kind) {
            case 'sale':
              return { ...common, kind: 'sale', amount: d.amount };
            case 'refund':
              return { ...common, kind: 'refund', amount: d.amount, refundOf: 'f-0' };
            case 'exchange':
              return {
                ...common,
                kind: 'exchange',
                customerGives: d.leg === 'in' ? { amount: d.amount } : item,
                shopGives: d.leg === 'out' ? { amount: d.amount } : item,
              };
            case 'item-send':
              return { ...common, kind: 'item-send', direction: 'to-shop', item: item.item };
            default:
              return { ...common, kind: 'issue', item: item.item };
          }
        });
        expectReconciled(buildZReport({ ...DAY, flows, openInDoubt: [] }, SETTINGS));
      }),
      { numRuns: 150, seed: 11 },
    );
  });

  it('refuses a flow of another local day, a flow listed twice, and malformed input', () => {
    // 23:30 UTC on the 14th is already the 15th in Dublin (summer time).
    expect(refusal({ ...DAY, flows: [{ ...DAY_FLOWS[0]!, at: '2026-07-14T23:30:00Z' }] })).toMatch(
      /is of 2026-07-15, not 2026-07-14 \(Europe\/Dublin\)/,
    );
    expect(refusal({ ...DAY, flows: [{ ...DAY_FLOWS[0]!, at: '2026-07-13T22:59:59Z' }] })).toMatch(
      /2026-07-13/,
    );
    expect(refusal({ ...DAY, flows: [DAY_FLOWS[0], DAY_FLOWS[0]] })).toMatch(/listed twice/);
    expect(refusal({ ...DAY, businessDay: '2026-02-30' })).toMatch(/not a day/);
    expect(refusal({ ...DAY, reportNumber: 0 })).toMatch(/reportNumber/);
    expect(refusal({ ...DAY, flows: [{ ...DAY_FLOWS[0]!, amount: 0 }] })).toMatch(/flows\.0\.amount/);
    expect(refusal({ ...DAY, openInDoubt: [{ flowId: 'x', kind: 'sale', since: 'yesterday' }] })).toMatch(
      /since/,
    );
  });
});

describe('the Z report as CSV', () => {
  const z = buildZReport(DAY, SETTINGS);
  const csv = zReportCsv(z);

  it('is RFC 4180: one header in a fixed column order, CRLF line ends, the same fields on every row', () => {
    const records = parse(csv, { record_delimiter: '\r\n', strict: true } as never) as string[][];
    expect(records[0]).toEqual([...Z_CSV_COLUMNS]);
    for (const r of records) expect(r).toHaveLength(Z_CSV_COLUMNS.length);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    expect(records.map((r) => r[0])).toEqual([
      'record',
      ...Array(5).fill('kind'),
      'total',
      ...Array(3).fill('operator'),
      'operator-total',
      ...Array(4).fill('operator'),
      'operator-total',
      'operator',
      'operator-total',
      'in-doubt',
      'in-doubt',
    ]);
  });

  it('has exact amounts in minor units and as decimals, and the total row', () => {
    const rows = parseCsv(csv);
    expect(rows.find((r) => r.record === 'total')).toMatchObject({
      business_day: '2026-07-14',
      report_number: '42',
      terminal_id: 'demo-shop-terminal',
      kind: 'total',
      count: '12',
      not_completed: '2',
      items: '7',
      value_in_minor: '13478',
      value_in: '134.78',
      value_out_minor: '1725',
      value_out: '17.25',
      net_minor: '11753',
      net: '117.53',
      currency: 'EUR',
    });
    expect(rows.find((r) => r.record === 'kind' && r.kind === 'refund')).toMatchObject({
      net_minor: '-725',
      net: '-7.25',
    });
    expect(rows.filter((r) => r.record === 'in-doubt')[1]).toMatchObject({
      kind: 'sale',
      in_flight_minor: '300',
      in_flight: '3.00',
      flow_id: '99999999-0000-4000-8000-000000000001',
      since: '2026-07-12T18:00:00.000Z',
    });
  });

  it('quotes what needs quoting and defuses spreadsheet formulas in names', () => {
    const hostile = [{ ...DAY_FLOWS[0]!, operator: { id: 'x', name: '=HYPERLINK("http://evil","pay")' } }];
    const rows = parseCsv(zReportCsv(buildZReport({ ...DAY, flows: hostile, openInDoubt: [] }, SETTINGS)));
    expect(rows.find((r) => r.record === 'operator-total')?.operator_name).toBe(
      `'=HYPERLINK("http://evil","pay")`,
    );
    const shop = buildZReport(
      { ...DAY, flows: [], openInDoubt: [] },
      { ...SETTINGS, terminalId: '+1, "two"' },
    );
    expect(parseCsv(zReportCsv(shop))[0]?.terminal_id).toBe(`'+1, "two"`);
  });

  it('writes amounts with the currency’s own minor units (none for yen)', () => {
    const yen = buildZReport(
      { ...DAY, flows: [DAY_FLOWS[0]!], openInDoubt: [] },
      { ...SETTINGS, money: { currencyCode: 'JPY', minorUnits: 0, locale: 'ja-JP' } },
    );
    expect(parseCsv(zReportCsv(yen)).find((r) => r.record === 'total')).toMatchObject({
      value_in_minor: '1250',
      value_in: '1250',
      currency: 'JPY',
    });
  });

  it('has a file name that says terminal, day and number', () => {
    expect(zReportFileName(z)).toBe('z-report-demo-shop-terminal-2026-07-14-0042.csv');
    expect(zReportFileName({ ...z, terminalId: '../etc/passwd' })).toBe(
      'z-report-.._etc_passwd-2026-07-14-0042.csv',
    );
  });
});

describe('the Z report as PDF', () => {
  it('has the day, every kind, operator and in-doubt item, with the totals', async () => {
    const z = buildZReport(DAY, SETTINGS);
    const pdf = readPdf(await zReportPdf(z));
    const lines = pdf.text.split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    expect(lines).toContain('Z report No. 0042');
    expect(lines).toContain('Business day 2026-07-14 (Europe/Dublin)');
    expect(lines).toContain('Sales 5 1 0 €119.78 €0.00 €119.78');
    expect(lines).toContain('Exchanges 3 1 4 €15.00 €10.00 €5.00');
    expect(lines).toContain('Refunds 1 0 0 €0.00 €7.25 -€7.25');
    expect(lines.filter((l) => l === 'Total 12 2 7 €134.78 €17.25 €117.53')).toHaveLength(1);
    expect(lines).toContain('Casey (casey)');
    expect(lines).toContain('Total 5 2 4 €34.75 €0.00 €34.75');
    expect(lines).toContain('(no operator)');
    expect(pdf.text).toContain('99999999-0000-4000-8000-000000000001');
    expect(pdf.pages).toBe(1);
  });

  it('breaks a long table across pages with its heading again on each', async () => {
    const openInDoubt = Array.from({ length: 90 }, (_, i) => ({
      flowId: `99999999-0000-4000-8000-${String(i).padStart(12, '0')}`,
      kind: 'sale' as const,
      amount: 100 + i,
      since: '2026-07-12T18:00:00Z',
    }));
    const pdf = readPdf(await zReportPdf(buildZReport({ ...DAY, openInDoubt }, SETTINGS)));
    expect(pdf.pages).toBeGreaterThan(1);
    const pages = pdf.text.split('\f').filter((p) => p.trim() !== '');
    expect(pages).toHaveLength(pdf.pages);
    for (const page of pages.slice(1)) expect(page).toMatch(/Flow\s+Kind\s+Amount\s+Since\s+Operator/);
    for (const d of openInDoubt) expect(pdf.text).toContain(d.flowId);
    expect(pdf.text).toContain('€1.89');
  });
});
