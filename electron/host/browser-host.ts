// The browser host: the operator screen in any local browser instead of an Electron window. It serves
// the built renderer on 127.0.0.1 only, with a strict CSP, and carries the IPC contract over one
// WebSocket: {id, channel, payload, operationId?} in, {id, result} out, events pushed as {event,
// payload}; {ping: n} is answered {pong: n} at once, so the page can tell a live link from a dead one.
//
// Access: a random token made per run. The page gets it from the URL fragment only
// (http://127.0.0.1:PORT/#token=…): a fragment never reaches a server, a log or a Referer header. The
// renderer drops it from the address bar and presents it as the `token` query parameter of the
// WebSocket upgrade. An upgrade without the right token is refused with 401, one whose Origin (or Host)
// is not this host itself with 403: other local pages and DNS-rebound names cannot drive the terminal.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { EventName, EventOf, ServerFrame } from '../ipc/contract.js';
import { type EventSources, feedContractEvents } from '../ipc/event-feed.js';
import { createHandlers, dispatch, type HandlerServices, type Handlers } from '../ipc/handlers.js';
import { CONTENT_TYPES } from './content-types.js';

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' ws://127.0.0.1:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MAX_FRAME_BYTES = 64 * 1024;
export interface BrowserHostServices extends HandlerServices {
  engine: HandlerServices['engine'] & EventSources['engine'];
  slots: HandlerServices['slots'] & EventSources['slots'];
  operations: HandlerServices['operations'] & EventSources['operations'];
}

export interface BrowserHostOptions {
  services: BrowserHostServices;
  /** Folder of the built renderer (index.html and assets). */
  staticDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Fixed token for tests; default 32 random bytes. */
  token?: string;
  handlers?: Handlers;
}

export interface BrowserHost {
  port: number;
  token: string;
  /** The address to open: the page takes the token from the fragment. */
  url: string;
  close(): Promise<void>;
}

export async function startBrowserHost(o: BrowserHostOptions): Promise<BrowserHost> {
  const token = o.token ?? randomBytes(32).toString('base64url');
  const handlers = o.handlers ?? createHandlers(o.services);
  const staticDir = resolve(o.staticDir);
  let port = 0;
  const origin = () => `http://127.0.0.1:${port}`;

  const server: Server = createServer((req, res) => {
    serveStatic(staticDir, req, res).catch(() => send(res, 500, 'internal error'));
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', origin());
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (req.headers.origin !== origin() || req.headers.host !== `127.0.0.1:${port}`) {
      return refuse(403, 'Forbidden');
    }
    if (!sameSecret(url.searchParams.get('token') ?? '', token)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => connection(ws));
  });

  const clients = new Set<WebSocket>();
  const push = <E extends EventName>(event: E, payload: EventOf<E>) => {
    const frame = JSON.stringify({ event, payload } satisfies ServerFrame);
    for (const ws of clients) if (ws.readyState === WebSocket.OPEN) ws.send(frame);
  };

  // Each connection is a screen of its own (a tab; a reload is a new one): an owner login it opened
  // is shown to it alone, and ends when it goes.
  function connection(ws: WebSocket): void {
    const screen = `tab-${randomUUID()}`;
    clients.add(ws);
    ws.on('close', () => {
      clients.delete(ws);
      void o.services.ownerLogins.screenGone(screen);
    });
    ws.on('message', (data, isBinary) => {
      void answer(ws, screen, isBinary ? undefined : data.toString());
    });
  }

  async function answer(ws: WebSocket, screen: string, text: string | undefined): Promise<void> {
    let frame: unknown;
    try {
      frame = text === undefined ? undefined : JSON.parse(text);
    } catch {
      frame = undefined;
    }
    const f = frame as
      | { id?: unknown; channel?: unknown; payload?: unknown; operationId?: unknown; ping?: unknown }
      | undefined;
    if (typeof f === 'object' && f !== null && typeof f.ping === 'number' && Number.isSafeInteger(f.ping)) {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ pong: f.ping } satisfies ServerFrame));
      return;
    }
    const id = typeof f?.id === 'number' && Number.isSafeInteger(f.id) ? f.id : null;
    const result =
      id === null || typeof f !== 'object' || f === null
        ? {
            ok: false as const,
            error: { code: 'E_INPUT_INVALID', message: 'not a request frame', details: {} },
          }
        : await dispatch(handlers, f.channel, f.payload, { screen, operationId: f.operationId });
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id, result } satisfies ServerFrame));
  }

  const unsubscribe = feedContractEvents(o.services, push);

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 0, '127.0.0.1', () => done());
  });
  port = (server.address() as AddressInfo).port;

  return {
    port,
    token,
    url: `${origin()}/#token=${token}`,
    async close() {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function baseHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}

function send(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
  } catch {
    return send(res, 400, 'bad request');
  }
  if (path.endsWith('/')) path += 'index.html';
  const file = normalize(join(root, path));
  if (!file.startsWith(root + sep) || path.includes('\0')) return send(res, 404, 'not found');
  const type = CONTENT_TYPES[extname(file)];
  if (!type) return send(res, 404, 'not found');
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return send(res, 404, 'not found');
  }
  res.writeHead(200, { ...baseHeaders(), 'Content-Type': type, 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}
