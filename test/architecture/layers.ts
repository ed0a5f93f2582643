// Which part of the project may import which (the direction of dependencies, STYLE.md): protocol/
// at the bottom; the neutral tooling/ beside it; card-sim/ and db/ on it; the terminal (electron/)
// and the issuer host (issuer-host/) above them; the demo shop, which wires both in one process,
// above those; tests and benchmarks on top. Nothing imports upward.
//
// Every source file belongs to exactly one layer (the first whose pattern matches); a file in no
// layer is itself a violation, so a new top-level folder must be placed here before it is used.
import type { ProjectImport } from './import-graph.js';

export interface Layer {
  name: string;
  /** Files of this layer: path prefixes ending in '/', or exact paths. */
  files: readonly string[];
  /** Layers this one may import (its own files always). */
  mayImport: readonly string[];
  why: string;
}

export const LAYERS: readonly Layer[] = [
  {
    name: 'renderer-safe protocol',
    files: ['protocol/amount.ts', 'protocol/money-format.ts'],
    mayImport: [],
    why: 'the IPC contract bundles it into the renderer: pure, no Node.js, nothing of the project',
  },
  {
    name: 'protocol',
    files: ['protocol/'],
    mayImport: ['renderer-safe protocol'],
    why: 'what card and terminal share: the bottom of the project, it imports nothing of it',
  },
  {
    name: 'tooling',
    files: ['tooling/'],
    mayImport: ['protocol', 'renderer-safe protocol'],
    why: 'plumbing shared by every program (CLI parsing, the lock between processes): a neutral leaf',
  },
  {
    name: 'db',
    files: ['db/'],
    mayImport: ['protocol', 'renderer-safe protocol'],
    why: "the terminal's SQLite layer sits on protocol/ only",
  },
  {
    name: 'card-sim',
    files: ['card-sim/'],
    mayImport: ['protocol', 'renderer-safe protocol', 'tooling'],
    why: 'the simulator never depends on the code that drives it (jCardSim)',
  },
  {
    name: 'issuer-host',
    files: ['issuer-host/'],
    mayImport: ['protocol', 'renderer-safe protocol', 'db', 'card-sim', 'tooling'],
    why: "the issuer's home: it never depends on a terminal",
  },
  {
    name: 'terminal services',
    files: ['electron/services/'],
    mayImport: ['protocol', 'renderer-safe protocol', 'db', 'ipc contract', 'tooling'],
    why: 'the terminal sees cards only through protocol/ interfaces, and the issuer only through its port',
  },
  {
    name: 'ipc contract',
    files: [
      'electron/ipc/contract.ts',
      'electron/ipc/contract-parts.ts',
      'electron/ipc/contract-shop.ts',
      'electron/ipc/bridge.ts',
      'electron/ipc/documents.ts',
      'electron/ipc/shop-flow.ts',
    ],
    mayImport: ['renderer-safe protocol'],
    why: 'the renderer bundles it: zod and pure modules only',
  },
  {
    name: 'terminal hosts',
    files: ['electron/host/', 'electron/cli/', 'electron/console/', 'electron/main.ts', 'electron/start.ts'],
    mayImport: [
      'terminal',
      'terminal services',
      'ipc contract',
      'protocol',
      'renderer-safe protocol',
      'db',
      'tooling',
      'card-sim',
      'demo',
    ],
    why: 'each host hands the services a simulated-card factory and may start the demo shop',
  },
  {
    name: 'terminal',
    files: ['electron/'],
    mayImport: [
      'terminal hosts',
      'terminal services',
      'ipc contract',
      'protocol',
      'renderer-safe protocol',
      'db',
    ],
    why: 'the IPC handlers and the Electron shell work on the services, never on a simulated card',
  },
  {
    name: 'demo',
    files: ['demo/'],
    mayImport: [
      'terminal services',
      'protocol',
      'renderer-safe protocol',
      'db',
      'tooling',
      'card-sim',
      'issuer-host',
    ],
    why: 'the all-in-one demo shop: issuer and terminal wired together in one process',
  },
  {
    name: 'renderer',
    files: ['renderer/'],
    mayImport: ['ipc contract', 'renderer-safe protocol'],
    why: 'the operator screen knows the main process only through the IPC contract',
  },
  { name: 'test', files: ['test/'], mayImport: ['*'], why: 'tests reach everything' },
  { name: 'bench', files: ['bench/'], mayImport: ['*'], why: 'benchmarks reach everything' },
  {
    name: 'build configuration',
    files: ['vite.config.ts', 'vitest.config.ts'],
    mayImport: ['*'],
    why: 'tool configuration at the root',
  },
];

export function layerOf(file: string, layers: readonly Layer[] = LAYERS): Layer | undefined {
  return layers.find((l) => l.files.some((f) => (f.endsWith('/') ? file.startsWith(f) : file === f)));
}

/** One line per import that breaks the rules, or per file that belongs to no layer. */
export function violations(
  files: readonly string[],
  imports: readonly ProjectImport[],
  layers: readonly Layer[] = LAYERS,
): string[] {
  const out: string[] = [];
  for (const file of files) {
    if (!layerOf(file, layers))
      out.push(`${file}: belongs to no layer (add it to test/architecture/layers.ts)`);
  }
  for (const i of imports) {
    const at = `${i.from}:${i.line} imports '${i.specifier}'`;
    if (i.to === undefined) {
      out.push(`${at}, which names no file`);
      continue;
    }
    const from = layerOf(i.from, layers);
    const to = layerOf(i.to, layers);
    if (!from || !to || from === to || from.mayImport.includes('*') || from.mayImport.includes(to.name))
      continue;
    out.push(`${at}: ${from.name} may not import ${to.name} (${from.name}: ${from.why})`);
  }
  return out;
}
