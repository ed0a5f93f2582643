// The shell, put together once the app is ready: the session's rules and headers, the navigation guard
// on every web contents, the app protocol, the contract over IPC with its events, the operator window,
// and in kiosk mode the lock (no menu, no DevTools, no closing without the exit PIN). A renderer that
// crashes gets a new window, within the restart policy. On quit the terminal services close first.
import type { PinCountStore } from '../../db/pin-attempt-store.js';
import type { EventName, EventOf } from '../ipc/contract.js';
import { type EventSources, feedContractEvents } from '../ipc/event-feed.js';
import { createHandlers, type HandlerServices, type KioskControl } from '../ipc/handlers.js';
import { APP_ENTRY_URL, APP_SCHEME } from './app-origin.js';
import { serveAppFiles } from './app-protocol.js';
import { isOwnPage, registerContractHandlers, sendEvent } from './ipc-registration.js';
import type { ExitPinHash } from './kiosk-exit-pin.js';
import { kioskKeyAction } from './kiosk-keys.js';
import { createKioskLock } from './kiosk-lock.js';
import { openMainWindow } from './main-window.js';
import { guardWebContents } from './navigation-guard.js';
import type { ShellPlatform, ShellWindow } from './platform.js';
import { applyResponseHeaders } from './response-headers.js';
import { createRestartPolicy, type RestartPolicyOptions } from './restart-policy.js';
import { saveDialogDelivery } from './save-dialog-delivery.js';
import { applySessionPolicy } from './session-policy.js';

export interface ShellServices extends HandlerServices {
  engine: HandlerServices['engine'] & EventSources['engine'];
  slots: HandlerServices['slots'] & EventSources['slots'];
  operations: HandlerServices['operations'] & EventSources['operations'];
  close(): Promise<void>;
}

export interface ShellOptions {
  preloadPath: string;
  rendererDir: string;
  /** Kiosk mode, with the operator's exit PIN. */
  kiosk?: { exitPin: ExitPinHash };
  restarts?: RestartPolicyOptions;
  /** Overrides for the kiosk lock (tests: the clock and a quick PIN check). */
  kioskLock?: { now?: () => number; check?: (pin: string, stored: ExitPinHash) => Promise<boolean> };
  /** The exit PIN's wrong-try count on disk (the terminal database's 'kiosk' counter). */
  kioskAttempts?: PinCountStore;
  log?: (line: string) => void;
}

export interface Shell {
  /** The current operator window (a new one after a renderer crash). */
  window(): ShellWindow | undefined;
  kiosk?: KioskControl;
}

export function startShell(platform: ShellPlatform, services: ShellServices, o: ShellOptions): Shell {
  const { app } = platform;
  const log = o.log ?? ((line: string) => console.error(line));
  const kioskMode = o.kiosk !== undefined;
  const devTools = !kioskMode;
  let window: ShellWindow | undefined;
  /** Set when the app may close: the exit PIN was right, or the shell gave up. */
  let leaving = !kioskMode;
  let exitCode = 0;
  let servicesClosed = false;

  const quit = (code: number) => {
    exitCode = code;
    leaving = true;
    app.quit();
  };

  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, { devTools }));
  applySessionPolicy(platform.session, { devTools });
  applyResponseHeaders(platform.session);
  platform.protocol.handle(APP_SCHEME, serveAppFiles({ root: o.rendererDir }));
  if (kioskMode) platform.menu.setApplicationMenu(null);

  const kiosk = o.kiosk
    ? createKioskLock({
        exitPin: o.kiosk.exitPin,
        // After the answer has gone back to the page.
        onExit: () => setImmediate(() => quit(0)),
        ...(o.kioskAttempts ? { store: o.kioskAttempts } : {}),
        ...o.kioskLock,
      })
    : undefined;
  const documents = saveDialogDelivery({
    dialog: platform.dialog,
    window: () => window,
    folder: () => app.getPath('documents'),
  });
  const handlers = createHandlers({ ...services, documents, ...(kiosk ? { kiosk } : {}) });
  // The page as loaded now is one screen: a reload (or a new window after a crash) is another, and
  // the owner logins the earlier one opened end.
  let loads = 0;
  const screenOf = (contentsId: number) => `window-${contentsId}-${loads}`;
  const screenGone = (contentsId: number) => void services.ownerLogins.screenGone(screenOf(contentsId));
  const unregister = registerContractHandlers(
    platform.ipcMain,
    handlers,
    (event) => isOwnPage(event, window?.webContents),
    (event) => screenOf(event.sender.id),
  );
  const push = <E extends EventName>(event: E, payload: EventOf<E>) =>
    sendEvent(window?.webContents, event, payload);
  const unfeed = feedContractEvents(services, push);
  const restarts = createRestartPolicy(o.restarts);

  function open(): ShellWindow {
    const w = openMainWindow(platform.BrowserWindow, { preload: o.preloadPath, kiosk: kioskMode });
    w.once('ready-to-show', () => w.show());
    w.webContents.on('render-process-gone', (_event, details) => {
      screenGone(w.webContents.id);
      rendererGone(w, details.reason);
    });
    w.webContents.on('did-start-loading', () => {
      screenGone(w.webContents.id);
      loads += 1;
    });
    if (kioskMode) {
      w.on('close', (event) => {
        if (leaving) return;
        event.preventDefault();
        push('kiosk-exit-requested', {});
      });
      w.webContents.on('before-input-event', (event, input) => {
        const action = kioskKeyAction(input);
        if (action === 'allow') return;
        event.preventDefault();
        if (action === 'exit-request' && input.type === 'keyDown') push('kiosk-exit-requested', {});
      });
    }
    w.loadURL(APP_ENTRY_URL).catch((e: unknown) => log(`cannot load the operator screen: ${String(e)}`));
    return w;
  }

  function rendererGone(w: ShellWindow, reason: string): void {
    if (w !== window || reason === 'clean-exit') return;
    if (!restarts.allow()) {
      log(`the operator screen stopped (${reason}) too often; giving up`);
      quit(1);
      return;
    }
    log(`the operator screen stopped (${reason}); opening it again`);
    // The new window first: destroying the last one would end the app.
    window = open();
    w.destroy();
  }

  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    if (!leaving) event.preventDefault();
  });
  app.on('will-quit', (event) => {
    if (servicesClosed) return;
    event.preventDefault();
    unfeed();
    unregister();
    services
      .close()
      .catch((e: unknown) => log(`closing the terminal services: ${String(e)}`))
      .finally(() => {
        servicesClosed = true;
        app.exit(exitCode);
      });
  });

  window = open();
  return { window: () => window, kiosk };
}
