// Loads a compiled Node addon (a .node file) from a given folder. The Electron main bundle uses it in
// place of the `bindings` package (see electron-bindings.ts): better-sqlite3 and pcsclite then load the
// copies built for Electron's ABI instead of node_modules' copies built for Node.
import { join } from 'node:path';
import { errorMessage } from '../../protocol/errors.js';

/** Like require's cache: an addon is opened once per process and then shared. */
const loaded = new Map<string, unknown>();

export function loadNativeAddon(
  dir: string,
  name: string,
  dlopen: (module: { exports: unknown }, filename: string) => void = process.dlopen,
): unknown {
  const base = name.replace(/\.node$/, '');
  if (!/^[A-Za-z0-9_-]+$/.test(base)) throw new Error(`not a native addon name: ${JSON.stringify(name)}`);
  const file = join(dir, `${base}.node`);
  if (loaded.has(file)) return loaded.get(file);
  const module = { exports: {} as unknown };
  try {
    dlopen(module, file);
  } catch (e) {
    throw new Error(
      `cannot load ${file}, the ${base} addon built for Electron (${errorMessage(e)}); ` +
        'npm start builds it, or run npm run build:electron',
    );
  }
  loaded.set(file, module.exports);
  return module.exports;
}
