// Dependencies point one way (test/architecture/layers.ts says which): checked over every source
// file of the project, and shown to catch each kind of forbidden import on a small fixture tree.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { projectImports, sourceFiles, specifiersOf } from './import-graph.js';
import { LAYERS, layerOf, violations } from './layers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function check(root: string): string[] {
  return violations(sourceFiles(root), projectImports(root));
}

describe('the direction of dependencies', () => {
  it('holds for every source file of the project', () => {
    expect(check(ROOT)).toEqual([]);
  });

  it('reads the whole project: every layer has files, and the imports between them are seen', () => {
    const files = sourceFiles(ROOT);
    expect(files.length).toBeGreaterThan(250);
    for (const layer of LAYERS)
      expect(
        files.some((f) => layerOf(f) === layer),
        layer.name,
      ).toBe(true);
    const imports = projectImports(ROOT);
    // Spot checks that the reader sees what the rules rely on.
    expect(imports).toContainEqual(
      expect.objectContaining({ from: 'electron/main.ts', to: 'card-sim/card-files.ts' }),
    );
    expect(imports).toContainEqual(
      expect.objectContaining({ from: 'renderer/src/terminal-api.ts', to: 'electron/ipc/contract.ts' }),
    );
  });
});

describe('the import reader', () => {
  it('sees static, type-only, re-exported, dynamic, import-type and require imports', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      'const e = await import("./e.js");',
      "type F = typeof import('./f.js');",
      "const g = require('./g.js');",
      "import h = require('./h.js');",
      "import './side-effect.css';",
      '// import { ignored } from "./comment.js";',
      'const s = \'import x from "./string.js"\';',
    ].join('\n');
    expect(specifiersOf('x.ts', text).map((s) => s.specifier)).toEqual([
      './a.js',
      '../b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      './g.js',
      './h.js',
      './side-effect.css',
    ]);
  });
});

describe('a fixture tree with forbidden imports', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });

  function tree(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'import-direction-'));
    roots.push(root);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  }

  const clean = {
    'protocol/bytes.ts': 'export const x = 1;\n',
    'protocol/amount.ts': 'export const MAX = 1;\n',
    'protocol/virtual-card.ts': 'export interface VirtualCard { atr: Uint8Array }\n',
    'tooling/cli-kit.ts': "import { x } from '../protocol/bytes.js';\nexport const y = x;\n",
    'db/journal.ts': "import { x } from '../protocol/bytes.js';\nexport const j = x;\n",
    'card-sim/card-files.ts':
      "import type { VirtualCard } from '../protocol/virtual-card.js';\nexport const open = (p: string) => ({}) as VirtualCard;\n",
    'issuer-host/authority/authority.ts':
      "import { open } from '../../card-sim/card-files.js';\nimport { j } from '../../db/journal.js';\nexport const a = [open, j];\n",
    'electron/services/slots.ts':
      "import type { VirtualCard } from '../../protocol/virtual-card.js';\nimport { j } from '../../db/journal.js';\nexport const s = j;\nexport type C = VirtualCard;\n",
    'electron/ipc/contract.ts': "import { MAX } from '../../protocol/amount.js';\nexport const c = MAX;\n",
    'electron/main.ts':
      "import { open } from '../card-sim/card-files.js';\nimport { s } from './services/slots.js';\nexport const m = [open, s];\n",
    'demo/demo.ts':
      "import { a } from '../issuer-host/authority/authority.js';\nimport { s } from '../electron/services/slots.js';\nexport const d = [a, s];\n",
    'renderer/src/app.ts': "import { c } from '../../electron/ipc/contract.js';\nexport const r = c;\n",
    'test/anything.test.ts':
      "import { a } from '../issuer-host/authority/authority.js';\nimport { r } from '../renderer/src/app.js';\nexport const t = [a, r];\n",
  };

  it('a tree that keeps the rules has no violations', () => {
    expect(check(tree(clean))).toEqual([]);
  });

  it('reports each forbidden import with its file, line and the rule it breaks', () => {
    const root = tree({
      ...clean,
      // card-sim/ importing the terminal (the cycle issue 10 removed)
      'card-sim/cli/commands-card.ts':
        "import { x } from '../../protocol/bytes.js';\nimport { s } from '../../electron/services/slots.js';\nexport const k = [x, s];\n",
      // the terminal's services opening a simulated card themselves, with a type-only import
      'electron/services/terminal-services.ts':
        "import type { open } from '../../card-sim/card-files.js';\nexport type O = typeof open;\n",
      // protocol/ importing upward through a dynamic import
      'protocol/settlement/client.ts': "export const load = () => import('../../db/journal.js');\n",
      // the renderer reaching past the contract
      'renderer/src/hack.ts': "import { s } from '../../electron/services/slots.js';\nexport const h = s;\n",
      // the terminal importing the issuer's code
      'electron/cli/issue.ts':
        "import { a } from '../../issuer-host/authority/authority.js';\nexport const i = a;\n",
      // a misspelt path is not a way around the rules
      'db/flows.ts': "import { x } from '../protocol/bytez.js';\nexport const f = x;\n",
      // a new top-level folder nobody placed
      'server/main.ts': 'export const s = 1;\n',
    });
    expect(check(root)).toEqual([
      'server/main.ts: belongs to no layer (add it to test/architecture/layers.ts)',
      "card-sim/cli/commands-card.ts:2 imports '../../electron/services/slots.js': card-sim may not import terminal services (card-sim: the simulator never depends on the code that drives it (jCardSim))",
      "db/flows.ts:1 imports '../protocol/bytez.js', which names no file",
      "electron/cli/issue.ts:1 imports '../../issuer-host/authority/authority.js': terminal hosts may not import issuer-host (terminal hosts: each host hands the services a simulated-card factory and may start the demo shop)",
      "electron/services/terminal-services.ts:1 imports '../../card-sim/card-files.js': terminal services may not import card-sim (terminal services: the terminal sees cards only through protocol/ interfaces, and the issuer only through its port)",
      "protocol/settlement/client.ts:1 imports '../../db/journal.js': protocol may not import db (protocol: what card and terminal share: the bottom of the project, it imports nothing of it)",
      "renderer/src/hack.ts:1 imports '../../electron/services/slots.js': renderer may not import terminal services (renderer: the operator screen knows the main process only through the IPC contract)",
    ]);
  });
});
