// `npm run explore -- --depth N [--workers W] [--broken NAME] [--from PATH] [--max-violations K] [--json]`
// `npm run explore -- --replay PATH [--broken NAME]`
//
// The exhaustive bounded exploration of the two-card protocol (docs/safety.md): prints each depth's
// states, moves and time, then the totals; a violation prints the sequence of commands that reaches
// it (each with the card's answer and its APDU), what it violates, and the command that replays it.
// Exits 1 on a violation (expected with --broken, which runs a deliberately broken card).
import { parseArgs } from 'node:util';
import { BROKEN_CARDS, brokenApplets } from './broken-cards.js';
import { type ExploreReport, Explorer, formatPath, parsePath } from './explorer.js';
import { buildExplorerRoot } from './explorer-root.js';
import { startWorkers } from './explorer-workers.js';

const USAGE =
  'usage: npm run explore -- --depth N [--workers W] [--broken NAME] [--from PATH] [--max-violations K] [--json]\n' +
  '       npm run explore -- --replay PATH [--broken NAME]\n' +
  `broken cards: ${Object.keys(BROKEN_CARDS).join(', ')}`;

function printSteps(steps: readonly string[]): void {
  for (const [i, step] of steps.entries()) console.log(`${String(i + 1).padStart(3)}. ${step}`);
}

/** Wall clock and the CPU time of the whole process (every worker thread), for a shared machine's figures. */
const stamp = () => {
  const { user, system } = process.cpuUsage();
  return `${new Date().toISOString()}, process CPU ${((user + system) / 1e6).toFixed(0)} s`;
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      depth: { type: 'string' },
      workers: { type: 'string', default: '1' },
      broken: { type: 'string' },
      from: { type: 'string' },
      replay: { type: 'string' },
      'max-violations': { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < min)
      throw new Error(`--${name} must be an integer ≥ ${min}\n${USAGE}`);
    return n;
  };
  const explorer = new Explorer(await buildExplorerRoot(), brokenApplets(values.broken));
  const broken = values.broken ? ` --broken ${values.broken}` : '';

  if (values.replay !== undefined) {
    const replayed = explorer.replay(parsePath(values.replay));
    if (!replayed)
      throw new Error(`the path ${values.replay} does not replay (another root or another --broken?)`);
    printSteps(replayed.steps);
    const { violations } = await explorer.checkState(replayed.state);
    const all = [...replayed.moveViolations, ...violations];
    for (const v of all) console.log(`VIOLATION: ${v}`);
    console.log(all.length === 0 ? 'every invariant holds in the state it reaches' : '');
    return all.length === 0 ? 0 : 1;
  }

  const depth = int('depth', values.depth, 0);
  const workers = int('workers', values.workers, 1);
  const runner = workers > 1 ? await startWorkers(workers, values.broken) : undefined;
  let report: ExploreReport;
  try {
    report = await explorer.run(depth, {
      ...(values.from !== undefined ? { from: parsePath(values.from) } : {}),
      ...(runner ? { runner } : {}),
      maxViolations: int('max-violations', values['max-violations'], 1),
      checked: (depth, states, ms) => {
        if (!values.json)
          console.log(
            `depth ${String(depth).padStart(2)}: ${String(states).padStart(9)} states checked, ${(ms / 1000).toFixed(1)} s (${stamp()})`,
          );
      },
      passProgress: (depth, pass, done, total, ms) => {
        // A long pass reports about every 5% of its chunks, with its rate so far.
        if (values.json || total < 200 || done % Math.ceil(total / 20) !== 0) return;
        console.log(
          `  depth ${depth} ${pass === 'check' ? 'checks' : 'moves'}: ${done}/${total} chunks, ${(ms / 1000).toFixed(1)} s (${stamp()})`,
        );
      },
      progress: (l) => {
        if (!values.json)
          console.log(
            `depth ${String(l.depth).padStart(2)}: ${String(l.states).padStart(9)} states, ${String(l.transitions).padStart(11)} moves, ${(l.ms / 1000).toFixed(1)} s (checks ${(l.checkMs / 1000).toFixed(1)} s, moves ${((l.ms - l.checkMs) / 1000).toFixed(1)} s; ${stamp()})`,
          );
      },
    });
  } finally {
    await runner?.close();
  }
  if (values.json) console.log(JSON.stringify(report));
  else {
    console.log(
      `depth ${report.depth}${values.broken ? ` (broken card: ${values.broken})` : ''}: ${report.states} states, ${report.transitions} moves (${report.selfLoops} changed nothing, ${report.revisits} reached a known state), ${(report.ms / 1000).toFixed(1)} s with ${workers} worker${workers > 1 ? 's' : ''}`,
    );
    console.log(`residual cases (§10.3, settled by the issuer): ${report.residual.length}`);
    for (const v of report.violations) {
      console.log(`\nVIOLATION after ${v.path.length} moves:`);
      printSteps(v.steps);
      for (const m of v.messages) console.log(`  ✗ ${m}`);
      console.log(`replay: npm run explore -- --replay ${formatPath(v.path)}${broken}`);
    }
    console.log(report.violations.length === 0 ? 'violations: 0' : '');
  }
  return report.violations.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
