// The renderer's terminal API picks the Electron preload's `window.terminal` when it is there (no
// token, no WebSocket) and calls the contract through it. The module is bundled for the browser and
// run in a VM context with a fake window: the renderer's code as the page would run it.
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it, vi } from 'vitest';

const source = join(import.meta.dirname, '../../renderer/src/terminal-api.ts');

async function loadTerminalApi(window: Record<string, unknown>) {
  const out = await build({
    entryPoints: [source],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'terminalApi',
    platform: 'browser',
    logLevel: 'silent',
  });
  const context: Record<string, unknown> = {
    window,
    sessionStorage: window.sessionStorage,
    history: window.history,
    URLSearchParams,
  };
  runInNewContext(`${out.outputFiles[0]?.text}; this.terminalApi = terminalApi;`, context);
  return context.terminalApi as {
    takeTokenFromLocation(): string | undefined;
    connectTerminal(
      token: string,
      timings?: Record<string, number>,
    ): {
      call(channel: string, payload?: unknown, meta?: unknown): Promise<unknown>;
      on(event: string, listener: (p: unknown) => void): () => void;
      onConnection(listener: (c: boolean) => void): () => void;
    };
  };
}

function fakeBridge() {
  return {
    invoke: {
      'keys:update': vi.fn(() => new Promise(() => undefined)),
      'cards:read': vi.fn(async (payload: unknown) => ({ ok: true, value: { read: payload } })),
      'slots:status': vi.fn(async (payload: unknown) => ({ ok: true, value: { status: payload } })),
      'transfer:run': vi.fn(async () => {
        throw new Error('main process gone');
      }),
    },
    on: vi.fn(() => () => undefined),
  };
}

/** The page's timers, as a browser window has them. */
function timers(window: Record<string, unknown>): Record<string, unknown> {
  return { ...window, setTimeout, clearTimeout, setInterval, clearInterval };
}

describe("the renderer's terminal API in the Electron app", () => {
  it('needs no token and calls the contract through window.terminal', async () => {
    const bridge = fakeBridge();
    const api = await loadTerminalApi(timers({ terminal: bridge }));
    const token = api.takeTokenFromLocation();
    expect(token).toBeTypeOf('string');
    const terminal = api.connectTerminal(token as string);
    expect(await terminal.call('cards:read', { slot: 'payer' })).toEqual({
      ok: true,
      value: { read: { slot: 'payer' } },
    });
    expect(await terminal.call('slots:status')).toEqual({ ok: true, value: { status: {} } });
    expect(bridge.invoke['cards:read']).toHaveBeenCalledWith({ slot: 'payer' }, undefined);
    await terminal.call('transfer:run', { amount: 1 }, { operationId: 'op-12345678' });
    expect(bridge.invoke['transfer:run']).toHaveBeenCalledWith({ amount: 1 }, { operationId: 'op-12345678' });
  });

  it('turns a failed call into an E_DISCONNECTED result', async () => {
    const terminal = (await loadTerminalApi(timers({ terminal: fakeBridge() }))).connectTerminal('x');
    expect(await terminal.call('transfer:run', { amount: 100 })).toMatchObject({
      ok: false,
      error: { code: 'E_DISCONNECTED' },
    });
  });

  it('gives up on a call that gets no answer in time, with E_DISCONNECTED', async () => {
    const bridge = fakeBridge();
    const terminal = (await loadTerminalApi(timers({ terminal: bridge }))).connectTerminal('x', {
      quickCallMs: 50,
      cardCallMs: 80,
      pingEveryMs: 1000,
      silentMs: 3000,
      retryFirstMs: 10,
      retryMaxMs: 100,
      firstConnectMs: 100,
    });
    const started = Date.now();
    expect(await terminal.call('keys:update', {})).toMatchObject({
      ok: false,
      error: { code: 'E_DISCONNECTED', message: expect.stringContaining('no answer from the terminal') },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('subscribes to events through the bridge', async () => {
    const bridge = fakeBridge();
    const terminal = (await loadTerminalApi({ terminal: bridge })).connectTerminal('x');
    const listener = () => undefined;
    terminal.on('card-inserted', listener);
    expect(bridge.on).toHaveBeenCalledWith('card-inserted', listener);
  });

  it('without the preload still wants the browser host token from the address', async () => {
    const page = (hash: string) => {
      const stored = new Map<string, string>();
      return {
        location: { hash, pathname: '/', search: '' },
        sessionStorage: {
          getItem: (k: string) => stored.get(k) ?? null,
          setItem: (k: string, v: string) => stored.set(k, v),
        },
        history: { replaceState: () => undefined },
      };
    };
    expect((await loadTerminalApi(page(''))).takeTokenFromLocation()).toBeUndefined();
    expect((await loadTerminalApi(page('#token=abc'))).takeTokenFromLocation()).toBe('abc');
  });
});
