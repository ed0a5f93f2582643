// The shop's day on the screen: a sale, its refund, a ticket sold in one exchange and a coupon sent,
// each journaled with its operator; the log reads like a POS journal (every kind with its details),
// finds flows by a holder's name, by an amount as typed and by flow ID, and never pages to an empty
// page; the end of day by business day in the shop's date format, its Z report printed and exported
// as CSV (read back: the totals reconcile to the cent, the exchange's e-money leg and the refund
// included) and PDF. Screenshots and the accessibility check of every view and dialog shown.
//
// The refund and the operators are journaled the way the operations screen (another branch) will
// journal them: a value transfer from the shop's card whose 'started' entry names the sale it refunds
// (`refundOf`), and every 'started' entry its operator. Here the test adds those fields as the
// entries are written; the money moves on the cards for real.
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import type { FlowFacts, JournalEntry } from '../../db/journal.js';
import { demoOperators } from '../../electron/services/operators/demo-operators.js';
import { isTerminalError } from '../../protocol/errors.js';
import { LOG_PAGE } from '../../renderer/src/log-page.js';
import { type OperatorFixture, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
const byTest = (id: string) => ui.byTest(id);
const TICKET = 'A1'.padEnd(32, '0');
const COUPON = 'C0'.padEnd(32, '0');
const flowIds: Record<'sale' | 'refund' | 'exchange' | 'send', string> = {
  sale: '',
  refund: '',
  exchange: '',
  send: '',
};

function stockTheShop(s: SettlementState): void {
  const item = (id: string, type: string, label: string) =>
    ({ id, type, issuerId: s.purseIssuerId, policy: 'public', label, body: '' }) as never;
  s.contents.push(item(TICKET, 'ticket', 'Concert 24 Dec'), item(COUPON, 'coupon', 'Coupon 10%'));
}

/** Every 'started' entry gets the operator signed in; a refund's also the sale it refunds. */
function journalAs(operator: () => string, refundOf: () => string | undefined): void {
  const journal = ui.services.journal;
  const append = journal.append.bind(journal);
  journal.append = (e: JournalEntry, facts?: FlowFacts) => {
    if (e.step !== 'started') return append(e, facts);
    const extra = e.flowKind === 'value-transfer' && refundOf() ? { refundOf: refundOf() } : {};
    // In the payload (hash-chained) and in the facts (the log's indexes), as the engines write both.
    return append(
      { ...e, payload: { ...e.payload, operator: operator(), ...extra } },
      {
        ...facts,
        operatorId: operator(),
        ...extra,
      },
    );
  };
}

const logFlowIds = () =>
  byTest('log-row').evaluateAll((rows) => rows.map((r) => r.querySelector('td.mono')?.getAttribute('title')));

/** Runs card work from the test while the screen may still be reading the cards (E_BUSY meanwhile). */
async function whenFree<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      if (!isTerminalError(e, 'E_BUSY') || attempt > 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs a search and waits until the page shown is its answer (the last search's rows may be the same). */
async function search(text: string): Promise<void> {
  await ui.page.locator('#log-search').fill(text);
  await ui.page.locator('#log-search').press('Enter');
  const page = ui.byTest('log-page');
  if (text === '') await expect.poll(() => page.textContent()).toBe('Page 1');
  else await expect.poll(() => page.textContent()).toContain(`Page 1 of “${text}”`);
}

describe('operator screen: the shop’s day', () => {
  let operator = 'casey';
  let refunding: string | undefined;

  beforeAll(async () => {
    ui = await startOperatorScreen({
      prepareCards: (edit) => edit('payee', stockTheShop),
      configure: (c) => ({
        ...c,
        operators: demoOperators({ logN: 10, r: 8, p: 1 }),
      }),
    });
    journalAs(
      () => operator,
      () => refunding,
    );
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('runs the day: a sale on the screen, its refund, a ticket sold by exchange, a coupon sent', async () => {
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
    await ui.page.locator('#payer-pin').fill('1234');
    await ui.page.locator('#payer-pin').press('Enter');
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('€200.00');
    await ui.page.locator('#amount').fill('12.50');
    await ui.page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('Payment complete: €12.50');
    const last = (kind: string) =>
      ui.services.flows
        .all()
        .filter((f) => f.flowKind === kind)
        .at(-1)!.flowId;
    flowIds.sale = last('value-transfer');

    // The refund: the shop's card pays, so the cards change slots; the shop's owner PIN allows it.
    const { engine, contents } = ui.services;
    const { cards } = ui;
    ui.slots.remove('payer');
    ui.slots.remove('payee');
    ui.slots.insert('payer', cards.payee.os);
    ui.slots.insert('payee', cards.payer.os);
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Corner Shop');
    await expect.poll(() => byTest('payee-holder').textContent()).toBe('Alice');
    operator = 'sam';
    refunding = flowIds.sale;
    await whenFree(() => engine.login('payer', '0000'));
    const refund = await whenFree(() => engine.transfer({ amount: 12_50 }));
    expect(refund.status).toBe('completed');
    flowIds.refund = last('value-transfer');
    refunding = undefined;
    operator = 'casey';
    ui.slots.remove('payer');
    ui.slots.remove('payee');
    ui.insert('payer');
    ui.insert('payee');
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
    await expect.poll(() => byTest('payee-holder').textContent()).toBe('Corner Shop');

    await whenFree(() => engine.login('payer', '1234'));
    await whenFree(() => contents.authenticate({}));
    const sold = await whenFree(() =>
      contents.exchange({ initiator: 'payer', give: { amount: 15_00 }, take: { itemId: TICKET } }),
    );
    expect(sold.status).toBe('completed');
    flowIds.exchange = last('content-exchange');
    const sent = await whenFree(() => contents.send({ from: 'payee', itemId: COUPON }));
    expect(sent.status).toBe('completed');
    flowIds.send = last('content-transfer');
    expect(cards.payer.store.read().balance).toBe(200_00 - 15_00);
  });

  it('gives every kind of flow its details in the log, by the holders’ names, with the operator', async () => {
    await ui.page.getByRole('tab', { name: 'Transaction log' }).click();
    const row = (flowId: string) =>
      byTest('log-row')
        .filter({ has: ui.page.locator(`td[title="${flowId}"]`) })
        .first();
    await expect.poll(() => row(flowIds.send).textContent(), { timeout: 10_000 }).toContain('Item sent');
    expect(await row(flowIds.send).locator('td.details').textContent()).toBe(
      'Coupon 10% (coupon) · Corner Shop → Alice · by Casey',
    );
    expect(await row(flowIds.exchange).locator('td.details').textContent()).toBe(
      'Alice gives €15.00 · Corner Shop gives Concert 24 Dec (ticket) · by Casey',
    );
    expect(await row(flowIds.exchange).locator('td').nth(2).textContent()).toBe('Exchange');
    await ui.shoot('40-log-details');
    await search(flowIds.sale.slice(0, 8));
    await expect.poll(() => logFlowIds()).toContain(flowIds.sale);
    expect(await row(flowIds.sale).locator('td.details').textContent()).toBe(
      `€12.50 · Alice → Corner Shop · refunded (${flowIds.refund.slice(0, 8)}) · by Casey`,
    );
    expect(await row(flowIds.refund).locator('td.details').textContent()).toBe(
      `€12.50 · Corner Shop → Alice · refund of ${flowIds.sale.slice(0, 8)} · by Sam`,
    );
    expect(await row(flowIds.refund).locator('td').nth(2).textContent()).toBe('Refund');
  });

  it('finds flows by a holder’s name, an amount as typed, and a flow ID', async () => {
    const entriesOf = (...ids: string[]) =>
      ids
        .flatMap((id) => ui.services.journal.entriesForFlow(id))
        .map((e) => e.seq)
        .sort((a, b) => b - a);
    const seqs = () =>
      byTest('log-row').evaluateAll((rows) => rows.map((r) => Number(r.firstElementChild?.textContent)));

    await search('12.50');
    await expect.poll(() => seqs()).toEqual(entriesOf(flowIds.sale, flowIds.refund).slice(0, LOG_PAGE));
    expect(await byTest('log-page').textContent()).toBe('Page 1 of “12.50” (flows of €12.50 too)');
    await search('15.00');
    await expect.poll(() => seqs()).toEqual(entriesOf(flowIds.exchange).slice(0, LOG_PAGE));
    await search('coupon 10');
    await expect.poll(() => seqs()).toEqual(entriesOf(flowIds.send));
    await search('Corner');
    await expect
      .poll(async () => new Set(await logFlowIds()))
      .toEqual(new Set([flowIds.send, flowIds.exchange]));
    await search(flowIds.exchange);
    await expect.poll(() => seqs()).toEqual(entriesOf(flowIds.exchange));
    await search('alice');
    await expect
      .poll(async () => (await logFlowIds()).every((id) => Object.values(flowIds).includes(id!)))
      .toBe(true);
    await ui.shoot('41-log-search-by-name');
    await search('1,000.00');
    await expect.poll(() => byTest('log-table').textContent()).toContain('No entries match “1,000.00”');
    await search('');
  });

  it('never pages to an empty page, even when the last page is exactly full', async () => {
    // Entries without a flow of their own business, until the log holds a whole number of pages.
    const total = () => ui.services.journal.page({ limit: 1000 }).records.length;
    let n = 0;
    while (total() % LOG_PAGE !== 0)
      ui.services.journal.append({
        flowId: `pad-${n++}`,
        flowKind: 'admin',
        step: 'failed-no-value-moved',
        payload: {},
      });
    const pages = total() / LOG_PAGE;
    await search('');
    await expect.poll(() => byTest('log-row').count()).toBe(LOG_PAGE);
    for (let page = 2; page <= pages; page++) {
      await ui.page.getByRole('button', { name: 'Older →' }).click();
      await expect.poll(() => byTest('log-page').textContent()).toBe(`Page ${page}`);
      expect(await byTest('log-row').count()).toBe(LOG_PAGE);
    }
    expect(await ui.page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
    await ui.page.getByRole('button', { name: '← Newer' }).click();
  });

  it('closes the day: per kind, the refund and the exchange’s e-money leg, per operator, reconciling in the CSV', async () => {
    await ui.page.getByRole('tab', { name: 'End of day' }).click();
    const line = (kind: string) => byTest('summary-kinds').locator(`tr[data-kind="${kind}"]`);
    await expect.poll(() => line('sale').textContent()).toBe('Sales100€12.50€0.00€12.50');
    expect(await line('refund').textContent()).toBe('Refunds100€0.00€12.50-€12.50');
    expect(await line('exchange').textContent()).toBe('Exchanges101€15.00€0.00€15.00');
    expect(await line('item-send').textContent()).toBe('Items sent101€0.00€0.00€0.00');
    expect(await line('total').textContent()).toBe('Total402€27.50€12.50€15.00');
    expect(await byTest('summary-refunded').textContent()).toBe(
      'Refunded: 1 of the day’s sales (€12.50 sale, €12.50 back).',
    );
    expect(await byTest('summary-operators').textContent()).toContain('Casey: 3 completed, net €27.50');
    expect(await byTest('summary-operators').textContent()).toContain('Sam: 1 completed, net -€12.50');
    await ui.shoot('42-end-of-day');

    const day = ui.services.reports.day.today();
    const [y, m, d] = day.split('-');
    expect(await ui.page.locator('#summary-day').inputValue()).toBe(`${d}/${m}/${y}`);
    expect(await ui.page.locator('#summary-day').getAttribute('placeholder')).toBe('DD/MM/YYYY');

    const [csvDownload] = await Promise.all([
      ui.page.waitForEvent('download'),
      ui.page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const rows = parse(await readFile(await csvDownload.path(), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    const cents = (v: string) => Math.round(Number(v) * 100);
    const kinds = rows.filter((r) => r.record === 'kind');
    const total = rows.find((r) => r.record === 'total')!;
    for (const column of ['value_in', 'value_out', 'net'])
      expect(
        kinds.reduce((n, r) => n + cents(r[column]!), 0),
        column,
      ).toBe(Number(total[`${column}_minor`]));
    expect(total).toMatchObject({
      value_in: '27.50',
      value_out: '12.50',
      net: '15.00',
      count: '4',
      items: '2',
    });
    expect(kinds.find((r) => r.kind === 'exchange')).toMatchObject({ value_in_minor: '1500', items: '1' });
    expect(kinds.find((r) => r.kind === 'refund')).toMatchObject({ value_out_minor: '1250' });
    const operators = rows.filter((r) => r.record === 'operator-total');
    expect(operators.reduce((n, r) => n + Number(r.net_minor), 0)).toBe(Number(total.net_minor));
    await expect
      .poll(() => byTest('export-note').textContent())
      .toContain(`Downloaded as ${csvDownload.suggestedFilename()}`);

    const [pdfDownload] = await Promise.all([
      ui.page.waitForEvent('download'),
      ui.page.getByRole('button', { name: 'Export PDF' }).click(),
    ]);
    expect(pdfDownload.suggestedFilename()).toMatch(/^z-report-T-0001-.*\.pdf$/);
    expect((await readFile(await pdfDownload.path())).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('prints the Z report from a dialog, and picks another day in the shop’s format', async () => {
    await ui.page.getByRole('button', { name: 'Print Z report' }).click();
    await expect.poll(() => byTest('z-report-dialog').isVisible()).toBe(true);
    expect(await byTest('z-report').textContent()).toContain('Z report No. 0001');
    await ui.shoot('43-z-report-dialog');
    await ui.page.keyboard.press('Escape');
    await expect.poll(() => byTest('z-report-dialog').count()).toBe(0);

    const day = ui.services.reports.day.today();
    const [y, m, d] = day.split('-');
    // The day before the log begins has no report: said plainly.
    await ui.page.getByRole('button', { name: 'Previous day' }).click();
    await expect.poll(() => byTest('summary-error').getAttribute('data-code')).toBe('E_INPUT_INVALID');
    expect(await byTest('summary-error').textContent()).toContain('before this terminal');
    await ui.shoot('44-day-before-the-log');
    // A day typed in the shop's format.
    await ui.page.locator('#summary-day').fill(`${d}/${m}/${y}`);
    await ui.page.locator('#summary-day').press('Enter');
    await expect.poll(() => byTest('summary-error').count()).toBe(0);
    expect(await byTest('summary-totals').textContent()).toContain('4 completed');
    await ui.page.locator('#summary-day').fill('31/02/2026');
    await ui.page.locator('#summary-day').press('Enter');
    expect(await byTest('summary-day-long').textContent()).toBe('Not a day: type it as DD/MM/YYYY.');
    await ui.page.getByRole('button', { name: 'Today' }).isDisabled();
  });
});
