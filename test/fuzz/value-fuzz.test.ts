// Quick run of the value-conservation fuzzer in `npm test`; the soak command runs the same core long.
import { describe, expect, it } from 'vitest';
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { buildFixture } from './fuzz-cards.js';
import { runValueFuzz } from './value-fuzz.js';
import { ValueLedger } from './value-ledger.js';

describe('value across two cards under hostile command sequences', () => {
  it('is never created and never lost beyond recovery', async () => {
    const report = await runValueFuzz({ seed: 6_002, runs: 50 });
    expect(report.failures).toEqual([]);
    expect(report.cases).toBe(50);
    // The sequences did move value, and power was cut at writes.
    expect(report.stats['value transfers and halves completed']).toBeGreaterThan(10);
    expect(report.stats['power cut at a write']).toBeGreaterThan(0);
    expect(report.stats['move forge']).toBeGreaterThan(0);
    // Version 2: releases were tried, and the purse asked for its PIN (9403) above its no-PIN limits.
    expect(report.stats['move release-credit']).toBeGreaterThan(0);
    expect(report.stats['answered 9403']).toBeGreaterThan(0);
  });

  describe('the ledger', () => {
    const { templates } = buildFixture();
    const TX = 'AB'.repeat(16);
    const debited = (s: SettlementState, amount: number): SettlementState => ({
      ...s,
      balance: s.balance - amount,
      debitLog: [
        {
          txRandom: TX,
          payeeId: templates.shop.holderId,
          currency: s.currency,
          amount,
          date: 0,
          transferKeyId: 1,
          status: 'debited',
        },
      ],
    });
    const credited = (s: SettlementState, amount: number): SettlementState => ({
      ...s,
      balance: s.balance + amount,
      creditLog: [
        {
          txRandom: TX,
          payerId: templates.payer.holderId,
          currency: s.currency,
          amount,
          date: 0,
          transferKeyId: 1,
          rxRandom: TX,
          status: 'credited',
        },
      ],
    });
    const start = templates.payer.balance + templates.shop.balance;

    it('counts a debit as in flight until the payee is seen to credit it, also after that record is evicted', () => {
      const ledger = new ValueLedger();
      expect(ledger.total([templates.payer, templates.shop])).toBe(start);
      const payer = debited(templates.payer, 100);
      expect(ledger.total([payer, templates.shop])).toBe(start);
      expect(ledger.total([payer, credited(templates.shop, 100)])).toBe(start);
      // The payee's settled record is evicted while the payer waits for its acknowledgement.
      expect(ledger.total([payer, { ...templates.shop, balance: templates.shop.balance + 100 }])).toBe(start);
    });

    it('shows value created or lost', () => {
      expect(new ValueLedger().total([templates.payer, credited(templates.shop, 100)])).toBe(start + 100);
      expect(new ValueLedger().total([{ ...templates.payer, balance: 0 }, templates.shop])).toBeLessThan(
        start,
      );
    });
  });
});
