// The exhaustive bounded exploration of the two-card protocol (docs/safety.md): every sequence of up
// to `depth` commands of the hostile terminal's alphabet (alphabet.ts), each under every power plan
// (world-step.ts), from the root (explorer-root.ts), breadth-first, with states deduplicated up to
// the names of their randoms (world-state.ts, canonicalHash), and every invariant checked in every
// state (invariants.ts, honest-recovery.ts) and on every move (world-step.ts).
//
// A path is the list of moves from the root, each the index of its command in the state's alphabet
// times the number of power plans plus the plan's index: the alphabet is a function of the state, so
// a path replays exactly (`npm run explore -- --replay <path>`), and breadth-first order makes the
// first violation found one of the shortest. The frontier keeps paths, not states (a state is two
// card images, a path a few numbers): each state is rebuilt by replay when its turn comes, checked,
// and expanded. Chunks of a level can run in worker threads (explorer-workers.ts); the results are
// put together in frontier order, so a run's states, order and report do not depend on the workers.
import { toHex } from '../../protocol/bytes.js';
import {
  apduOf,
  type Command,
  describeCommand,
  enumerateCommands,
  FORGED_RR,
  FORGED_RT,
} from './alphabet.js';
import { BoundedCache } from './bounded-cache.js';
import type { AppletFactory } from './explorer-card.js';
import type { ExplorerRoot } from './explorer-root.js';
import { HonestRecoveryCheck, type RecoveryVerdict } from './honest-recovery.js';
import { StateChecks } from './invariants.js';
import {
  canonicalHash,
  canonicalHashReference,
  initialState,
  recordsOf,
  type Side,
  totalValue,
  type WorldState,
  ZERO_RR,
} from './world-state.js';
import { describePower, POWER_PLANS, TwoCardWorld } from './world-step.js';

export interface LevelReport {
  depth: number;
  /** States first reached at this depth (checked). */
  states: number;
  /** Moves made from them (0 at the last depth: its states are checked, not expanded). */
  transitions: number;
  ms: number;
  /** Of which checking the level's states (the rest: making the moves from them). */
  checkMs: number;
}

export interface Violation {
  path: number[];
  /** Each move as a person reads it, with the card's answer and the APDU. */
  steps: string[];
  messages: string[];
}

export interface ExploreReport {
  depth: number;
  states: number;
  transitions: number;
  /** Moves that changed nothing (refusals and the like). */
  selfLoops: number;
  /** Moves to a state already seen. */
  revisits: number;
  levels: LevelReport[];
  residual: string[];
  violations: Violation[];
  ms: number;
  /** The path to each state, in the order reached (with `collectPaths`). */
  paths?: number[][];
}

/** What one chunk of a level gives back. */
export interface ChunkResult {
  transitions: number;
  selfLoops: number;
  revisits: number;
  /** New successors (not in the visited set the chunk saw), as [hash, path], deduplicated within the chunk. */
  successors: [string, number[]][];
  violations: Violation[];
  residual: string[];
}

/**
 * What a pass over a level does: check every state, or make every move from every state. A level
 * is checked whole before any move is made from it, so a run stopped while it expands a level has
 * still checked every state of it (and printed so).
 */
export type Pass = 'check' | 'expand';

/** Runs chunks of a level: in this thread, or in worker threads. */
export interface ChunkRunner {
  /** `done` is told the number of chunks finished so far, as they finish. */
  run(chunks: number[][][], pass: Pass, done?: (chunks: number) => void): Promise<ChunkResult[]>;
  /** States found at the last level: successors already visited are not sent back any more. */
  addVisited(hashes: readonly string[]): void;
  close(): Promise<void>;
}

export interface RunOptions {
  /** Start from the state this path reaches (its moves count toward the depth). */
  from?: number[];
  runner?: ChunkRunner;
  maxViolations?: number;
  progress?: (level: LevelReport) => void;
  /** Called when every state of a level is checked (before the moves from them are made). */
  checked?: (depth: number, states: number, ms: number) => void;
  /** Called as chunks of a pass finish: how far the pass is (for a long level's rate). */
  passProgress?: (depth: number, pass: Pass, done: number, total: number, ms: number) => void;
  /** Report the path to every state reached (for tests: a few thousand states). */
  collectPaths?: boolean;
}

