// The installer configuration, read as electron-builder reads it, is valid against electron-builder's
// own JSON schema (app-builder-lib/scheme.json, with ajv) and passes electron-builder's own check; a
// broken copy is refused. Then what it must say: the targets, the app id and icon, the files (bundles,
// Electron-built addons, renderer; no node_modules), addons unpacked from asar, no in-place rebuild,
// the PC/SC packages a .deb depends on, and the fuses. Packaging itself needs Electron's download and
// cannot run here.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { drawIcon, FAVICON_PATH, FAVICON_SIZE } from '../../electron/shell-build/make-icon.js';

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '../..');
const CONFIG = 'build/electron-builder.yml';

interface ReadConfig {
  getConfig(
    request: { packageKey: string; configFilename: string; projectDir: string; packageMetadata: null },
    configPath: string,
  ): Promise<{ result: Record<string, unknown>; configFile: string | null } | null>;
}
const { getConfig } = require('app-builder-lib/out/util/config/load.js') as ReadConfig;
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

const scheme = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(scheme);

async function readConfig(): Promise<Record<string, unknown>> {
  const read = await getConfig(
    { packageKey: 'build', configFilename: 'electron-builder', projectDir: root, packageMetadata: null },
    join(root, CONFIG),
  );
  if (!read) throw new Error(`${CONFIG} was not read`);
  return read.result;
}

const errorText = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`).join('\n');

describe('the electron-builder configuration', () => {
  it("is valid against electron-builder's JSON schema", async () => {
    const config = await readConfig();
    const valid = validate(config);
    if (!valid) console.log(errorText(validate.errors));
    expect(valid).toBe(true);
  });

  it("passes electron-builder's own configuration check", async () => {
    await expect(validateConfiguration(await readConfig(), new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('a broken copy is refused, naming what is wrong', async () => {
    const config = await readConfig();
    const broken = [
      { ...config, asarUnpak: ['**/*.node'] },
      { ...config, npmRebuild: 'no' },
      { ...config, nsis: { ...(config.nsis as object), oneClick: 'sometimes' } },
      { ...config, linux: { ...(config.linux as object), target: 7 } },
      { ...config, electronFuses: { ...(config.electronFuses as object), runAsNodeJs: false } },
      { ...config, deb: { ...(config.deb as object), depends: 'pcscd' } },
    ];
    for (const copy of broken) {
      expect(validate(copy), JSON.stringify(copy).slice(0, 60)).toBe(false);
    }
    validate(broken[0]);
    expect(errorText(validate.errors)).toMatch(/additional properties.*asarUnpak/i);
    await expect(validateConfiguration(broken[0], new DebugLogger(false))).rejects.toThrow(/asarUnpak/);
  });

  it('builds AppImage and deb for Linux, NSIS for Windows and dmg for macOS', async () => {
    const config = await readConfig();
    expect(config).toMatchObject({
      appId: 'org.settlement-terminal.desktop',
      productName: 'Settlement Terminal',
      linux: { target: ['AppImage', 'deb'] },
      win: { target: ['nsis'] },
      mac: { target: ['dmg'] },
    });
  });

  it('ships the bundles, the Electron-built addons and the renderer, not node_modules', async () => {
    const config = await readConfig();
    expect(config.files).toEqual(
      expect.arrayContaining([
        'dist-electron/main.cjs',
        'dist-electron/preload.cjs',
        'dist-electron/native/*.node',
        'renderer/dist/**/*',
        '!node_modules/**/*',
      ]),
    );
    expect(config.asarUnpack).toContain('**/*.node');
    expect(config).toMatchObject({ asar: true, npmRebuild: false, nodeGypRebuild: false });
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist-electron/main.cjs');
  });

  it('makes the .deb depend on the PC/SC daemon and its library', async () => {
    const deb = (await readConfig()).deb as { depends: string[] };
    expect(deb.depends).toEqual(expect.arrayContaining(['pcscd', 'libpcsclite1']));
  });

  it('turns off running as Node, NODE_OPTIONS and --inspect, and checks the asar archive', async () => {
    expect((await readConfig()).electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('has its icon: a 512×512 PNG, the one make-icon.ts draws', async () => {
    const config = await readConfig();
    expect(config.icon).toBe('build/icon.png');
    const png = readFileSync(join(root, 'build', 'icon.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
    expect(png.equals(drawIcon())).toBe(true);
  });

  it('gives the operator screen the same icon as its favicon (64×64, linked from index.html)', () => {
    const png = readFileSync(FAVICON_PATH);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([FAVICON_SIZE, FAVICON_SIZE]);
    expect(png.equals(drawIcon(FAVICON_SIZE))).toBe(true);
    expect(readFileSync(join(root, 'renderer', 'index.html'), 'utf8')).toContain(
      '<link rel="icon" type="image/png" href="./favicon.png" />',
    );
  });
});
