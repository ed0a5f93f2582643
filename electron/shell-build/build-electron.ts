// `npm run build:electron`: the shell bundles and the native modules built for Electron, everything
// `electron .` and electron-builder need besides the renderer (npm run build:renderer). Run on the
// machine (OS and architecture) the app is for: native modules cannot be cross-compiled.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { buildShell, OUT_DIR, ROOT } from './build-shell.js';
import { ensureElectronNativeAddons } from './electron-native.js';

const bundle = await buildShell();
for (const w of bundle.warnings) console.warn(`warning: ${w}`);
console.log(`built ${relative(ROOT, bundle.main)} and ${relative(ROOT, bundle.preload)}`);
const electronPackage = createRequire(import.meta.url).resolve('electron/package.json');
const { version } = JSON.parse(readFileSync(electronPackage, 'utf8')) as { version: string };
const outDir = join(OUT_DIR, 'native');
const done = await ensureElectronNativeAddons({ root: ROOT, outDir, electronVersion: version });
console.log(`native modules for Electron ${version} in ${relative(ROOT, outDir)}: ${done}`);
