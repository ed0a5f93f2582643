// Quick run of the randomized hostile-card core in `npm test` (both cards may lie, at any occurrence
// of any command of any flow); the soak command runs the same core long.
import { describe, expect, it } from 'vitest';
import { runHostileFuzz } from './hostile-fuzz.js';

describe('hostile cards at random commands of random flows', () => {
  it('the terminal refuses cleanly, keeps value and tickets safe, and recovery settles everything', async () => {
    const report = await runHostileFuzz({ seed: 6_006, runs: 10 });
    expect(report.failures).toEqual([]);
    expect(report.cases).toBe(10);
    expect(report.stats['a card lied']).toBeGreaterThan(0);
  });
});
