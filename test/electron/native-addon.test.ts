// The Electron bundle's stand-in for `bindings` loads a named addon from one folder: a real addon
// loads (here better-sqlite3's Node build stands in for an Electron build), a missing one says how
// to build it, and a name that is not a plain file name is refused before anything is opened.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadNativeAddon } from '../../electron/shell/native-addon.js';

const sqliteBuild = join(
  dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')),
  'build',
  'Release',
);

describe('loading a native addon', () => {
  it('loads the addon of that name from the folder, with or without .node', () => {
    const addon = loadNativeAddon(sqliteBuild, 'better_sqlite3.node') as Record<string, unknown>;
    expect(typeof addon.Database).toBe('function');
    expect(loadNativeAddon(sqliteBuild, 'better_sqlite3')).toBe(addon);
  });

  it('says which file is missing and how to build it', () => {
    expect(() => loadNativeAddon(sqliteBuild, 'pcsclite')).toThrow(
      /pcsclite\.node, the pcsclite addon built for Electron .*npm run build:electron/,
    );
  });

  it('refuses names that are not a plain file name, opening nothing', () => {
    const dlopen = vi.fn();
    for (const name of ['../evil', '/etc/evil.node', 'a/b', '', '.node', 'x y', 'évil']) {
      expect(() => loadNativeAddon('/native', name, dlopen), name).toThrow(/not a native addon name/);
    }
    expect(dlopen).not.toHaveBeenCalled();
  });
});
