// The preload exposes exactly the contract: one function per channel and a subscription per event,
// nothing of ipcRenderer; and its bundle requires nothing but 'electron' (it runs sandboxed).
import { describe, expect, it, vi } from 'vitest';
import { CHANNEL_NAMES, EVENT_NAMES } from '../../electron/ipc/bridge.js';
import { CHANNELS, events } from '../../electron/ipc/contract.js';
import { createTerminalBridge, type RendererIpc } from '../../electron/shell/preload-bridge.js';

function fakeIpc() {
  const listeners = new Map<string, Set<(event: unknown, payload: unknown) => void>>();
  const ipc = {
    invoke: vi.fn(async (channel: string, payload: unknown) => ({ ok: true, value: { channel, payload } })),
    on: vi.fn((channel: string, l: (event: unknown, payload: unknown) => void) => {
      listeners.set(channel, (listeners.get(channel) ?? new Set()).add(l));
    }),
    removeListener: vi.fn((channel: string, l: (event: unknown, payload: unknown) => void) => {
      listeners.get(channel)?.delete(l);
    }),
  } satisfies RendererIpc;
  const emit = (channel: string, payload: unknown) => {
    for (const l of listeners.get(channel) ?? []) l({ sender: 'the ipcRenderer itself' }, payload);
  };
  return { ipc, emit, listeners };
}

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn() },
}));

describe('the preload bridge', () => {
  it("lists exactly the contract's channels and events", () => {
    expect([...CHANNEL_NAMES].sort()).toEqual([...CHANNELS].sort());
    expect([...EVENT_NAMES].sort()).toEqual(Object.keys(events).sort());
  });

  it('exposes one function per contract channel, and on(); nothing else', () => {
    const bridge = createTerminalBridge(fakeIpc().ipc);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on']);
    expect(Object.keys(bridge.invoke).sort()).toEqual([...CHANNELS].sort());
    for (const f of Object.values(bridge.invoke)) expect(typeof f).toBe('function');
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.isFrozen(bridge.invoke)).toBe(true);
  });

  it('sends each channel to the main process under its own name and returns the answer', async () => {
    const { ipc } = fakeIpc();
    const bridge = createTerminalBridge(ipc);
    expect(await bridge.invoke['transfer:run']({ amount: 1250 })).toEqual({
      ok: true,
      value: { channel: 'transfer:run', payload: { amount: 1250 } },
    });
    expect(ipc.invoke).toHaveBeenCalledWith('transfer:run', { amount: 1250 }, { operationId: undefined });
    // The operation ID goes with it, and nothing else of the object the page passed.
    const meta = { operationId: 'op-12345678', sender: { id: 1 }, extra: () => undefined };
    await bridge.invoke['transfer:run']({ amount: 1 }, meta as never);
    expect(ipc.invoke).toHaveBeenLastCalledWith(
      'transfer:run',
      { amount: 1 },
      { operationId: 'op-12345678' },
    );
  });

  it("hands event listeners the payload only, never Electron's event object, and unsubscribes", () => {
    const { ipc, emit, listeners } = fakeIpc();
    const bridge = createTerminalBridge(ipc);
    const seen: unknown[][] = [];
    const off = bridge.on('card-inserted', (...args: unknown[]) => seen.push(args));
    emit('terminal-event:card-inserted', { slot: 'payer' });
    expect(seen).toEqual([[{ slot: 'payer' }]]);
    off();
    emit('terminal-event:card-inserted', { slot: 'payee' });
    expect(seen).toHaveLength(1);
    expect(listeners.get('terminal-event:card-inserted')?.size).toBe(0);
  });

  it('refuses events outside the contract and listeners that are not functions', () => {
    const { ipc } = fakeIpc();
    const bridge = createTerminalBridge(ipc);
    for (const name of ['', 'constructor', '__proto__', 'ipc-message', 'terminal-event:card-inserted']) {
      expect(() => bridge.on(name as never, () => undefined)).toThrow(TypeError);
    }
    expect(() => bridge.on('recovered', 'not a function' as never)).toThrow(TypeError);
    expect(ipc.on).not.toHaveBeenCalled();
  });

  it("exposes the bridge as window.terminal through contextBridge, built on Electron's ipcRenderer", async () => {
    const electron = await import('electron');
    await import('../../electron/preload.js');
    const expose = vi.mocked(electron.contextBridge.exposeInMainWorld);
    expect(expose).toHaveBeenCalledTimes(1);
    const [key, api] = expose.mock.calls[0] as [string, { invoke: object }];
    expect(key).toBe('terminal');
    expect(Object.keys(api.invoke).sort()).toEqual([...CHANNELS].sort());
  });
});
