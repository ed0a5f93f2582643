// The operator screen by keyboard alone (a POS has a keypad, not a mouse): a whole sale with Tab,
// digits, Enter and Escape; every action in the Tab order with a visible focus. Then the records:
// log search and paging, the log's hash-chain check, and the end-of-day CSV export read back.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIssuer, publishCrl } from '../../card-sim/issuer/issuer.js';
import { LOG_PAGE } from '../../renderer/src/log-page.js';
import { layoutProblems } from './support/layout-check.js';
import { type OperatorFixture, startOperatorScreen } from './support/operator-fixture.js';

let ui: OperatorFixture;
let crlServer: Server;
let crlBody: Uint8Array | undefined;
const byTest = (id: string) => ui.byTest(id);

// Browser-side expressions as strings: this file is type-checked without the DOM library.
const FOCUSED = `(() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    name: el.getAttribute('aria-label') || el.id || el.textContent.trim(),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
  };
})()`;

async function focused(): Promise<{ name: string; outline: boolean }> {
  return ui.page.evaluate<{ name: string; outline: boolean }>(FOCUSED);
}

/** Presses Tab (or Shift+Tab) until `name` has the focus; every stop on the way must show its focus. */
async function tabTo(name: string, max = 40, key = 'Tab'): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < max; i++) {
    await ui.page.keyboard.press(key);
    const f = await focused();
    expect(f.outline, `focus ring on ${f.name}`).toBe(true);
    stops.push(f.name);
    if (f.name === name) return stops;
  }
  throw new Error(`${name} not reached by Tab; stops: ${stops.join(' | ')}`);
}

async function logSeqs(): Promise<number[]> {
  return byTest('log-row').evaluateAll((rows) => rows.map((r) => Number(r.firstElementChild?.textContent)));
}

/** The journal's sequence numbers, newest first, as the terminal holds them (optionally searched). */
function journalSeqs(search?: string): number[] {
  return ui.services.journal.page({ limit: 200, search: search || undefined }).records.map((r) => r.seq);
}

