// The browser host: static files with a strict CSP on 127.0.0.1, and a WebSocket that admits only
// this run's token from this host's own origin, carrying the IPC contract.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { type BrowserHost, CSP, startBrowserHost } from '../../electron/host/browser-host.js';
import type { EngineEvent } from '../../electron/services/settlement/settlement-engine.js';
import type { SlotEvent } from '../../electron/services/slots/reader-slots.js';
import { fakeServices } from './fake-services.js';

let host: BrowserHost;
const fake = fakeServices();
const engineListeners = new Set<(e: EngineEvent) => void>();
const slotListeners = new Set<(e: SlotEvent) => void>();

function subscribe<T>(set: Set<T>, listener: T): () => void {
  set.add(listener);
  return () => set.delete(listener);
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'renderer-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><title>t</title><script type="module" src="./assets/a.js"></script>',
  );
  writeFileSync(join(dir, 'assets', 'a.js'), 'console.log(1)');
  writeFileSync(join(tmpdir(), 'outside-secret.txt'), 'secret');
  host = await startBrowserHost({
    staticDir: dir,
    services: {
      ...fake.services,
      engine: {
        ...fake.services.engine,
        on: (l) => subscribe(engineListeners, l),
      },
      slots: { ...fake.services.slots, on: (l) => subscribe(slotListeners, l) },
    },
  });
});
afterAll(async () => host?.close());

const origin = () => `http://127.0.0.1:${host.port}`;

function open(query: string, headers: Record<string, string> = { Origin: origin() }) {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws${query}`, { headers });
  return new Promise<{ ws: WebSocket; status?: number }>((resolve) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode }));
    ws.once('error', () => resolve({ ws, status: -1 }));
  });
}

function nextFrame(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
}

/** The next answer frame (events pushed meanwhile are skipped). */
function nextAnswer(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (d: Buffer) => {
      const frame = JSON.parse(d.toString()) as Record<string, unknown>;
      if ('event' in frame) return;
      ws.off('message', on);
      resolve(frame);
    };
    ws.on('message', on);
  });
}

describe('the browser host', () => {
  it('listens on 127.0.0.1 and prints an address with the token in the fragment only', () => {
    expect(host.url).toBe(`${origin()}/#token=${host.token}`);
    expect(host.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('serves the renderer with a strict CSP and no inline script allowed', async () => {
    const res = await fetch(`${origin()}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(CSP);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:*");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${origin()}/assets/a.js`)).headers.get('content-type')).toMatch(/javascript/);
  });

  it('serves nothing outside its folder', async () => {
    for (const path of [
      '/../outside-secret.txt',
      '/%2e%2e/outside-secret.txt',
      '/assets/%2e%2e%2f..%2foutside-secret.txt',
    ]) {
      const res = await fetch(`${origin()}${path}`);
      expect(res.status, path).toBe(404);
    }
    expect((await fetch(`${origin()}/`, { method: 'POST' })).status).toBe(405);
  });

  it('refuses a WebSocket without the token, or with a wrong one: 401', async () => {
    expect((await open('')).status).toBe(401);
    expect((await open('?token=')).status).toBe(401);
    // One character off (never the same character: that would be the real token).
    const last = host.token.at(-1) === 'A' ? 'B' : 'A';
    expect((await open(`?token=${host.token.slice(0, -1)}${last}`)).status).toBe(401);
    expect((await open(`?token=${host.token}x`)).status).toBe(401);
  });

  it('refuses a foreign Origin even with the token: 403', async () => {
    for (const o of [
      'http://evil.example',
      'http://localhost:1234',
      `http://127.0.0.1:${host.port + 1}`,
      'null',
    ]) {
      expect((await open(`?token=${host.token}`, { Origin: o })).status, o).toBe(403);
    }
    expect((await open(`?token=${host.token}`, {})).status).toBe(403);
  });

  it('round-trips a call and refuses bad frames without running anything', async () => {
    const { ws, status } = await open(`?token=${host.token}`);
    expect(status).toBeUndefined();
    ws.send(JSON.stringify({ id: 1, channel: 'cards:read', payload: { slot: 'payer' } }));
    expect(await nextFrame(ws)).toMatchObject({
      id: 1,
      result: { ok: true, value: { slot: 'payer', holderId: expect.any(String) } },
    });
    const before = fake.calls();
    ws.send('not json');
    expect(await nextFrame(ws)).toMatchObject({
      id: null,
      result: { ok: false, error: { code: 'E_INPUT_INVALID' } },
    });
    ws.send(JSON.stringify({ id: 2, channel: 'transfer:run', payload: { amount: -5 } }));
    expect(await nextFrame(ws)).toMatchObject({
      id: 2,
      result: { ok: false, error: { code: 'E_INPUT_INVALID' } },
    });
    ws.send(JSON.stringify({ id: 3, channel: 'shell:exec', payload: {} }));
    expect(await nextFrame(ws)).toMatchObject({
      id: 3,
      result: { ok: false, error: { code: 'E_INPUT_INVALID' } },
    });
    expect(fake.calls()).toBe(before);
    ws.close();
  });

  it('answers pings at once, carries an operation ID to the handlers, and refuses a malformed one', async () => {
    const { ws } = await open(`?token=${host.token}`);
    ws.send(JSON.stringify({ ping: 42 }));
    expect(await nextAnswer(ws)).toEqual({ pong: 42 });
    const before = fake.calls();
    ws.send(JSON.stringify({ ping: 'x' }));
    expect(await nextAnswer(ws)).toMatchObject({
      id: null,
      result: { ok: false, error: { code: 'E_INPUT_INVALID' } },
    });
    ws.send(JSON.stringify({ id: 4, channel: 'transfer:run', payload: { amount: 5 }, operationId: 7 }));
    expect(await nextAnswer(ws)).toMatchObject({
      id: 4,
      result: { ok: false, error: { code: 'E_INPUT_INVALID' } },
    });
    expect(fake.calls()).toBe(before);
    const meta = { operationId: 'op-ws-00000001' };
    ws.send(JSON.stringify({ id: 5, channel: 'transfer:run', payload: { amount: 5 }, ...meta }));
    expect(await nextAnswer(ws)).toMatchObject({ id: 5, result: { ok: true } });
    ws.send(JSON.stringify({ id: 6, channel: 'transfer:run', payload: { amount: 5 }, ...meta }));
    expect(await nextAnswer(ws)).toMatchObject({
      id: 6,
      result: {
        ok: false,
        error: { code: 'E_INPUT_INVALID', message: expect.stringContaining('already run') },
      },
    });
    ws.close();
  });

  it('pushes card and transfer events', async () => {
    const { ws } = await open(`?token=${host.token}`);
    const frames: Record<string, unknown>[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    for (const l of slotListeners) l({ type: 'card-inserted', slot: 'payer', reader: 'r', atr: '3B' });
    for (const l of engineListeners)
      l({
        type: 'step',
        event: {
          flowId: 'k1',
          flowKind: 'key-update',
          step: 'planned',
          payload: { route: 'common-key' },
          seq: 1,
        },
      });
    await vi.waitFor(() => expect(frames).toHaveLength(2));
    expect(frames).toEqual([
      { event: 'card-inserted', payload: { slot: 'payer', readerPresent: true, cardPresent: true } },
      {
        event: 'transfer-step',
        payload: { flowId: 'k1', kind: 'key-update', step: 'planned', route: 'common-key' },
      },
    ]);
    ws.close();
  });
});
