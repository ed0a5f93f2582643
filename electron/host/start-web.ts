// `npm run start:web` (and `npm start` where Electron cannot run): the terminal's operator screen in a
// local browser. Uses the demo shop (simulated cards) unless --config is given, with the demo issuer
// host started beside it (the terminal does not wait for it), runs start-up recovery, builds
// renderer/dist if it is missing, serves it and prints the address with this run's token.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openSimulatedCard } from '../../card-sim/card-files.js';
import { DEMO_DIR, ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { startDemoHostBeside } from '../../demo/demo-host-process.js';
import { errorMessage, isTerminalError } from '../../protocol/errors.js';
import { loadConfig } from '../services/config.js';
import { startTerminalServices } from '../services/terminal-services.js';
import { startBrowserHost } from './browser-host.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RENDERER_DIST = join(ROOT, 'renderer', 'dist');

export async function runBrowserHost(argv: string[]): Promise<number> {
  let values: { config?: string; port?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, port: { type: 'string' } },
      strict: true,
    }));
  } catch (e) {
    console.error(`error E_INPUT_INVALID: ${errorMessage(e)}`);
    return 2;
  }
  if (!existsSync(join(RENDERER_DIST, 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
  }
  const config = loadConfig(values.config ?? ensureDemoEnvironment());
  const services = await startTerminalServices(config, { openSimulatedCard });
  // The demo's issuer host beside the demo terminal; a configured host gives its CRL at start.
  const demoHost = values.config === undefined ? startDemoHostBeside(services, { dir: DEMO_DIR }) : undefined;
  if (values.config !== undefined && services.host) void services.crl.refresh();
  try {
    const transfers = await services.engine.recover();
    const contents = await services.contents.recover();
    for (const r of transfers) console.log(`recovered transfer ${r.flowId}: ${r.outcome}`);
    for (const r of contents) console.log(`recovered ${r.kind} ${r.flowId}: ${r.outcome}`);
  } catch (e) {
    console.error(`start-up recovery: ${isTerminalError(e) ? `${e.code} ${e.message}` : String(e)}`);
  }
  const host = await startBrowserHost({
    services,
    staticDir: RENDERER_DIST,
    port: values.port ? Number(values.port) : 0,
  });
  services.engine.recoverOnCardInsert();
  console.log(`Operator screen: ${host.url}`);
  console.log('(the address holds this run’s access token; press Ctrl+C to stop)');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await host.close();
  await demoHost?.stop();
  await services.close();
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runBrowserHost(process.argv.slice(2));
}
