// What the preload exposes as `window.terminal`: one function per contract channel, which sends that
// channel's payload to the main process and returns its Result, and `on(event, listener)` for the
// contract's events, which hands the listener the payload only (never Electron's event object, whose
// `sender` would reach ipcRenderer). Names outside the contract are refused. Built from the name lists
// in ../ipc/bridge.ts so that the sandboxed preload bundle needs nothing but 'electron'.
import { CHANNEL_NAMES, EVENT_NAMES, eventChannel, type TerminalBridge } from '../ipc/bridge.js';
import type { EventName } from '../ipc/contract.js';

/** The part of Electron's ipcRenderer the bridge uses. */
export interface RendererIpc {
  invoke(channel: string, payload: unknown, meta: unknown): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

export function createTerminalBridge(ipc: RendererIpc): TerminalBridge {
  const invoke = Object.fromEntries(
    CHANNEL_NAMES.map((channel) => [
      channel,
      // Only the operation ID crosses with the payload: nothing else of a page's object reaches IPC.
      (payload: unknown, meta?: { operationId?: unknown }) =>
        ipc.invoke(channel, payload, { operationId: meta?.operationId }),
    ]),
  ) as unknown as TerminalBridge['invoke'];
  const events: readonly string[] = EVENT_NAMES;
  const on = (event: EventName, listener: (payload: never) => void): (() => void) => {
    if (!events.includes(event)) throw new TypeError(`not a terminal event: ${String(event)}`);
    if (typeof listener !== 'function') throw new TypeError('the listener must be a function');
    const forward = (_event: unknown, payload: unknown) => (listener as (p: unknown) => void)(payload);
    ipc.on(eventChannel(event), forward);
    return () => {
      ipc.removeListener(eventChannel(event), forward);
    };
  };
  return Object.freeze({ invoke: Object.freeze(invoke), on: on as TerminalBridge['on'] });
}
