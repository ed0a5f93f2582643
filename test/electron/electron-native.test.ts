// The Electron builds of the native modules: made in a staging copy (never in node_modules), copied to
// dist-electron/native with a stamp, and made again only when Electron, the platform, the architecture
// or a package version changes, or an addon is missing. The rebuild itself is a fake here: it writes
// the .node files @electron/rebuild would.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ensureElectronNativeAddons,
  NATIVE_MODULES,
  type NativeStamp,
  type RebuildRequest,
  rebuildReason,
} from '../../electron/shell-build/electron-native.js';

let root: string;
let outDir: string;

function writePackage(name: string, version: string) {
  const dir = join(root, 'node_modules', name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version }));
  writeFileSync(join(dir, 'src', 'addon.cc'), '// source');
  writeFileSync(join(dir, 'build', 'Release', `${name}-node-abi.node`), 'node build');
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'electron-native-'));
  outDir = join(root, 'dist-electron', 'native');
  writePackage('better-sqlite3', '12.11.1');
  writePackage('pcsclite', '1.0.1');
});

/** Stands in for @electron/rebuild: builds each module's addon in the staging copy. */
function fakeRebuild(o: { skip?: string } = {}) {
  return vi.fn(async (request: RebuildRequest) => {
    for (const m of NATIVE_MODULES) {
      if (m.name === o.skip) continue;
      const release = join(request.buildPath, 'node_modules', m.name, 'build', 'Release');
      mkdirSync(release, { recursive: true });
      writeFileSync(join(release, m.addon), `electron ${request.electronVersion} ${m.name}`);
    }
  });
}

const ensure = (rebuild: ReturnType<typeof fakeRebuild>, electronVersion = '45.4.1', arch = 'x64') =>
  ensureElectronNativeAddons({
    root,
    outDir,
    electronVersion,
    platform: 'linux',
    arch,
    rebuild,
    log: () => {},
  });

describe('the Electron native modules', () => {
  it('are built in a staging copy for Electron and copied to dist-electron/native with a stamp', async () => {
    const rebuild = fakeRebuild();
    expect(await ensure(rebuild)).toBe('rebuilt');
    const request = rebuild.mock.calls[0]![0];
    expect(request).toMatchObject({
      electronVersion: '45.4.1',
      arch: 'x64',
      onlyModules: ['better-sqlite3', 'pcsclite'],
      force: true,
    });
    expect(request.buildPath).toBe(join(root, 'node_modules', '.cache', 'electron-native'));
    expect(request.projectRootPath).toBe(request.buildPath);
    // The staging copy has the sources but not the Node build.
    expect(existsSync(join(request.buildPath, 'node_modules', 'pcsclite', 'src', 'addon.cc'))).toBe(true);
    expect(
      existsSync(
        join(request.buildPath, 'node_modules', 'pcsclite', 'build', 'Release', 'pcsclite-node-abi.node'),
      ),
    ).toBe(false);
    expect(readFileSync(join(outDir, 'better_sqlite3.node'), 'utf8')).toBe('electron 45.4.1 better-sqlite3');
    expect(readFileSync(join(outDir, 'pcsclite.node'), 'utf8')).toBe('electron 45.4.1 pcsclite');
    expect(JSON.parse(readFileSync(join(outDir, 'stamp.json'), 'utf8'))).toEqual({
      electron: '45.4.1',
      platform: 'linux',
      arch: 'x64',
      modules: { 'better-sqlite3': '12.11.1', pcsclite: '1.0.1' },
    });
  });

  it("leave node_modules' own Node builds untouched", async () => {
    await ensure(fakeRebuild());
    for (const name of ['better-sqlite3', 'pcsclite']) {
      const release = join(root, 'node_modules', name, 'build', 'Release');
      expect(readFileSync(join(release, `${name}-node-abi.node`), 'utf8')).toBe('node build');
    }
  });

  it('are not rebuilt while the stamp matches', async () => {
    await ensure(fakeRebuild());
    const again = fakeRebuild();
    expect(await ensure(again)).toBe('up-to-date');
    expect(again).not.toHaveBeenCalled();
  });

  it('are rebuilt for another Electron, another architecture, a new package version or a missing addon', async () => {
    await ensure(fakeRebuild());
    const electron = fakeRebuild();
    expect(await ensure(electron, '46.0.0')).toBe('rebuilt');
    expect(readFileSync(join(outDir, 'pcsclite.node'), 'utf8')).toBe('electron 46.0.0 pcsclite');
    expect(await ensure(fakeRebuild(), '46.0.0', 'arm64')).toBe('rebuilt');
    writePackage('pcsclite', '1.0.2');
    expect(await ensure(fakeRebuild(), '46.0.0', 'arm64')).toBe('rebuilt');
    rmSync(join(outDir, 'better_sqlite3.node'));
    expect(await ensure(fakeRebuild(), '46.0.0', 'arm64')).toBe('rebuilt');
    expect(await ensure(fakeRebuild(), '46.0.0', 'arm64')).toBe('up-to-date');
  });

  it('fail, keeping the earlier build and stamp, when the rebuild produces no addon', async () => {
    await expect(ensure(fakeRebuild({ skip: 'pcsclite' }))).rejects.toThrow(
      /pcsclite produced no pcsclite\.node/,
    );
    expect(existsSync(join(outDir, 'stamp.json'))).toBe(false);
    await ensure(fakeRebuild());
    await expect(ensure(fakeRebuild({ skip: 'pcsclite' }), '46.0.0')).rejects.toThrow(/produced no/);
    expect(readFileSync(join(outDir, 'better_sqlite3.node'), 'utf8')).toBe('electron 45.4.1 better-sqlite3');
    expect(JSON.parse(readFileSync(join(outDir, 'stamp.json'), 'utf8')).electron).toBe('45.4.1');
    rmSync(outDir, { recursive: true });
    const rebuild = fakeRebuild();
    expect(await ensure(rebuild)).toBe('rebuilt');
    expect(rebuild).toHaveBeenCalledTimes(1);
  });

  it('fail when the rebuild fails, writing nothing', async () => {
    const rebuild = vi.fn(async () => {
      throw new Error('gyp: no compiler');
    });
    await expect(ensure(rebuild as never)).rejects.toThrow(/no compiler/);
    expect(existsSync(join(outDir, 'stamp.json'))).toBe(false);
  });
});

describe('the rebuild decision', () => {
  const wanted: NativeStamp = {
    electron: '45.4.1',
    platform: 'linux',
    arch: 'x64',
    modules: { 'better-sqlite3': '12.11.1', pcsclite: '1.0.1' },
  };
  const all = () => true;

  it('names the reason', () => {
    expect(rebuildReason(undefined, wanted, all)).toMatch(/not built/);
    expect(rebuildReason({ ...wanted, electron: '44.0.0' }, wanted, all)).toMatch(
      /Electron 44.0.0, not 45.4.1/,
    );
    expect(rebuildReason({ ...wanted, platform: 'win32' }, wanted, all)).toMatch(/win32-x64, not linux-x64/);
    expect(
      rebuildReason({ ...wanted, modules: { ...wanted.modules, pcsclite: '1.0.0' } }, wanted, all),
    ).toMatch(/pcsclite 1.0.0 was built, 1.0.1 is installed/);
    expect(rebuildReason(wanted, wanted, (addon) => addon !== 'pcsclite.node')).toMatch(
      /pcsclite.node is missing/,
    );
    expect(rebuildReason(wanted, wanted, all)).toBeUndefined();
  });
});
