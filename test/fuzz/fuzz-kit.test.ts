// The fuzzers' shared kit: a failing case is reported with what replays it, and a seed replays the
// same random bytes (keys, card randoms) while the platform source is left as it was.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { checkProperty, invariant } from './fuzz-report.js';
import { withSeededRandom } from './seeded-random.js';

describe('checkProperty', () => {
  const property = fc.property(fc.nat({ max: 1000 }), (n) => invariant(n < 600, `${n} is too large`));

  it('reports a failure with its seed, path and shrunk counterexample, and the path replays it', async () => {
    const report = await checkProperty('demo', property, { seed: 42, runs: 200 });
    expect(report).toMatchObject({ fuzzer: 'demo', failures: [{ seed: 42, counterexample: '[600]' }] });
    const [failure] = report.failures;
    expect(failure!.message).toBe('600 is too large');
    const replay = await checkProperty('demo', property, { seed: 42, runs: 200, path: failure!.path! });
    expect(replay.failures).toMatchObject([{ counterexample: '[600]' }]);
    expect(replay.cases).toBeLessThan(report.cases + 1);
  });

  it('reports no failure and the number of cases when the property holds', async () => {
    const report = await checkProperty(
      'demo',
      fc.property(fc.nat(), () => undefined),
      { seed: 1, runs: 50 },
    );
    expect(report).toEqual({ fuzzer: 'demo', cases: 50, failures: [], stats: {} });
  });
});

describe('withSeededRandom', () => {
  it('replays the same bytes for the same seed, other bytes for another, and restores the platform source', async () => {
    const a = await withSeededRandom(7, () => randomBytes(32));
    const b = await withSeededRandom(7, () => randomBytes(32));
    const c = await withSeededRandom(8, () => randomBytes(32));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(Object.hasOwn(globalThis.crypto, 'getRandomValues')).toBe(false);
    expect(randomBytes(32)).not.toEqual(a);
  });

  it('refuses overlapping runs, and restores the source after a failure', async () => {
    const outer = withSeededRandom(1, () => new Promise((resolve) => setTimeout(resolve, 10)));
    await expect(withSeededRandom(2, () => undefined)).rejects.toThrow(/overlap/);
    await outer;
    await expect(
      withSeededRandom(3, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(Object.hasOwn(globalThis.crypto, 'getRandomValues')).toBe(false);
  });
});
