// The native addons (better-sqlite3, pcsclite) built for Electron, beside node_modules' copies built
// for Node. Electron's ABI differs from Node's, and rebuilding node_modules in place (what
// `electron-builder install-app-deps` does) would break the CLI and the tests on the same machine.
// So the two packages are copied into a staging folder under node_modules/.cache (where their build
// dependencies such as nan still resolve from the project's node_modules), rebuilt there for Electron
// with @electron/rebuild (a dependency of electron-builder), and their .node files copied to
// dist-electron/native/ with a stamp of what they were built for. The Electron main bundle loads them
// from there (shell/electron-bindings.ts); electron-builder packs them (build/electron-builder.yml).
// Nothing is rebuilt while the stamp matches the Electron version, platform, architecture and
// package versions.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NATIVE_MODULES = [
  { name: 'better-sqlite3', addon: 'better_sqlite3.node' },
  { name: 'pcsclite', addon: 'pcsclite.node' },
] as const;

export interface NativeStamp {
  electron: string;
  platform: string;
  arch: string;
  modules: Record<string, string>;
}

export interface RebuildRequest {
  buildPath: string;
  /** The search for modules stops here: the project's own node_modules are never rebuilt. */
  projectRootPath: string;
  electronVersion: string;
  arch: string;
  onlyModules: string[];
  force: boolean;
}

export interface NativeBuildOptions {
  root: string;
  /** Where the .node files and stamp.json go (dist-electron/native). */
  outDir: string;
  electronVersion: string;
  platform?: string;
  arch?: string;
  /** Default: @electron/rebuild's rebuild(). */
  rebuild?: (request: RebuildRequest) => Promise<void>;
  log?: (line: string) => void;
}

const STAMP = 'stamp.json';

/** Why a rebuild is needed, or undefined when the built copies match what is wanted. */
export function rebuildReason(
  current: NativeStamp | undefined,
  wanted: NativeStamp,
  addonPresent: (addon: string) => boolean,
): string | undefined {
  if (!current) return 'not built for Electron yet';
  if (current.electron !== wanted.electron)
    return `built for Electron ${current.electron}, not ${wanted.electron}`;
  if (current.platform !== wanted.platform || current.arch !== wanted.arch) {
    return `built for ${current.platform}-${current.arch}, not ${wanted.platform}-${wanted.arch}`;
  }
  for (const m of NATIVE_MODULES) {
    if (current.modules[m.name] !== wanted.modules[m.name]) {
      return `${m.name} ${current.modules[m.name] ?? '(none)'} was built, ${wanted.modules[m.name]} is installed`;
    }
    if (!addonPresent(m.addon)) return `${m.addon} is missing`;
  }
  return undefined;
}

/** Builds the Electron copies if they are missing or stale; returns what it did. */
export async function ensureElectronNativeAddons(o: NativeBuildOptions): Promise<'up-to-date' | 'rebuilt'> {
  const log = o.log ?? ((line: string) => console.log(line));
  const wanted: NativeStamp = {
    electron: o.electronVersion,
    platform: o.platform ?? process.platform,
    arch: o.arch ?? process.arch,
    modules: Object.fromEntries(NATIVE_MODULES.map((m) => [m.name, installedVersion(o.root, m.name)])),
  };
  const reason = rebuildReason(readStamp(o.outDir), wanted, (addon) => existsSync(join(o.outDir, addon)));
  if (!reason) return 'up-to-date';
  log(`building the native modules for Electron ${wanted.electron} (${reason}); this takes a while once`);

  const staging = join(o.root, 'node_modules', '.cache', 'electron-native');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'node_modules'), { recursive: true });
  writeFileSync(
    join(staging, 'package.json'),
    JSON.stringify({ name: 'electron-native-staging', private: true, dependencies: wanted.modules }, null, 2),
  );
  for (const m of NATIVE_MODULES) {
    cpSync(join(o.root, 'node_modules', m.name), join(staging, 'node_modules', m.name), {
      recursive: true,
      // The Node build stays behind: the staging copy is built from source (or fetched) for Electron.
      filter: (src) => !/[\\/]build([\\/]|$)/.test(src.slice(join(o.root, 'node_modules', m.name).length)),
    });
  }
  const rebuild = o.rebuild ?? electronRebuild;
  await rebuild({
    buildPath: staging,
    projectRootPath: staging,
    electronVersion: wanted.electron,
    arch: wanted.arch,
    onlyModules: NATIVE_MODULES.map((m) => m.name),
    force: true,
  });

  const built = NATIVE_MODULES.map((m) => ({
    ...m,
    file: join(staging, 'node_modules', m.name, 'build', 'Release', m.addon),
  }));
  for (const m of built) {
    if (!existsSync(m.file)) throw new Error(`the Electron build of ${m.name} produced no ${m.addon}`);
  }
  rmSync(o.outDir, { recursive: true, force: true });
  mkdirSync(o.outDir, { recursive: true });
  for (const m of built) cpSync(m.file, join(o.outDir, m.addon));
  writeFileSync(join(o.outDir, STAMP), `${JSON.stringify(wanted, null, 2)}\n`);
  return 'rebuilt';
}

function readStamp(outDir: string): NativeStamp | undefined {
  try {
    return JSON.parse(readFileSync(join(outDir, STAMP), 'utf8')) as NativeStamp;
  } catch {
    return undefined;
  }
}

function installedVersion(root: string, name: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** @electron/rebuild comes with electron-builder; it is loaded only when something must be rebuilt. */
async function electronRebuild(request: RebuildRequest): Promise<void> {
  const { rebuild } = await import('@electron/rebuild');
  await rebuild({ ...request, mode: 'sequential' });
}
