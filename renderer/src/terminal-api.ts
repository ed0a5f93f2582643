// The renderer's only way to the terminal: typed calls and events derived from the IPC contract,
// carried over the browser host's WebSocket, or in the Electron app over the preload's
// `window.terminal` (electron/ipc/bridge.ts). The browser host's token comes from the URL fragment
// (#token=…) and is removed from the address bar at once; the Electron app needs none.
import type { TerminalBridge } from '../../electron/ipc/bridge.js';
import type {
  Channel,
  EventName,
  EventOf,
  RequestOf,
  ResponseOf,
  Result,
  ServerFrame,
} from '../../electron/ipc/contract.js';

/** Channels whose request has no required field may be called without a payload. */
type PayloadArgs<C extends Channel> =
  Record<string, never> extends RequestOf<C> ? [payload?: RequestOf<C>] : [payload: RequestOf<C>];

export interface TerminalApi {
  call<C extends Channel>(channel: C, ...payload: PayloadArgs<C>): Promise<Result<ResponseOf<C>>>;
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void;
  onConnection(listener: (connected: boolean) => void): () => void;
}

/** The Electron preload's bridge, when the screen runs in the Electron app. */
function electronBridge(): TerminalBridge | undefined {
  return (window as Window & { terminal?: TerminalBridge }).terminal;
}

/** Stands in for the token under Electron, where the preload carries the contract instead of a socket. */
const ELECTRON_IPC = 'electron-ipc';

export function takeTokenFromLocation(): string | undefined {
  if (electronBridge()) return ELECTRON_IPC;
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? undefined;
  if (token) {
    sessionStorage.setItem('terminal-token', token);
    history.replaceState(null, '', window.location.pathname + window.location.search);
    return token;
  }
  // A reload of the same tab keeps working; a new tab needs the printed address.
  return sessionStorage.getItem('terminal-token') ?? undefined;
}

export function connectTerminal(token: string): TerminalApi {
  const bridge = electronBridge();
  if (bridge) return overElectronIpc(bridge);
  const pending = new Map<number, (r: Result<unknown>) => void>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  let nextId = 1;
  const wsUrl = `ws://${window.location.host}/ws?token=${encodeURIComponent(token)}`;
  const ws = new WebSocket(wsUrl);
  const opened = new Promise<void>((resolve) => ws.addEventListener('open', () => resolve()));

  ws.addEventListener('open', () => {
    for (const l of connectionListeners) l(true);
  });
  ws.addEventListener('close', () => {
    for (const [, resolve] of pending)
      resolve({
        ok: false,
        error: { code: 'E_TRANSPORT', message: 'the terminal connection closed', details: {} },
      });
    pending.clear();
    for (const l of connectionListeners) l(false);
  });
  ws.addEventListener('message', (m) => {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(m.data)) as ServerFrame;
    } catch {
      return;
    }
    if ('event' in frame) {
      for (const l of listeners.get(frame.event) ?? []) l(frame.payload);
      return;
    }
    if (frame.id === null) return;
    const resolve = pending.get(frame.id);
    pending.delete(frame.id);
    resolve?.(frame.result);
  });

  return {
    async call(channel, ...args) {
      await opened;
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve as (r: Result<unknown>) => void);
        ws.send(JSON.stringify({ id, channel, payload: args[0] ?? {} }));
      });
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      const l = listener as (p: unknown) => void;
      set.add(l);
      return () => set.delete(l);
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
  };
}

function overElectronIpc(bridge: TerminalBridge): TerminalApi {
  return {
    async call(channel, ...args) {
      const invoke = bridge.invoke[channel] as (payload: unknown) => Promise<Result<unknown>>;
      try {
        return (await invoke(args[0] ?? {})) as never;
      } catch {
        return {
          ok: false,
          error: { code: 'E_TRANSPORT', message: 'the terminal did not answer', details: {} },
        } as never;
      }
    },
    on: (event, listener) => bridge.on(event, listener),
    // IPC with the app's own main process has no connection to lose.
    onConnection: () => () => undefined,
  };
}
