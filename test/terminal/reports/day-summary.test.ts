// The end of day from the journal: the business day on the shop's clock (23 and 25 hours where the
// clocks change, in Dublin and New York), every kind counted with its e-money (an exchange's value
// leg, a refund, and the sale it refunds), per operator, flows that did not complete, transfers still
// in doubt, a consecutive report number, and the CSV totals reconciling to the cent.
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DocumentSettings } from '../../../electron/services/receipts/document-settings.js';
import { createDayReports } from '../../../electron/services/reports/day-summary.js';
import { journalFactsSource } from '../../../electron/services/reports/journal-facts.js';
import { isTerminalError } from '../../../protocol/errors.js';
import { exchangeSteps, type JournalWorld, journalWorld, SHOP } from './journal-world.js';

const DUBLIN: DocumentSettings = {
  shopName: 'Corner Shop',
  terminalId: 'T-0001',
  timeZone: 'Europe/Dublin',
  money: { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' },
};
const NEW_YORK: DocumentSettings = { ...DUBLIN, timeZone: 'America/New_York' };

let world: JournalWorld;
afterEach(() => world?.close());

function reports(settings: DocumentSettings, now: string) {
  return createDayReports({
    source: journalFactsSource(world.journal, world.flows),
    settings,
    operators: [
      { id: 'casey', name: 'Casey' },
      { id: 'sam', name: 'Sam' },
    ],
    now: () => new Date(now),
  });
}

const line = (r: ReturnType<ReturnType<typeof reports>['summary']>, kind: string) => {
  const l = kind === 'total' ? r.report.total : r.report.kinds.find((k) => k.kind === kind);
  if (!l) throw new Error(`no ${kind} line`);
  return {
    count: l.count,
    notCompleted: l.notCompleted,
    items: l.items,
    in: l.valueIn.minor,
    out: l.valueOut.minor,
  };
};

describe('end of day from the journal', () => {
  it('takes the spring-forward day in Dublin as 23 hours on the shop’s clock, not a UTC day', () => {
    world = journalWorld();
    // 29 Mar 2026: Dublin goes from GMT to IST at 01:00 GMT. The day is [00:00Z, 23:00Z).
    world.transfer('before', '2026-03-28T23:59:00.000Z', 100); // 28 Mar, 23:59 GMT
    world.transfer('first', '2026-03-29T00:00:30.000Z', 200); // 29 Mar, 00:00 GMT (ends 00:00:31)
    world.transfer('late', '2026-03-29T22:58:00.000Z', 400); // 29 Mar, 23:58 IST
    world.transfer('next', '2026-03-29T23:00:10.000Z', 800); // 30 Mar, 00:00 IST: a UTC 29 Mar
    const r = reports(DUBLIN, '2026-03-30T12:00:00.000Z').summary('2026-03-29');
    expect(r.report.businessDay).toBe('2026-03-29');
    expect(r.report.from).toBe('29 Mar 2026 00:00:00 GMT+0');
    expect(r.report.to).toBe('30 Mar 2026 00:00:00 GMT+1');
    expect(line(r, 'sale')).toEqual({ count: 2, notCompleted: 0, items: 0, in: 600, out: 0 });
    expect(r.today).toBe('2026-03-30');
    // A UTC day would have counted "next" and missed nothing else: the shop's day does not.
    const next = reports(DUBLIN, '2026-03-30T12:00:00.000Z').summary('2026-03-30');
    expect(line(next, 'sale').in).toBe(800);
    // The report numbers count the shop's days from the log's first: 28 Mar is No. 1.
    expect(r.report.reportNumber).toBe(2);
    expect(next.report.reportNumber).toBe(3);
  });

  it('takes the fall-back day in New York as 25 hours, evening flows on the local day', () => {
    world = journalWorld();
    // 1 Nov 2026: New York goes from EDT (-4) to EST (-5) at 06:00Z. The day is [04:00Z, 05:00Z next).
    world.transfer('early', '2026-11-01T04:00:05.000Z', 1); // 00:00 EDT
    world.transfer('repeated-hour', '2026-11-01T06:30:00.000Z', 10); // 01:30 EST, the hour lived twice
    world.transfer('evening', '2026-11-02T04:30:00.000Z', 100); // 1 Nov, 23:30 EST (2 Nov in UTC)
    world.transfer('after', '2026-11-02T05:00:01.000Z', 1000); // 2 Nov, 00:00 EST
    const r = reports(NEW_YORK, '2026-11-03T00:00:00.000Z').summary('2026-11-01');
    expect(r.report.from).toBe('1 Nov 2026 00:00:00 GMT-4');
    expect(r.report.to).toBe('2 Nov 2026 00:00:00 GMT-5');
    expect(line(r, 'sale')).toEqual({ count: 3, notCompleted: 0, items: 0, in: 111, out: 0 });
    expect(line(reports(NEW_YORK, '2026-11-03T00:00:00.000Z').summary('2026-11-02'), 'sale').in).toBe(1000);
  });

  it('counts every kind with its e-money: sales, a refund, an exchange’s value leg, items sent and issued', async () => {
    world = journalWorld();
    const day = '2026-07-14T';
    world.transfer('sale-1', `${day}09:00:00.000Z`, 12_50, { operator: 'casey' });
    world.transfer('sale-2', `${day}09:10:00.000Z`, 20_00, { operator: 'casey' });
    world.transfer('refused', `${day}09:20:00.000Z`, 5_00, {
      operator: 'casey',
      end: 'failed-no-value-moved',
    });
    world.transfer('refund-1', `${day}10:00:00.000Z`, 12_50, { operator: 'sam', refundOf: 'sale-1' });
    world.flow(
      'exchange-1',
      'content-exchange',
      exchangeSteps(`${day}11:00:00.000Z`, 15_00, 'Concert 24 Dec', {
        operator: 'casey',
      }),
    );
    world.flow('send-1', 'content-transfer', [
      [
        `${day}12:00:00.000Z`,
        'started',
        {
          senderSlot: 'payee',
          senderId: SHOP,
          senderLabel: 'Corner Shop',
          receiverSlot: 'payer',
          receiverId: 'A11CE00000000000000000000000A11C',
          offer: { itemId: '2'.padStart(32, '0'), label: 'Coupon -10%', type: 'coupon', policy: 'public' },
          sessionId: '01',
        },
      ],
      [`${day}12:00:01.000Z`, 'completed'],
    ]);
    world.flow('issue-1', 'admin', [
      [
        `${day}13:00:00.000Z`,
        'issue-requested',
        {
          slot: 'payee',
          cardHolderId: SHOP,
          item: { id: 'x', type: 'ticket', label: 'Concert 25 Dec' },
          operator: 'sam',
        },
      ],
      [`${day}13:00:01.000Z`, 'issue-authorized', {}],
      [`${day}13:00:02.000Z`, 'completed', {}],
    ]);
    world.flow('keys', 'key-update', [
      [`${day}13:30:00.000Z`, 'planned', { route: 'common-key' }],
      [`${day}13:30:01.000Z`, 'completed', {}],
    ]);
    world.transfer('doubt', `${day}14:00:00.000Z`, 7_00, { operator: 'casey', end: 'in-doubt' });

    const r = reports(DUBLIN, `${day}18:00:00.000Z`).summary('2026-07-14');
    expect(line(r, 'sale')).toEqual({ count: 2, notCompleted: 2, items: 0, in: 32_50, out: 0 });
    expect(line(r, 'refund')).toEqual({ count: 1, notCompleted: 0, items: 0, in: 0, out: 12_50 });
    expect(line(r, 'exchange')).toEqual({ count: 1, notCompleted: 0, items: 1, in: 15_00, out: 0 });
    expect(line(r, 'item-send')).toEqual({ count: 1, notCompleted: 0, items: 1, in: 0, out: 0 });
    expect(line(r, 'issue')).toEqual({ count: 1, notCompleted: 0, items: 1, in: 0, out: 0 });
    expect(line(r, 'total')).toEqual({ count: 6, notCompleted: 2, items: 3, in: 47_50, out: 12_50 });
    expect(r.report.total.net.text).toBe('€35.00');
    expect(r.report.openInDoubt).toEqual([
      expect.objectContaining({
        flowId: 'doubt',
        kind: 'sale',
        amount: { minor: 7_00, text: '€7.00' },
        operator: 'Casey',
      }),
    ]);
    expect(r.refundedSales).toEqual([
      { flowId: 'sale-1', amount: 12_50, refunded: 12_50, refundFlowIds: ['refund-1'] },
    ]);
    const byOperator = Object.fromEntries(r.report.operators.map((o) => [o.name, o.total.net.minor]));
    expect(byOperator).toEqual({ Casey: 47_50, Sam: -12_50, '(no operator)': 0 });

    const file = await reports(DUBLIN, `${day}18:00:00.000Z`).export('2026-07-14', 'csv');
    expect(file.fileName).toBe('z-report-T-0001-2026-07-14-0001.csv');
    const csv = parse(new TextDecoder().decode(file.bytes), {
      columns: true,
    }) as Record<string, string>[];
    const kinds = csv.filter((row) => row.record === 'kind');
    const total = csv.find((row) => row.record === 'total')!;
    const cents = (rows: Record<string, string>[], column: string) =>
      rows.reduce((n, row) => n + Math.round(Number(row[column]) * 100), 0);
    expect(cents(kinds, 'value_in')).toBe(Number(total.value_in_minor));
    expect(cents(kinds, 'value_out')).toBe(Number(total.value_out_minor));
    expect(total.net).toBe('35.00');
    expect(csv.find((row) => row.record === 'kind' && row.kind === 'exchange')?.value_in).toBe('15.00');
    expect(csv.find((row) => row.record === 'in-doubt')?.in_flight).toBe('7.00');
  });

  it('refuses a day that has not begun, and a day before the log begins', () => {
    world = journalWorld();
    world.transfer('s', '2026-07-14T09:00:00.000Z', 1);
    const r = reports(DUBLIN, '2026-07-14T22:59:00.000Z');
    // 23:59 IST on the 14th: the 15th has not begun in Dublin, though it has in UTC+14.
    expect(r.today()).toBe('2026-07-14');
    for (const day of ['2026-07-15', '2026-07-13']) {
      let error: unknown;
      try {
        r.summary(day);
      } catch (e) {
        error = e;
      }
      expect(isTerminalError(error, 'E_INPUT_INVALID'), day).toBe(true);
    }
    expect(() => r.summary('2026-02-30')).toThrow(/not a day/);
  });

  it('reads the day through the indexes: the day’s flows folded, never every flow of the log', () => {
    world = journalWorld();
    for (let d = 10; d < 20; d++) {
      for (let i = 0; i < 5; i++) world.transfer(`s-${d}-${i}`, `2026-07-${d}T09:0${i}:00.000Z`, 100);
    }
    world.transfer('refund', '2026-07-19T10:00:00.000Z', 40, { refundOf: 's-15-0' });
    const all = vi.spyOn(world.flows, 'all');
    const entries = vi.spyOn(world.journal, 'entriesForFlow');
    const r = reports(DUBLIN, '2026-07-20T12:00:00.000Z').summary('2026-07-15');
    expect(line(r, 'sale')).toEqual({ count: 5, notCompleted: 0, items: 0, in: 500, out: 0 });
    expect(r.report.reportNumber).toBe(6); // 10 Jul is No. 1, from the first flow alone
    expect(r.refundedSales).toEqual([
      { flowId: 's-15-0', amount: 100, refunded: 40, refundFlowIds: ['refund'] },
    ]);
    expect(all).not.toHaveBeenCalled();
    // The day's sales read from their rows; only the refund of one of them folded from its entries.
    expect(entries.mock.calls.map(([id]) => id)).toEqual(['refund']);
  });
});