export const PLANS = POWER_PLANS.length;
const NO_OWNER = { A: false, B: false } as const;
const NO_COUNTS = { A: { total: 0, count: 0 }, B: { total: 0, count: 0 } } as const;
const CHUNK = 64;
/** Recovery verdicts remembered per generation (bounded-cache.ts). */
const RECOVERY_LIMIT = 300_000;
/** A state of nothing but two cards' memory (to name what an honest terminal finds on them). */
const initialBare: WorldState = {
  images: { A: '', B: '' },
  owner: NO_OWNER,
  noPin: NO_COUNTS,
  issued: [],
  archive: [],
};

export class Explorer {
  readonly world: TwoCardWorld;
  readonly start: WorldState;
  readonly initialTotal: number;
  private readonly checks: StateChecks;
  private readonly recovery: HonestRecoveryCheck;
  /** Randoms the terminal knows from outside the sequence (the root's, the forged ones): never renamed. */
  private readonly fixed: Set<string>;
  private readonly recoveryVerdicts: BoundedCache<string, RecoveryVerdict>;
  private readonly plain: boolean;
  /** States of recently rebuilt paths (stateOf). */
  private readonly states = new Map<string, WorldState>();

  constructor(
    readonly root: ExplorerRoot,
    applets: Partial<Record<Side, AppletFactory>> = {},
    o: {
      executeTears?: boolean;
      /** Remember nothing across states and moves (every cache off): the caches' own test. */
      plain?: boolean;
    } = {},
  ) {
    this.plain = o.plain ?? false;
    this.world = new TwoCardWorld(root, applets, o.executeTears, this.plain);
    this.start = initialState(root.images);
    this.initialTotal = totalValue(this.start);
    this.checks = new StateChecks(root, this.initialTotal, this.plain);
    this.recoveryVerdicts = new BoundedCache(RECOVERY_LIMIT, this.plain);
    this.recovery = new HonestRecoveryCheck(root, this.initialTotal, applets, {
      plain: this.plain,
      hashCards: (images) => this.hash({ ...initialBare, images }),
    });
    this.fixed = new Set([FORGED_RT, FORGED_RR, ZERO_RR]);
    for (const a of recordsOf(this.start)) {
      this.fixed.add(a.record.txRandom);
      if (a.record.rxRandom) this.fixed.add(a.record.rxRandom);
    }
  }

  /** Deduplication key: the state up to the names of the randoms made during the sequence. */
  hash(s: WorldState): string {
    return this.plain ? canonicalHashReference(s, this.fixed) : canonicalHash(s, this.fixed);
  }

  /** Rebuilds the state a path reaches, with each move described; undefined past a move that does not apply. */
  replay(
    path: readonly number[],
  ): { state: WorldState; steps: string[]; moveViolations: string[] } | undefined {
    let state = this.start;
    const steps: string[] = [];
    const moveViolations: string[] = [];
    for (const move of path) {
      const command = enumerateCommands(state, this.root)[Math.floor(move / PLANS)];
      const next = command && this.world.apply(state, command, move % PLANS);
      if (!command || !next) return undefined;
      const sw = next.answer.torn ? 'no answer' : next.answer.sw?.toString(16).toUpperCase().padStart(4, '0');
      steps.push(
        `${describeCommand(command)}${describePower(POWER_PLANS[move % PLANS]!)} → ${sw}   [${toHex(apduOf(command, this.root))}]`,
      );
      moveViolations.push(...next.violations);
      state = next.state;
    }
    return { state, steps, moveViolations };
  }

  /**
   * The state a path reaches, from the state of its prefix when that was rebuilt lately (a chunk's
   * paths are mostly siblings: one move each from a common parent).
   */
  stateOf(path: readonly number[]): WorldState | undefined {
    if (path.length === 0) return this.start;
    const key = formatPath(path);
    const known = this.states.get(key);
    if (known) return known;
    const parent = this.stateOf(path.slice(0, -1));
    const move = path[path.length - 1]!;
    const command = parent && enumerateCommands(parent, this.root)[Math.floor(move / PLANS)];
    const next = parent && command && this.world.apply(parent, command, move % PLANS);
    if (!next) return undefined;
    if (this.states.size >= 5_000) this.states.clear();
    this.states.set(key, next.state);
    return next.state;
  }

