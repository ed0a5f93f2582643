// The renderer's only way to the terminal: typed calls and events derived from the IPC contract,
// carried over the browser host's WebSocket, or in the Electron app over the preload's
// `window.terminal` (electron/ipc/bridge.ts). The browser host's token comes from the URL fragment
// (#token=…) and is removed from the address bar at once; the Electron app needs none.
//
// The link is watched, never trusted: every call has a time limit; the socket is pinged and counted
// dead when it stops answering; when it closes or dies every call waiting on it fails at once with
// E_DISCONNECTED (what it asked may or may not have been done: the screen says so), calls made while
// it is down fail at once too, and it reconnects by itself with a growing pause between tries.
import type { TerminalBridge } from '../../electron/ipc/bridge.js';
import {
  CARD_ACCESS,
  type CallMeta,
  type Channel,
  type EventName,
  type EventOf,
  type RequestOf,
  type ResponseOf,
  type Result,
  type ServerFrame,
} from '../../electron/ipc/contract.js';

/** Channels whose request has no required field may be called without a payload. */
type CallArgs<C extends Channel> =
  Record<string, never> extends RequestOf<C>
    ? [payload?: RequestOf<C>, meta?: CallMeta]
    : [payload: RequestOf<C>, meta?: CallMeta];

export interface TerminalApi {
  call<C extends Channel>(channel: C, ...args: CallArgs<C>): Promise<Result<ResponseOf<C>>>;
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void;
  /** Told true when the link to the terminal is up (again), false when it is lost. */
  onConnection(listener: (connected: boolean) => void): () => void;
  /** Whether the link is up now. */
  connected(): boolean;
}

export interface LinkTimings {
  /** A call that reads or changes nothing on the cards. */
  quickCallMs: number;
  /** A card operation (a payment with its key update can take a while on slow cards). */
  cardCallMs: number;
  pingEveryMs: number;
  /** No frame at all for this long: the link is dead. */
  silentMs: number;
  /** Pauses between reconnection tries: the first, doubled up to the last. */
  retryFirstMs: number;
  retryMaxMs: number;
  /** How long a call made before the first connection waits for it. */
  firstConnectMs: number;
}

export const LINK_TIMINGS: LinkTimings = {
  quickCallMs: 15_000,
  cardCallMs: 90_000,
  pingEveryMs: 2_000,
  silentMs: 6_000,
  retryFirstMs: 250,
  retryMaxMs: 4_000,
  firstConnectMs: 10_000,
};

function disconnected(message: string): Result<never> {
  return { ok: false, error: { code: 'E_DISCONNECTED', message, details: {} } };
}

/** The time limit of a call on `channel`. */
export function callLimitMs(channel: Channel, t: LinkTimings = LINK_TIMINGS): number {
  return CARD_ACCESS[channel] === 'none' ? t.quickCallMs : t.cardCallMs;
}

/** A fresh operation ID for a card operation (a UUID). */
export function newOperationId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
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

export function connectTerminal(token: string, timings: LinkTimings = LINK_TIMINGS): TerminalApi {
  const bridge = electronBridge();
  if (bridge) return overElectronIpc(bridge, timings);
  return overWebSocket(`ws://${window.location.host}/ws?token=${encodeURIComponent(token)}`, timings);
}

