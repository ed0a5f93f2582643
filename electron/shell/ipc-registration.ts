// The contract over Electron IPC: one ipcMain.handle per contract channel, each refusing a caller that
// is not the app's own page before anything else, then validating and dispatching through the same
// dispatch() the browser host uses (so malformed payloads get E_INPUT_INVALID and run nothing). Events
// go to the window's page on their own IPC channels (../ipc/bridge.ts), which only the preload hears.
import { eventChannel } from '../ipc/bridge.js';
import { CHANNELS, type EventName, type EventOf, type Result } from '../ipc/contract.js';
import { dispatch, type Handlers } from '../ipc/handlers.js';
import { isAppUrl } from './app-origin.js';
import type { InvokeEvent, ShellIpcMain, ShellWebContents } from './platform.js';

const UNTRUSTED: Result<never> = {
  ok: false,
  error: { code: 'E_INPUT_INVALID', message: "the caller is not the terminal's own page", details: {} },
};

/** Registers every contract channel; returns the function that removes them again. */
export function registerContractHandlers(
  ipc: ShellIpcMain,
  handlers: Handlers,
  trusted: (event: InvokeEvent) => boolean,
  /** The screen a call comes from (the page as loaded now: a reload is a new screen). */
  screenOf: (event: InvokeEvent) => string = (event) => `window-${event.sender.id}`,
): () => void {
  for (const channel of CHANNELS) {
    ipc.handle(channel, async (event, payload, meta) =>
      trusted(event)
        ? dispatch(handlers, channel, payload, {
            screen: screenOf(event),
            operationId: (meta as { operationId?: unknown } | undefined)?.operationId,
          })
        : UNTRUSTED,
    );
  }
  return () => {
    for (const channel of CHANNELS) ipc.removeHandler(channel);
  };
}

/**
 * The app's own page: the top frame (not an iframe) of the operator window's web contents, showing an
 * app://terminal/ URL. Anything else (another web contents, a subframe, a frame that navigated away or
 * is gone) is refused.
 */
export function isOwnPage(event: InvokeEvent, own: ShellWebContents | undefined): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null || !isAppUrl(frame.url)) return false;
  return own !== undefined && !own.isDestroyed() && event.sender.id === own.id;
}

/** Sends a contract event to the page, if there is one. */
export function sendEvent<E extends EventName>(
  contents: ShellWebContents | undefined,
  event: E,
  payload: EventOf<E>,
): void {
  if (contents && !contents.isDestroyed()) contents.send(eventChannel(event), payload);
}
