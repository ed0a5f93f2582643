// The quick adversary campaign of `npm test` (the long one is `npm run soak`, where a hostile terminal
// visits a quarter of the cases by default): every case here starts with a hostile terminal's visit
// to two cards (adversary-visit.ts), then honest recovery and the checks of adversary-case.ts, then the
// honest operation with its fault. Each deliberately broken card of test/adversary/broken-cards.ts,
// put in the visits, must be caught.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminalError } from '../../protocol/errors.js';
import { BROKEN_CARDS } from '../adversary/broken-cards.js';
import { hostileVisit } from './adversary-visit.js';
import type { CampaignWorld } from './campaign-world.js';
import { type CampaignReport, runCampaign } from './fault-campaign.js';
import { startMemoryWorld } from './memory-world.js';
import { SeededRandom } from './seeded-random.js';

const CASES = 150;

/** The visits are synchronous: let the test runner's worker answer its runner between batches. */
const yieldToRunner = () => new Promise((resolve) => setImmediate(resolve));

describe('quick adversary campaign, memory world', () => {
  let world: CampaignWorld;
  let report: CampaignReport;
  beforeAll(async () => {
    world = await startMemoryWorld({ seed: 20261206 });
    report = await runCampaign(world, {
      seed: 20261206,
      cases: CASES,
      verifyEvery: 10,
      adversary: 1,
      // Strict: a record the terminal's recovery leaves unsettled on a card the hostile terminal
      // touched fails its case (adversary-case.ts, strands), nothing is settled behind its back.
    });
  }, 240_000);
  afterAll(async () => {
    await world?.close();
  });

  it(`runs ${CASES} cases, each after a hostile terminal's visit, with no violation`, () => {
    expect(report.violations).toEqual([]);
    expect(report.cases).toBe(CASES);
    expect(report.adversary.visited).toBeGreaterThan(CASES * 0.8);
  });

  it('the hostile terminal got commands accepted, and every card it touched could pay and be paid 0.01 after recovery', () => {
    expect(report.adversary.commands).toBeGreaterThan(CASES * 3);
    expect(report.adversary.accepted).toBeGreaterThan(CASES / 2);
    expect(report.adversary.payments).toBeGreaterThan(CASES / 3);
    expect(report.outcomes.completed).toBeGreaterThan(CASES / 5);
  });
});

describe('a deliberately broken card in the hostile terminal’s visits is caught', () => {
  let world: CampaignWorld;
  beforeAll(async () => {
    world = await startMemoryWorld({ seed: 5 });
    await world.terminal().engine.updateKeys(); // the two cards in the readers on one transfer key
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  for (const [name, card] of Object.entries(BROKEN_CARDS)) {
    it(`${name}: ${card.what}`, async () => {
      const placed = world.placed();
      const pair = { A: placed.payer, B: placed.payee };
      const transferKey = world.transferKey(pair.A.state().transferKeyId)!;
      const visit = (i: number, broken?: string) =>
        hostileVisit(pair, {
          random: new SeededRandom(i),
          steps: 10,
          transferKey,
          ...(broken ? { broken } : {}),
        }).violations;
      let found: string[] = [];
      for (let i = 0; i < 1000 && found.length === 0; i++) {
        if (i % 50 === 49) await yieldToRunner();
        found = visit(i, name);
      }
      expect(found.length, `no visit caught ${name}`).toBeGreaterThan(0);
      // The real card, visited the same way, holds.
      for (let i = 0; i < 100; i++) {
        if (i % 50 === 49) await yieldToRunner();
        expect(visit(i)).toEqual([]);
      }
    });
  }
});

describe('a second caller on the same terminal (another tab of the browser host, a second window)', () => {
  it('runs one operation at a time: the other is refused E_BUSY before it touches a card, and nothing is lost', async () => {
    const world = await startMemoryWorld({ seed: 9 });
    try {
      const t = world.terminal();
      await t.engine.updateKeys();
      const before = world.cards().map((c) => c.state().balance);
      const runs = await Promise.allSettled([
        t.engine.transfer({ amount: 1 }),
        t.engine.transfer({ amount: 1 }),
      ]);
      const done = runs.filter((r) => r.status === 'fulfilled' && r.value.status === 'completed');
      const busy = runs.filter((r) => r.status === 'rejected' && isTerminalError(r.reason, 'E_BUSY'));
      expect([done.length, busy.length]).toEqual([1, 1]);
      const after = world.cards().map((c) => c.state().balance);
      expect(after.reduce((a, b) => a + b)).toBe(before.reduce((a, b) => a + b));
      expect(after[0]! - before[0]!).toBe(-1); // the payer paid once
      expect(t.recovery.inDoubt().transfers).toEqual([]);
    } finally {
      await world.close();
    }
  }, 60_000);
});
