// The Electron main process: the terminal services (the same as the browser host's and the CLI's)
// behind the operator window. Everything it does is in shell/; this file only hands Electron's own
// objects to it, in order. Bundled into dist-electron/main.cjs by shell-build/build-shell.ts.

import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron';
import { openSimulatedCard } from '../card-sim/card-files.js';
import { PinAttemptStore } from '../db/pin-attempt-store.js';
import { DEMO_DIR, ensureDemoEnvironment } from '../demo/demo-environment.js';
import { isTerminalError } from '../protocol/errors.js';
import { setProgramLabel } from '../tooling/process-lock.js';
import { loadConfig } from './services/config.js';
import { startIssuing } from './services/issuing/issuing-services.js';
import { logRecovery } from './services/recovery/recovery-log.js';
import { startTerminalServices } from './services/terminal-services.js';
import { APP_SCHEME_PRIVILEGES } from './shell/app-protocol.js';
import { kioskSettings } from './shell/kiosk-settings.js';
import type { ShellPlatform } from './shell/platform.js';
import { startShell } from './shell/shell.js';
import { shellArguments } from './shell/shell-arguments.js';

// Before the app is ready: every renderer sandboxed, the app:// scheme privileged, one instance only
// (two would share the transaction log and the card readers).
app.enableSandbox();
protocol.registerSchemesAsPrivileged(APP_SCHEME_PRIVILEGES);
if (!app.requestSingleInstanceLock()) app.exit(0);

app
  .whenReady()
  .then(startApp)
  .catch((e: unknown) => {
    const message = isTerminalError(e) ? `${e.code}: ${e.message}` : String(e);
    console.error(`settlement terminal: ${message}`);
    dialog.showErrorBox('The settlement terminal cannot start', message);
    app.exit(1);
  });

async function startApp(): Promise<void> {
  const args = shellArguments(process.argv, app.isPackaged);
  const demoDir = app.isPackaged ? join(app.getPath('userData'), 'demo') : join(app.getAppPath(), DEMO_DIR);
  const config = loadConfig(args.config ?? ensureDemoEnvironment(demoDir));
  const kiosk = kioskSettings(args.kiosk, config.kiosk);
  setProgramLabel('the operator screen (Electron)');
  const services = await startTerminalServices(config, { openSimulatedCard });
  // Issuing goes to the command-generating server on the configured issuer host.
  const issuing = startIssuing(services);
  // Finishes or rolls back what an earlier run left open before the operator can start anything
  // new, then recovers whenever a card is presented again.
  logRecovery(services.recovery, console.log, console.error);
  await services.recovery.start();
  if (services.host) void services.crl.refresh(); // in the background: the terminal never waits for the host
  services.uploader?.start(); // the journal's upload to the host, in the background with backoff
  const platform: ShellPlatform = {
    app,
    BrowserWindow,
    ipcMain,
    session: session.defaultSession,
    protocol,
    menu: Menu,
    // The shell's windows are the BrowserWindows this constructor made.
    dialog: { showSaveDialog: (window, options) => dialog.showSaveDialog(window as BrowserWindow, options) },
  };
  const close = services.close;
  startShell(
    platform,
    {
      ...services,
      issuing: issuing.port,
      close: async () => {
        issuing.close();
        await close();
      },
    },
    {
      preloadPath: join(app.getAppPath(), 'dist-electron', 'preload.cjs'),
      rendererDir: join(app.getAppPath(), 'renderer', 'dist'),
      kiosk,
      kioskAttempts: new PinAttemptStore(services.db).counter('kiosk'),
    },
  );
}
