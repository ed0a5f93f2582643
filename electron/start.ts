// `npm start`: the Electron app where an Electron binary is installed or can be downloaded;
// otherwise one line says so and the browser host starts with the same services, so the terminal
// always runs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runBrowserHost } from './host/start-web.js';

/** The Electron binary, fetched first if the package is installed without it (quietly). */
function electronBinary(): string | undefined {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return undefined;
  }
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

const binary = electronBinary();
if (binary) {
  const child = spawn(binary, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    'Electron is not available on this machine (its binary cannot be downloaded); starting the browser host instead.',
  );
  process.exitCode = await runBrowserHost(process.argv.slice(2));
}