describe('operator screen: keyboard only, and the records', () => {
  beforeAll(async () => {
    // The CA's CRL distribution point: down at first, then serving a newer list.
    crlServer = createServer((_req, res) => {
      if (!crlBody) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crlBody);
    });
    await new Promise<void>((done) => crlServer.listen(0, '127.0.0.1', done));
    const { port } = crlServer.address() as AddressInfo;
    ui = await startOperatorScreen({
      configure: (c) => ({ ...c, crl: { ...c.crl, distributionPoint: `http://127.0.0.1:${port}/ca.crl` } }),
    });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
    crlServer?.close();
  });

  it('sells by keyboard alone: Tab to the PIN, digits and Enter, then the amount and Enter', async () => {
    await expect.poll(() => byTest('payer-holder').textContent()).toBe('Alice');
    await ui.page.locator('body').focus();
    await tabTo('payer-pin');
    await ui.page.keyboard.type('1234');
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('€200.00');
    // After the login the amount has the focus: the sale goes on without a Tab.
    await expect.poll(async () => (await focused()).name).toBe('amount');
    await ui.page.keyboard.type('3');
    expect(await ui.page.locator('#amount-help').textContent()).toBe(
      'Enter pays €3.00 from the payer card to the payee card.',
    );
    await ui.page.keyboard.press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('Payment complete: €3.00');
    // The customer's login ends with the sale: the balance is masked again.
    await expect.poll(() => byTest('payer-balance').textContent()).toBe('••••');
    expect((await focused()).name).toBe('amount');
    await expect.poll(() => ui.page.locator('#amount').inputValue()).toBe('');
    await ui.shoot('20-keyboard-sale');
  });

  it('clears the amount and the last result with Escape, and takes a decimal comma', async () => {
    await ui.page.keyboard.type('4.5');
    await ui.page.keyboard.press('Escape');
    await expect.poll(() => ui.page.locator('#amount').inputValue()).toBe('');
    await expect.poll(() => byTest('pay-result').textContent()).toBe('');
    // Escape from anywhere comes back to the amount.
    await tabTo('payee-pin');
    await ui.page.keyboard.press('Escape');
    await expect.poll(async () => (await focused()).name).toBe('amount');

    await ui.page.keyboard.type('2,25');
    await ui.page.keyboard.press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('Payment complete: €2.25');
    expect(ui.cards.payee.store.read().balance).toBe(50_00 + 3_00 + 2_25);
  });

  it('refuses a malformed amount before anything is sent, and says how to write one', async () => {
    await ui.page.keyboard.type('1.234');
    expect(await ui.page.locator('#amount').getAttribute('aria-invalid')).toBe('true');
    expect(await ui.page.locator('#amount-help').textContent()).toBe(
      'Too many decimals: at most 2, e.g. 12.50.',
    );
    const journal = (await ui.services.journal.page({ limit: 200 })).records.length;
    await ui.page.keyboard.press('Enter');
    expect(await ui.page.getByRole('button', { name: 'Pay' }).isDisabled()).toBe(true);
    expect((await ui.services.journal.page({ limit: 200 })).records.length).toBe(journal);
    await ui.page.keyboard.press('Escape');
  });

  it('has every action in the Tab order, each with a visible focus', async () => {
    // Escape puts the focus on the amount: from there back to the first action, then on to the last.
    await ui.page.keyboard.press('Escape');
    const before = await tabTo('payer-pin', 20, 'Shift+Tab');
    await ui.page.keyboard.press('Escape');
    await ui.page.keyboard.type('1');
    const after = await tabTo('Older →', 60);
    const stops = [...before.reverse(), 'amount', ...after];
    expect(stops.slice(0, 7)).toEqual([
      'payer-pin',
      'Issuer session',
      'Update keys',
      'amount',
      'Pay',
      'Issue ticket or coupon…',
      'Refund a sale…',
    ]);
    for (const action of [
      'payee-pin',
      'Issuer session',
      'Transaction log',
      'In doubt: 0',
      'Revocation list',
      'End of day',
      'Card tray',
      'log-search',
      'Search',
      'Verify log',
      // The log's scrolling box (its rows hold nothing focusable): keys scroll a long page.
      'Log entries',
    ])
      expect(stops).toContain(action);
    await ui.page.keyboard.press('Escape');
  });

  it('pages through the log, newest first, and back', async () => {
    // A key update and two payments: more than one page, less than three.
    const all = journalSeqs();
    expect(all.length).toBeGreaterThan(LOG_PAGE);
    expect(all.length).toBeLessThanOrEqual(2 * LOG_PAGE);
    await expect.poll(() => logSeqs()).toEqual(all.slice(0, LOG_PAGE));
    expect(await byTest('log-page').textContent()).toBe('Page 1');
    await ui.page.getByRole('button', { name: 'Older →' }).focus();
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => logSeqs()).toEqual(all.slice(LOG_PAGE));
    expect(await byTest('log-page').textContent()).toBe('Page 2');
    expect(await ui.page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
    await ui.page.getByRole('button', { name: '← Newer' }).click();
    await expect.poll(() => logSeqs()).toEqual(all.slice(0, LOG_PAGE));
    expect(await ui.page.getByRole('button', { name: '← Newer' }).isDisabled()).toBe(true);
  });

  it('searches the log by flow ID, by kind across pages, and says when nothing matches', async () => {
    // A transfer journals five entries: a third payment makes the transfers more than a page.
    await ui.page.locator('#amount').fill('1.00');
    await ui.page.locator('#amount').press('Enter');
    await expect
      .poll(() => byTest('pay-result').textContent(), { timeout: 20_000 })
      .toContain('Payment complete: €1.00');
    const newest = ui.services.journal.page({ limit: 1 }).records[0]?.flowId;
    await expect.poll(() => byTest('log-row').first().locator('td.mono').getAttribute('title')).toBe(newest);
    const search = ui.page.locator('#log-search');
    const lastFlow = await byTest('log-row').first().locator('td.mono').getAttribute('title');
    if (!lastFlow) throw new Error('the newest log row names no flow');
    await search.fill(lastFlow);
    await search.press('Enter');
    const flowSeqs = ui.services.journal
      .entriesForFlow(lastFlow)
      .map((r) => r.seq)
      .reverse();
    await expect.poll(() => logSeqs()).toEqual(flowSeqs);
    expect(await byTest('log-table').textContent()).toContain('€1.00');

    const transfers = journalSeqs('value-transfer');
    expect(transfers.length).toBeGreaterThan(LOG_PAGE);
    await search.fill('value-transfer');
    await search.press('Enter');
    await expect.poll(() => logSeqs()).toEqual(transfers.slice(0, LOG_PAGE));
    expect(await byTest('log-page').textContent()).toBe('Page 1 of “value-transfer”');
    await ui.shoot('21-log-search');
    await ui.page.getByRole('button', { name: 'Older →' }).click();
    await expect.poll(() => logSeqs()).toEqual(transfers.slice(LOG_PAGE, 2 * LOG_PAGE));
    expect(await byTest('log-page').textContent()).toBe('Page 2 of “value-transfer”');

    await search.fill('no such thing');
    await search.press('Enter');
    await expect.poll(() => byTest('log-table').textContent()).toContain('No entries match “no such thing”');
    expect(await ui.page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);

    await search.fill('');
    await search.press('Enter');
    await expect.poll(() => logSeqs()).toEqual(journalSeqs().slice(0, LOG_PAGE));
  });

  it('verifies the log’s hash chain on request', async () => {
    await ui.page.getByRole('button', { name: 'Verify log' }).click();
    await expect
      .poll(() => byTest('log-verify').textContent())
      .toBe(`Log verified: ${journalSeqs().length} entries, hash chain intact.`);
  });

  it('opens a view with Enter on its tab and moves between tabs with the arrow keys', async () => {
    await ui.page.getByRole('tab', { name: 'Transaction log' }).focus();
    await ui.page.keyboard.press('ArrowRight');
    expect(await ui.page.getByRole('tab', { name: 'In doubt: 0' }).getAttribute('aria-selected')).toBe(
      'true',
    );
    expect(await byTest('indoubt-empty').isVisible()).toBe(true);
    await ui.page.keyboard.press('ArrowRight');
    expect(await byTest('crl-panel').isVisible()).toBe(true);
    expect(await byTest('crl-state').textContent()).toBe('up to date');
    await ui.page.getByRole('tab', { name: 'End of day' }).focus();
    await ui.page.keyboard.press('Enter');
    expect(await byTest('summary-panel').isVisible()).toBe(true);
    expect(await byTest('log-panel').isVisible()).toBe(false);
  });

  it('refreshes the CRL: a server that is down keeps the list in use; a newer list is loaded', async () => {
    await ui.page.getByRole('tab', { name: 'Revocation list' }).click();
    const panel = byTest('crl-panel');
    expect(await panel.textContent()).toContain('#1');
    // Where the list comes from is on the screen.
    expect(await byTest('crl-distribution-point').textContent()).toBe(
      ui.services.crl.status().distributionPoint,
    );
    expect(await byTest('crl-distribution-point').textContent()).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/ca\.crl$/,
    );
    await ui.page.getByRole('button', { name: 'Refresh CRL' }).click();
    const error = byTest('crl-error');
    await expect.poll(() => error.getAttribute('data-code')).toBe('E_TRANSPORT');
    expect(await error.textContent()).toContain('The revocation list could not be downloaded');
    expect(await error.textContent()).toContain('HTTP 503');
    expect(await panel.textContent()).toContain('failed');
    expect(await panel.textContent()).toContain('#1');
    await ui.shoot('22-crl-refresh-failed');

    crlBody = publishCrl(loadIssuer(join(ui.demoDir, 'issuer.json')), { validityDays: 30 });
    await ui.page.getByRole('button', { name: 'Refresh CRL' }).click();
    await expect.poll(() => panel.textContent()).toContain('new list loaded');
    expect(await panel.textContent()).toContain('#2');
    expect(await error.count()).toBe(0);
    expect(ui.services.crl.status().crlNumber).toBe('2');
  });

  it('exports the day’s Z report as CSV with the totals of the payments made, and says where it went', async () => {
    await ui.page.getByRole('tab', { name: 'End of day' }).focus();
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => byTest('summary-totals').textContent()).toContain('3 completed, net €6.25');
    await ui.shoot('23-end-of-day');
    const day = ui.services.reports.day.today();
    await ui.page.getByRole('button', { name: 'Export CSV' }).focus();
    const [download] = await Promise.all([ui.page.waitForEvent('download'), ui.page.keyboard.press('Enter')]);
    expect(download.suggestedFilename()).toBe(`z-report-T-0001-${day}-0001.csv`);
    await expect
      .poll(() => byTest('export-note').textContent())
      .toBe(`Downloaded as z-report-T-0001-${day}-0001.csv to this browser’s downloads folder.`);
    const rows = parse(await readFile(await download.path(), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    const sale = rows.find((r) => r.record === 'kind' && r.kind === 'sale');
    const total = rows.find((r) => r.record === 'total');
    // The three payments: €3.00 and €2.25 by keyboard, €1.00 before the log search.
    expect(sale).toMatchObject({
      business_day: day,
      count: '3',
      value_in_minor: '625',
      value_in: '6.25',
      currency: 'EUR',
    });
    expect(total).toMatchObject({ count: '3', value_in: '6.25', value_out: '0.00', net: '6.25' });
  });

  it('checks its own layout: a box that spills out of the screen is caught', async () => {
    expect(await layoutProblems(ui.page)).toEqual([]);
    await ui.page.evaluate(`document.querySelector('#pay-title').textContent = 'W'.repeat(400)`);
    const problems = await layoutProblems(ui.page);
    expect(problems.join('\n')).toMatch(/overflows sideways|scrolls sideways/);
    await ui.page.evaluate(`document.querySelector('#pay-title').textContent = 'Payment'`);
    expect(await layoutProblems(ui.page)).toEqual([]);
  });

  it('made no request to any host but the terminal itself', () => {
    expect(ui.remoteRequests).toEqual([]);
  });
});