  /** Every check of a state: the invariants, then recovery and an honest transfer both ways. */
  async checkState(s: WorldState): Promise<{ violations: string[]; residual: string[] }> {
    const violations = this.checks.check(s);
    // Recovery sees only the cards' memory (and, for the residual case, what they evicted): states
    // that differ in owner level, the explorer's counters or what the terminal saw share its verdict.
    const key = this.hash({ ...s, owner: NO_OWNER, noPin: NO_COUNTS, issued: [] });
    let recovery = this.recoveryVerdicts.get(key);
    if (!recovery) {
      recovery = await this.recovery.check(s);
      this.recoveryVerdicts.set(key, recovery);
    }
    return { violations: [...violations, ...recovery.violations], residual: recovery.residual };
  }

  /** Checks the state of each path, or makes every move from it. */
  async processChunk(
    paths: readonly number[][],
    pass: Pass,
    visited: ReadonlySet<string>,
  ): Promise<ChunkResult> {
    const result: ChunkResult = {
      transitions: 0,
      selfLoops: 0,
      revisits: 0,
      successors: [],
      violations: [],
      residual: [],
    };
    const seen = new Set<string>();
    for (const path of paths) {
      const state = this.stateOf(path)!;
      if (pass === 'check') {
        const verdict = await this.checkState(state);
        result.residual.push(...verdict.residual);
        if (verdict.violations.length > 0) result.violations.push(this.violation(path, verdict.violations));
        continue;
      }
      const commands = enumerateCommands(state, this.root);
      for (let i = 0; i < commands.length; i++) {
        // The power plans of one command often lead to one state (the same memory, no owner level).
        let last: { state: WorldState; hash: string } | undefined;
        for (const succ of this.world.successors(state, commands[i]!)) {
          result.transitions++;
          const move = [...path, i * PLANS + succ.power];
          if (succ.violations.length > 0) {
            result.violations.push(this.violation(move, succ.violations));
            continue;
          }
          if (succ.selfLoop) {
            result.selfLoops++;
            continue;
          }
          const h =
            last && !this.plain && sameState(last.state, succ.state) ? last.hash : this.hash(succ.state);
          last = { state: succ.state, hash: h };
          if (visited.has(h) || seen.has(h)) {
            result.revisits++;
            continue;
          }
          seen.add(h);
          result.successors.push([h, move]);
        }
      }
    }
    return result;
  }

  /** The path of a sequence of commands, each the first of its state's alphabet that `pick` accepts (no power loss). */
  pathOf(picks: readonly ((c: Command, state: WorldState) => boolean)[]): number[] {
    const path: number[] = [];
    let state = this.start;
    for (const pick of picks) {
      const commands = enumerateCommands(state, this.root);
      const here = state;
      const i = commands.findIndex((c) => pick(c, here));
      if (i < 0) throw new Error(`no command of step ${path.length + 1} matches`);
      state = this.world.apply(state, commands[i]!, 0)!.state;
      path.push(i * PLANS);
    }
    return path;
  }

  /**
   * Explores `depth` moves from the root (or from the state `from` reaches: its moves count), in this
   * thread or with `runner`; stops after `maxViolations` (default 1).
   */
  async run(depth: number, o: RunOptions = {}): Promise<ExploreReport> {
    // Cards refuse most of the alphabet by throwing a status-word error: without stack traces that
    // costs a tenth as much. Restored when the run ends.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return await this.explore(
        depth,
        o.from ?? [],
        o.runner ?? this.inProcess(),
        o.maxViolations ?? 1,
        o.progress,
        o.checked,
        o.passProgress,
        o.collectPaths ?? false,
      );
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  private inProcess(): ChunkRunner {
    const visited = new Set<string>();
    return {
      run: async (chunks, pass, done) => {
        const out: ChunkResult[] = [];
        for (const chunk of chunks) {
          out.push(await this.processChunk(chunk, pass, visited));
          done?.(out.length);
        }
        return out;
      },
      addVisited: (hashes) => {
        for (const h of hashes) visited.add(h);
      },
      close: async () => {},
    };
  }

