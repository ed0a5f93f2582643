// The renderer as the UI tests run it: built from the current sources, once per content (a hash of
// everything Vite bundles names the build folder), shared by the UI test files that run in parallel
// (the first one builds under a lock, the others wait for its folder). renderer/dist is left alone:
// a stale dist from an earlier build can never be what a test checks.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BUILDS = join(ROOT, 'test-output', 'renderer-builds');
const SOURCES = [
  'renderer/src',
  'renderer/index.html',
  'electron/ipc/contract.ts',
  'electron/ipc/documents.ts',
  'electron/ipc/shop-flow.ts',
  'protocol/amount.ts',
  'protocol/money-format.ts',
  'vite.config.ts',
  'package-lock.json',
];
/**
 * What to build: the operator screen (index.html), or the print preview page's script
 * (renderer/src/print/print-preview.tsx, with a manifest naming its files).
 */
export type RendererBuild = 'app' | 'print-preview';
const PRINT_PREVIEW_ENTRY = join(ROOT, 'renderer', 'src', 'print', 'print-preview.tsx');
const LOCK_STALE_MS = 120_000;
const OLD_BUILD_MS = 3_600_000;

function files(path: string): string[] {
  const abs = join(ROOT, path);
  if (!statSync(abs).isDirectory()) return [abs];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

function sourceHash(what: RendererBuild): string {
  const h = createHash('sha256');
  h.update(what);
  for (const f of SOURCES.flatMap(files).sort()) {
    h.update(relative(ROOT, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** The folder of the renderer built from the sources as they are now. */
export async function builtRenderer(what: RendererBuild = 'app'): Promise<string> {
  mkdirSync(BUILDS, { recursive: true });
  const hash = sourceHash(what);
  const dir = join(BUILDS, hash);
  const lock = join(BUILDS, `${hash}.lock`);
  for (;;) {
    if (existsSync(join(dir, what === 'app' ? 'index.html' : '.vite/manifest.json'))) return dir;
    try {
      mkdirSync(lock);
    } catch {
      // Another test file builds it: wait, unless its lock was left by a process that died.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > LOCK_STALE_MS)
        rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      const tmp = join(BUILDS, `${hash}.tmp-${process.pid}`);
      const { build } = await import('vite');
      await build({
        configFile: join(ROOT, 'vite.config.ts'),
        logLevel: 'warn',
        build:
          what === 'app'
            ? { outDir: tmp, emptyOutDir: true }
            : {
                outDir: tmp,
                emptyOutDir: true,
                manifest: true,
                rollupOptions: { input: PRINT_PREVIEW_ENTRY },
              },
      });
      renameSync(tmp, dir);
      pruneOldBuilds(hash);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

function pruneOldBuilds(keep: string): void {
  for (const name of readdirSync(BUILDS)) {
    const path = join(BUILDS, name);
    if (name === keep || name.endsWith('.lock')) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > OLD_BUILD_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // pruned by another test file meanwhile
    }
  }
}
