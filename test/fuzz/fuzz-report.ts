// What every fuzzer core returns, and the one place a fast-check run becomes that report. Cores are
// print-free and deterministic per seed: a failure carries the seed, the fast-check path and the
// shrunk counterexample, and `{ seed, path }` given back to the same core replays exactly that case.
import fc from 'fast-check';

export interface FuzzOptions {
  seed: number;
  runs: number;
  /** fast-check replay path of a reported failure (with its seed): runs that one case. */
  path?: string;
}

export interface FuzzFailure {
  seed: number;
  path: string | undefined;
  /** The shrunk input, printed by fast-check (bytes as arrays). */
  counterexample: string;
  message: string;
}

export interface FuzzReport {
  fuzzer: string;
  cases: number;
  failures: FuzzFailure[];
  /** What the run exercised (hostile commands sent, answers by status word...), for the soak's summary. */
  stats: Record<string, number>;
}

/** Counters a core fills while it runs (across all cases, shrinking included). */
export class FuzzStats {
  readonly counts: Record<string, number> = {};
  add(key: string, n = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }
}

/** Runs a property with the options' seed and run count and reports instead of throwing. */
export async function checkProperty<Ts>(
  fuzzer: string,
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  opts: FuzzOptions,
  stats: FuzzStats = new FuzzStats(),
): Promise<FuzzReport> {
  const details = await fc.check(property as fc.IRawProperty<Ts>, {
    seed: opts.seed,
    numRuns: opts.runs,
    path: opts.path,
  });
  if (!details.failed) return { fuzzer, cases: details.numRuns, failures: [], stats: stats.counts };
  const error = details.errorInstance;
  return {
    fuzzer,
    cases: details.numRuns,
    stats: stats.counts,
    failures: [
      {
        seed: details.seed,
        path: details.counterexamplePath ?? undefined,
        counterexample: fc.stringify(details.counterexample),
        message: error instanceof Error ? error.message : String(error),
      },
    ],
  };
}

/** Thrown by a property when an invariant does not hold; the message names the invariant. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}
