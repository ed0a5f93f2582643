// What is left to refund of a sale, from the refunds that name it (the flow table's refund_of index):
// completed and still-open refunds count, one that moved nothing does not, a refund of another sale
// does not; a refund, an unfinished transfer or an unknown flow is no sale to refund; and the check
// never reads every flow of the log.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { refundableSale } from '../../../electron/services/reports/sales.js';
import { isTerminalError } from '../../../protocol/errors.js';
import { ALICE, type JournalWorld, journalWorld, SHOP } from './journal-world.js';

let world: JournalWorld;
afterEach(() => world?.close());

describe('what is left to refund of a sale', () => {
  it('counts completed and open refunds of that sale only, without reading the whole log', () => {
    world = journalWorld();
    world.transfer('sale', '2026-07-14T09:00:00.000Z', 10_00);
    world.transfer('other-sale', '2026-07-14T09:01:00.000Z', 5_00);
    for (let i = 0; i < 20; i++)
      world.transfer(`noise-${i}`, `2026-07-14T09:02:${String(i).padStart(2, '0')}.000Z`, 1);
    world.transfer('r1', '2026-07-14T10:00:00.000Z', 2_00, { refundOf: 'sale' });
    world.transfer('r-refused', '2026-07-14T10:01:00.000Z', 3_00, {
      refundOf: 'sale',
      end: 'failed-no-value-moved',
    });
    world.transfer('r-open', '2026-07-14T10:02:00.000Z', 1_00, { refundOf: 'sale', end: 'in-doubt' });
    world.transfer('r-other', '2026-07-14T10:03:00.000Z', 5_00, { refundOf: 'other-sale' });
    const all = vi.spyOn(world.flows, 'all');
    const entries = vi.spyOn(world.journal, 'entriesForFlow');
    const r = refundableSale(world.journal, world.flows, 'sale');
    expect(r).toMatchObject({ refunded: 3_00, left: 7_00 });
    expect(r.sale).toMatchObject({ flowId: 'sale', amount: 10_00, customerId: ALICE, shopId: SHOP });
    expect(refundableSale(world.journal, world.flows, 'other-sale')).toMatchObject({
      refunded: 5_00,
      left: 0,
    });
    expect(all).not.toHaveBeenCalled();
    // The sale and its three refunds, then the other sale and its one: six folds, not 27.
    expect(entries).toHaveBeenCalledTimes(6);
  });

  it('refuses what is no completed sale, and changes nothing', () => {
    world = journalWorld();
    world.transfer('sale', '2026-07-14T09:00:00.000Z', 10_00);
    world.transfer('refund', '2026-07-14T10:00:00.000Z', 1_00, { refundOf: 'sale' });
    world.transfer('unfinished', '2026-07-14T11:00:00.000Z', 1_00, { end: 'in-doubt' });
    const head = world.journal.head();
    for (const [id, why] of [
      ['refund', /is itself a refund/],
      ['unfinished', /did not complete/],
      ['no-such-flow', /not in the transaction log/],
    ] as const) {
      let error: unknown;
      try {
        refundableSale(world.journal, world.flows, id);
      } catch (e) {
        error = e;
      }
      expect(isTerminalError(error, 'E_INPUT_INVALID'), id).toBe(true);
      expect(String((error as Error).message)).toMatch(why);
    }
    expect(world.journal.head()).toEqual(head);
  });
});
