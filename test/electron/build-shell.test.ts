// The shell's bundles: the preload requires nothing but 'electron' (it runs sandboxed) and carries no
// zod; the main bundle requires only 'electron' and Node's built-ins, with `bindings` replaced by the
// Electron-ABI addon loader; neither build warns.
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import { buildShell } from '../../electron/shell-build/build-shell.js';

const bundle = buildShell({ write: false });
const requires = (code: string) => [
  ...new Set([...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1])),
];

describe('the shell bundles', () => {
  it('build without warnings', async () => {
    expect((await bundle).warnings).toEqual([]);
  });

  it("the preload requires only 'electron' and exposes the bridge", async () => {
    const { preload } = await bundle;
    expect(requires(preload)).toEqual(['electron']);
    expect(preload).toContain('exposeInMainWorld("terminal"');
    expect(preload).not.toMatch(/zod|node:|process\./);
  });

  it("the main bundle requires only 'electron' and Node's built-ins", async () => {
    const { main } = await bundle;
    const outside = requires(main).filter(
      (r) => r !== 'electron' && !r?.startsWith('node:') && !builtinModules.includes(r ?? ''),
    );
    expect(outside).toEqual([]);
    expect(main).not.toContain('import.meta');
  });

  it('the main bundle loads better-sqlite3 and pcsclite addons through the Electron loader, not bindings', async () => {
    const { main } = await bundle;
    expect(main).toContain('node_modules/better-sqlite3/lib/database.js');
    expect(main).toContain('node_modules/pcsclite/lib/pcsclite.js');
    expect(main).not.toContain('node_modules/bindings/bindings.js');
    expect(main).toContain('.electronBindings;');
  });
});
