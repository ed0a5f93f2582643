// `npm start`: the Electron app where an Electron binary is installed or can be downloaded. The
// renderer and the shell are built, the native modules are built for Electron's ABI (once, into
// dist-electron/native/, leaving node_modules' Node builds alone), then Electron runs the app with the
// arguments given (`npm start -- --kiosk`, `--config shop.json`). Where there is no Electron binary, or
// the app cannot be prepared, one line says so and the browser host starts with the same services, so
// the terminal always runs. Either way the demo shop (no --config) gets its issuer host beside it
// (demo/demo-host-process.ts): started here for Electron, by the browser host for itself.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_DIR, ensureDemoEnvironment } from '../demo/demo-environment.js';
import { startDemoHost } from '../demo/demo-host-process.js';
import { errorMessage } from '../protocol/errors.js';
import { runBrowserHost } from './host/start-web.js';
import { buildShell, OUT_DIR, ROOT } from './shell-build/build-shell.js';
import { ensureElectronNativeAddons } from './shell-build/electron-native.js';

export interface StartSteps {
  electronBinary(): string | undefined;
  buildRenderer(): Promise<void>;
  buildShell(): Promise<void>;
  buildNativeAddons(): Promise<void>;
  launchElectron(binary: string, args: string[]): Promise<number>;
  runBrowserHost(args: string[]): Promise<number>;
  /** The demo's issuer host beside the Electron app (without --config); stopped when it exits. */
  startDemoHost?(): { stop(): Promise<void> };
  log(line: string): void;
}

/** Options only the Electron shell understands; the browser host would refuse them. */
const SHELL_ONLY = new Set(['--kiosk']);

export async function start(argv: string[], steps: StartSteps): Promise<number> {
  const fallBack = () => {
    const dropped = argv.filter((a) => SHELL_ONLY.has(a));
    if (dropped.length > 0)
      steps.log(`${dropped.join(' ')}: only the Electron app has a kiosk mode; ignored`);
    return steps.runBrowserHost(argv.filter((a) => !SHELL_ONLY.has(a)));
  };
  const binary = steps.electronBinary();
  if (!binary) {
    steps.log(
      'Electron is not available on this machine (its binary cannot be downloaded); starting the browser host instead.',
    );
    return fallBack();
  }
  try {
    await steps.buildRenderer();
    await steps.buildShell();
    await steps.buildNativeAddons();
  } catch (e) {
    steps.log(
      `The Electron app could not be prepared (${errorMessage(e)}); starting the browser host instead.`,
    );
    return fallBack();
  }
  const demoHost = argv.includes('--config') ? undefined : steps.startDemoHost?.();
  try {
    return await steps.launchElectron(binary, argv);
  } finally {
    await demoHost?.stop();
  }
}

/** The Electron binary, fetched first if the package is installed without it (quietly). */
function electronBinary(): string | undefined {
  const dir = electronPackageDir();
  if (!dir) return undefined;
  const installed = () => {
    const pathFile = join(dir, 'path.txt');
    if (!existsSync(pathFile)) return undefined;
    const binary = join(dir, 'dist', readFileSync(pathFile, 'utf8'));
    return existsSync(binary) ? binary : undefined;
  };
  if (installed()) return installed();
  // electron's own installer downloads the binary (a user's machine with internet); here it fails fast.
  const download = spawnSync(process.execPath, [join(dir, 'install.js')], {
    stdio: 'pipe',
    timeout: 300_000,
  });
  return download.status === 0 ? installed() : undefined;
}

function electronPackageDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return undefined;
  }
}

const realSteps: StartSteps = {
  electronBinary,
  async buildRenderer() {
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
  },
  async buildShell() {
    const bundle = await buildShell();
    for (const w of bundle.warnings) console.warn(`shell build: ${w}`);
  },
  async buildNativeAddons() {
    const pkg = JSON.parse(readFileSync(join(electronPackageDir() ?? '', 'package.json'), 'utf8'));
    await ensureElectronNativeAddons({
      root: ROOT,
      outDir: join(OUT_DIR, 'native'),
      electronVersion: (pkg as { version: string }).version,
    });
  },
  launchElectron(binary, args) {
    return new Promise((resolve) => {
      const child = spawn(binary, ['.', ...args], { stdio: 'inherit', cwd: ROOT });
      const stop = (signal: NodeJS.Signals) => child.kill(signal);
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      child.on('exit', (code) => resolve(code ?? 0));
    });
  },
  runBrowserHost,
  startDemoHost() {
    const dir = join(ROOT, DEMO_DIR);
    ensureDemoEnvironment(dir);
    const host = startDemoHost({ dir });
    host.ready.then(
      ({ url }) => console.log(`Demo issuer host ready at ${url}`),
      (e: unknown) =>
        console.log(
          `The demo issuer host did not start (${errorMessage(e)}): the terminal goes on without it`,
        ),
    );
    return host;
  },
  log: (line) => console.log(line),
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await start(process.argv.slice(2), realSteps);
}