function overWebSocket(url: string, t: LinkTimings): TerminalApi {
  const pending = new Map<number, { settle: (r: Result<unknown>) => void; timer: number }>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  const openWaiters = new Set<() => void>();
  let nextId = 1;
  let ws: WebSocket | undefined;
  let up = false;
  let everUp = false;
  let retryMs = t.retryFirstMs;
  let lastFrame = 0;
  let pinger: number | undefined;

  const announce = (connected: boolean) => {
    for (const l of connectionListeners) l(connected);
  };

  const failAll = (message: string) => {
    for (const [id, p] of pending) {
      window.clearTimeout(p.timer);
      pending.delete(id);
      p.settle(disconnected(message));
    }
  };

  /** The socket is gone (closed, or silent too long): fail what waits on it, and try again later. */
  const lost = (socket: WebSocket, why: string) => {
    if (socket !== ws) return;
    ws = undefined;
    window.clearInterval(pinger);
    try {
      socket.close();
    } catch {
      // already closing
    }
    failAll(why);
    if (up) {
      up = false;
      announce(false);
    }
    window.setTimeout(open, retryMs);
    retryMs = Math.min(retryMs * 2, t.retryMaxMs);
  };

  function open(): void {
    const socket = new WebSocket(url);
    ws = socket;
    socket.addEventListener('open', () => {
      if (socket !== ws) return;
      up = true;
      everUp = true;
      retryMs = t.retryFirstMs;
      lastFrame = Date.now();
      pinger = window.setInterval(() => {
        if (Date.now() - lastFrame > t.silentMs) return lost(socket, 'the terminal stopped answering');
        socket.send(JSON.stringify({ ping: Date.now() }));
      }, t.pingEveryMs);
      for (const w of openWaiters) w();
      openWaiters.clear();
      announce(true);
    });
    socket.addEventListener('close', () => lost(socket, 'the connection to the terminal closed'));
    socket.addEventListener('message', (m) => {
      if (socket !== ws) return;
      lastFrame = Date.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(m.data)) as ServerFrame;
      } catch {
        return;
      }
      if ('pong' in frame) return;
      if ('event' in frame) {
        for (const l of listeners.get(frame.event) ?? []) l(frame.payload);
        return;
      }
      if (frame.id === null) return;
      const p = pending.get(frame.id);
      if (!p) return;
      pending.delete(frame.id);
      window.clearTimeout(p.timer);
      p.settle(frame.result);
    });
  }

  /** Until the first connection, a call waits for it (the page starts before its socket is open). */
  const firstConnection = () =>
    new Promise<boolean>((resolve) => {
      const done = () => resolve(true);
      openWaiters.add(done);
      window.setTimeout(() => {
        openWaiters.delete(done);
        resolve(up);
      }, t.firstConnectMs);
    });

  open();

  return {
    async call(channel, ...args) {
      if (!up && !everUp) await firstConnection();
      const socket = ws;
      if (!up || !socket) return disconnected('not connected to the terminal') as never;
      const id = nextId++;
      const limit = callLimitMs(channel, t);
      return new Promise((resolve) => {
        const settle = resolve as (r: Result<unknown>) => void;
        const timer = window.setTimeout(() => {
          pending.delete(id);
          settle(disconnected(`no answer from the terminal within ${Math.round(limit / 1000)} s`));
        }, limit);
        pending.set(id, { settle, timer });
        const [payload, meta] = args;
        socket.send(JSON.stringify({ id, channel, payload: payload ?? {}, operationId: meta?.operationId }));
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
    connected: () => up,
  };
}

function overElectronIpc(bridge: TerminalBridge, t: LinkTimings): TerminalApi {
  return {
    async call(channel, ...args) {
      const invoke = bridge.invoke[channel] as (
        payload: unknown,
        meta?: CallMeta,
      ) => Promise<Result<unknown>>;
      const limit = callLimitMs(channel, t);
      let timer: number | undefined;
      const late = new Promise<Result<unknown>>((resolve) => {
        timer = window.setTimeout(
          () => resolve(disconnected(`no answer from the terminal within ${Math.round(limit / 1000)} s`)),
          limit,
        );
      });
      try {
        return (await Promise.race([invoke(args[0] ?? {}, args[1]), late])) as never;
      } catch {
        return disconnected('the terminal did not answer') as never;
      } finally {
        window.clearTimeout(timer);
      }
    },
    on: (event, listener) => bridge.on(event, listener),
    // IPC with the app's own main process has no connection to lose: if it goes, so does this page.
    onConnection: () => () => undefined,
    connected: () => true,
  };
}