  private async explore(
    depth: number,
    from: number[],
    runner: ChunkRunner,
    maxViolations: number,
    progress: ((l: LevelReport) => void) | undefined,
    checked: ((depth: number, states: number, ms: number) => void) | undefined,
    passProgress: RunOptions['passProgress'],
    collectPaths: boolean,
  ): Promise<ExploreReport> {
    const started = performance.now();
    const report: ExploreReport = {
      depth,
      states: 0,
      transitions: 0,
      selfLoops: 0,
      revisits: 0,
      levels: [],
      residual: [],
      violations: [],
      ms: 0,
      ...(collectPaths ? { paths: [] } : {}),
    };
    const start = this.replay(from);
    if (!start) throw new Error(`the path ${formatPath(from)} does not replay`);
    const rootHash = this.hash(start.state);
    const visited = new Set<string>([rootHash]);
    runner.addVisited([rootHash]);
    let frontier: number[][] = [from];
    const chunksOf = (paths: number[][]) => {
      const chunks: number[][][] = [];
      for (let i = 0; i < paths.length; i += CHUNK) chunks.push(paths.slice(i, i + CHUNK));
      return chunks;
    };
    const pass = (d: number, which: Pass, paths: number[][]) => {
      const chunks = chunksOf(paths);
      const begun = performance.now();
      return runner.run(chunks, which, (done) =>
        passProgress?.(d, which, done, chunks.length, performance.now() - begun),
      );
    };
    for (let d = from.length; d <= depth && frontier.length > 0; d++) {
      const levelStart = performance.now();
      report.paths?.push(...frontier);
      const level: LevelReport = { depth: d, states: frontier.length, transitions: 0, ms: 0, checkMs: 0 };
      const failed = new Set<string>();
      for (const r of await pass(d, 'check', frontier)) {
        report.residual.push(...r.residual);
        report.violations.push(...r.violations);
        for (const v of r.violations) failed.add(formatPath(v.path));
      }
      level.checkMs = performance.now() - levelStart;
      checked?.(d, level.states, level.checkMs);
      const next: number[][] = [];
      const fresh: string[] = [];
      if (d < depth && report.violations.length < maxViolations) {
        // A state that breaks an invariant is reported, not explored further.
        const sound = failed.size === 0 ? frontier : frontier.filter((p) => !failed.has(formatPath(p)));
        for (const r of await pass(d, 'expand', sound)) {
          level.transitions += r.transitions;
          report.selfLoops += r.selfLoops;
          report.revisits += r.revisits;
          report.violations.push(...r.violations);
          for (const [h, path] of r.successors) {
            if (visited.has(h)) {
              report.revisits++;
              continue;
            }
            visited.add(h);
            fresh.push(h);
            next.push(path);
          }
        }
      }
      level.ms = performance.now() - levelStart;
      report.levels.push(level);
      report.states += level.states;
      report.transitions += level.transitions;
      progress?.(level);
      if (report.violations.length >= maxViolations) break;
      runner.addVisited(fresh);
      frontier = next;
    }
    report.violations = report.violations.slice(0, maxViolations);
    report.ms = performance.now() - started;
    return report;
  }

  private violation(path: number[], messages: string[]): Violation {
    return { path, steps: this.replay(path)?.steps ?? [], messages };
  }
}

/** The same fields (hashed alike): a shortcut only, never a test of difference. */
function sameState(x: WorldState, y: WorldState): boolean {
  if (x === y) return true;
  if (x.images.A !== y.images.A || x.images.B !== y.images.B) return false;
  if (x.owner.A !== y.owner.A || x.owner.B !== y.owner.B) return false;
  for (const side of ['A', 'B'] as const)
    if (x.noPin[side].total !== y.noPin[side].total || x.noPin[side].count !== y.noPin[side].count)
      return false;
  const same = <T>(a: readonly T[], b: readonly T[]) =>
    a === b || (a.length === b.length && a.every((v, i) => v === b[i]));
  return same(x.issued, y.issued) && same(x.archive, y.archive);
}

/** A path as the command line takes it: moves joined by dots. */
export const formatPath = (path: readonly number[]) => path.join('.');
export const parsePath = (text: string) => (text === '' ? [] : text.split('.').map(Number));
