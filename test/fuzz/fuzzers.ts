// Every fuzzer core by name, for the soak command: each takes { seed, runs, path? }, is deterministic
// per seed, prints nothing and returns a FuzzReport ({ fuzzer, cases, failures, stats }); a failure's
// seed and path given back to the same core replay exactly that case. Run one core at a time: while a
// case runs, the platform random source is a seeded one (seeded-random.ts), and runs may not overlap.
import { runApduFuzz } from './apdu-fuzz.js';
import { runDerFuzz } from './der-fuzz.js';
import type { FuzzOptions, FuzzReport } from './fuzz-report.js';
import { runHostileFuzz } from './hostile-fuzz.js';
import { runIpcFuzz, runIpcTerminalFuzz } from './ipc-fuzz.js';
import { runValueFuzz } from './value-fuzz.js';

export type { FuzzFailure, FuzzOptions, FuzzReport } from './fuzz-report.js';

export const FUZZERS: Record<string, (opts: FuzzOptions) => Promise<FuzzReport>> = {
  /** Card simulator: hostile APDUs in every state of real sessions (about 30 ms a case). */
  apdu: runApduFuzz,
  /** Two cards under hostile command sequences: value conserved (about 100 ms a case). */
  value: runValueFuzz,
  /** Mutated certificates and CRLs through parsing, the CRL cache and a card (about 5 ms a case). */
  der: runDerFuzz,
  /** Every IPC channel, fake services (about 2 ms a case). */
  ipc: runIpcFuzz,
  /** Every IPC channel, the real services around two simulated cards (about 20 ms a case). */
  'ipc-terminal': runIpcTerminalFuzz,
  /** Hostile cards at random commands of random flows, then recovery (about 250 ms a case). */
  hostile: runHostileFuzz,
};
