// The log as the operator pages and searches it: newest first, "older" only when an older entry
// exists (also when the last page is exactly full), whole flows found through the log's indexes by a
// holder's name, an item's label, an amount as typed in the shop's locale, a flow ID or the sale a
// refund names, flows that interleave shown flow by flow, and no read of the whole log.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { journalFactsSource } from '../../../electron/services/reports/journal-facts.js';
import { transactionLog } from '../../../electron/services/reports/transaction-log.js';
import { BOB, exchangeSteps, type JournalWorld, journalWorld } from './journal-world.js';

let world: JournalWorld;
afterEach(() => world?.close());

function log(locale = 'en-IE') {
  return transactionLog({
    journal: world.journal,
    source: journalFactsSource(world.journal, world.flows),
    money: { currencyCode: 'EUR', minorUnits: 2, locale },
  });
}

/** Every page of a query, following nextBeforeSeq: the seqs of each. */
function allPages(l: ReturnType<typeof log>, limit: number, search?: string): number[][] {
  const pages: number[][] = [];
  let beforeSeq: number | undefined;
  for (;;) {
    const page = l.page({ limit, beforeSeq, search });
    pages.push(page.records.map((r) => r.seq));
    if (page.nextBeforeSeq === undefined) return pages;
    beforeSeq = page.nextBeforeSeq;
  }
}

describe('the transaction log', () => {
  it('offers an older page only when there is one, also when the last page is exactly full', () => {
    world = journalWorld();
    for (let i = 0; i < 5; i++) world.transfer(`f${i}`, `2026-07-14T09:0${i}:00.000Z`, 100 + i); // 2 entries each
    expect(allPages(log(), 5)).toEqual([
      [10, 9, 8, 7, 6],
      [5, 4, 3, 2, 1],
    ]);
    expect(allPages(log(), 10)).toEqual([[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]);
    expect(allPages(log(), 3).at(-1)).toEqual([1]);
    // A search whose matches fill exactly one page: no empty second page either.
    expect(allPages(log(), 4, '1.01')).toEqual([[4, 3]]);
    expect(allPages(log(), 2, 'alice')).toEqual([
      [10, 9],
      [8, 7],
      [6, 5],
      [4, 3],
      [2, 1],
    ]);
  });

  it('finds whole flows by a holder’s name, an item, a typed amount, a flow ID and a refunded sale', () => {
    world = journalWorld();
    world.transfer('sale-a', '2026-07-14T09:00:00.000Z', 1_000_00);
    world.transfer('sale-b', '2026-07-14T09:01:00.000Z', 12_50, { payer: BOB });
    world.flow(
      'swap',
      'content-exchange',
      exchangeSteps('2026-07-14T09:02:00.000Z', 15_00, 'Concert 24 Dec'),
    );
    world.transfer('refund-b', '2026-07-14T09:03:00.000Z', 12_50, { refundOf: 'sale-b' });
    const flowsOf = (search: string, locale?: string) => [
      ...new Set(
        log(locale)
          .page({ limit: 50, search })
          .records.map((r) => r.flowId),
      ),
    ];
    expect(flowsOf('bob')).toEqual(['sale-b']);
    expect(flowsOf('concert')).toEqual(['swap']);
    expect(flowsOf('12.50')).toEqual(['refund-b', 'sale-b']);
    expect(flowsOf('12,50')).toEqual(['refund-b', 'sale-b']);
    expect(flowsOf('1,000.00')).toEqual(['sale-a']);
    expect(flowsOf('1.000,00', 'de-DE')).toEqual(['sale-a']);
    expect(flowsOf('1000')).toEqual(['sale-a']);
    expect(flowsOf('15')).toEqual(['swap']);
    expect(flowsOf('sale-b')).toEqual(['refund-b', 'sale-b']);
    expect(flowsOf('refund')).toEqual(['refund-b']);
    expect(flowsOf('nothing like it')).toEqual([]);
    const page = log().page({ limit: 50, search: '12.50' });
    expect(page.search).toEqual({ text: '12.50', amount: 12_50 });
    expect(page.records.every((r) => r.flow?.amount === 12_50)).toBe(true);
    // Each flow's entries come whole, newest first.
    expect(page.records.map((r) => `${r.flowId}:${r.step}`)).toEqual([
      'refund-b:completed',
      'refund-b:started',
      'sale-b:completed',
      'sale-b:started',
    ]);
  });

  it('shows flows that interleave whole, newest flow first, each flow’s newest entry first', () => {
    world = journalWorld();
    world.flow('a', 'value-transfer', [
      ['2026-07-14T09:00:00.000Z', 'started', { amount: 5, payerId: 'AA', payeeId: 'BB', payerLabel: 'Ann' }],
    ]);
    world.flow('b', 'value-transfer', [
      ['2026-07-14T09:00:01.000Z', 'started', { amount: 5, payerId: 'AA', payeeId: 'BB', payerLabel: 'Ann' }],
    ]);
    world.flow('a', 'value-transfer', [['2026-07-14T09:00:02.000Z', 'rolled-back', {}]]);
    world.flow('b', 'value-transfer', [['2026-07-14T09:00:03.000Z', 'completed', {}]]);
    // A search pages by flow (the index's order: a flow's first entry), never splitting a flow
    // across pages it does not fill: b (entries 2, 4), then a (1, 3).
    expect(allPages(log(), 3, 'ann')).toEqual([[4, 2, 3], [1]]);
    expect(allPages(log(), 2, 'ann')).toEqual([
      [4, 2],
      [3, 1],
    ]);
  });

  it('reads only the flows it shows: never every flow of the log', () => {
    world = journalWorld();
    for (let i = 0; i < 30; i++)
      world.transfer(`f${i}`, `2026-07-14T09:${String(i).padStart(2, '0')}:00.000Z`, 100 + i);
    const all = vi.spyOn(world.flows, 'all');
    const entries = vi.spyOn(world.journal, 'entriesForFlow');
    const l = log();
    expect(l.page({ limit: 4 }).records).toHaveLength(4);
    expect(l.page({ limit: 4, search: 'alice' }).records).toHaveLength(4);
    expect(new Set(l.page({ limit: 50, search: '1.05' }).records.map((r) => r.flowId))).toEqual(
      new Set(['f5']),
    );
    expect(all).not.toHaveBeenCalled();
    // Facts folded for the flows on the pages (2 + 2 + 1), not for the 30 in the log.
    expect(entries.mock.calls.length).toBeLessThanOrEqual(5);
  });
});
