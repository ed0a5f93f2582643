// `npm run start:web` (and `npm start` where Electron cannot run): the terminal's operator screen in a
// local browser. Uses the demo shop (simulated cards, its card tray) unless --config is given, with the demo issuer
// host started beside it (the terminal does not wait for it), runs start-up recovery (and recovery on
// every card insertion), builds renderer/dist if it is missing, serves it and prints the address with
// this run's token.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openSimulatedCard } from '../../card-sim/card-files.js';
import { DEMO_DIR, ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { startDemoHostBeside } from '../../demo/demo-host-process.js';
import { errorMessage, toTerminalError } from '../../protocol/errors.js';
import { setProgramLabel } from '../../tooling/process-lock.js';
import { loadConfig, type TerminalConfig } from '../services/config.js';
import { startIssuing } from '../services/issuing/issuing-services.js';
import { logRecovery } from '../services/recovery/recovery-log.js';
import { startTerminalServices, type TerminalServices } from '../services/terminal-services.js';
import { type BrowserHost, startBrowserHost } from './browser-host.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RENDERER_DIST = join(ROOT, 'renderer', 'dist');

export async function runBrowserHost(argv: string[]): Promise<number> {
  let values: { config?: string; port?: string; renderer?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, port: { type: 'string' }, renderer: { type: 'string' } },
      strict: true,
    }));
  } catch (e) {
    console.error(`error E_INPUT_INVALID: ${errorMessage(e)}`);
    return 2;
  }
  // --renderer: the operator screen built elsewhere (the UI tests' build of the current sources).
  const staticDir = values.renderer ?? RENDERER_DIST;
  if (!values.renderer && !existsSync(join(RENDERER_DIST, 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
  }
  setProgramLabel('the operator screen (browser host)');
  let web: WebTerminal;
  try {
    const config = loadConfig(values.config ?? ensureDemoEnvironment());
    web = await startWebTerminal({ config, port: values.port ? Number(values.port) : 0, staticDir });
  } catch (e) {
    // Another terminal on the same data, a card held by another program, a bad configuration.
    const error = toTerminalError(e);
    console.error(`error ${error.code}: ${error.message}`);
    return 2;
  }
  const { host } = web;
  // The demo's issuer host beside the demo terminal; a configured host gives its CRL at start.
  const demoHost =
    values.config === undefined ? startDemoHostBeside(web.services, { dir: DEMO_DIR }) : undefined;
  if (values.config !== undefined && web.services.host) void web.services.crl.refresh();
  console.log(`Operator screen: ${host.url}`);
  console.log('(the address holds this run’s access token; press Ctrl+C to stop)');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await demoHost?.stop();
  await web.close();
  return 0;
}

export interface WebTerminal {
  services: TerminalServices;
  host: BrowserHost;
  close(): Promise<void>;
}

/**
 * The browser host's wiring, in order: the terminal services (holding the terminal's data and its
 * simulated cards), the recovery surface's log, start-up recovery and recovery on every card
 * insertion, then the operator screen's server.
 */
export async function startWebTerminal(o: {
  config: TerminalConfig;
  port?: number;
  staticDir?: string;
}): Promise<WebTerminal> {
  // The demo card tray: simulated slots only (startTerminalServices builds none over real readers).
  const services = await startTerminalServices(o.config, { openSimulatedCard, cardTray: true });
  // Issuing goes to the command-generating server on the configured issuer host.
  const issuing = startIssuing(services);
  try {
    logRecovery(services.recovery, console.log, console.error);
    await services.recovery.start();
    services.uploader?.start(); // the journal's upload to the host, in the background
    const host = await startBrowserHost({
      services: { ...services, issuing: issuing.port },
      staticDir: o.staticDir ?? RENDERER_DIST,
      port: o.port ?? 0,
    });
    return {
      services,
      host,
      async close() {
        await host.close();
        issuing.close();
        await services.close();
      },
    };
  } catch (e) {
    issuing.close();
    await services.close();
    throw e;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runBrowserHost(process.argv.slice(2));
}
