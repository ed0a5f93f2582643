// The shell put together with fake Electron objects: what it registers, the window it opens, kiosk
// mode (no menu, no DevTools, no leaving without the exit PIN), events to the page, a crashed renderer
// restarted within bounds, and the terminal services closed on quit.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../electron/ipc/contract.js';
import type { EngineEvent } from '../../electron/services/settlement/settlement-engine.js';
import type { SlotEvent } from '../../electron/services/slots/reader-slots.js';
import { hashExitPin, parseExitPinHash } from '../../electron/shell/kiosk-exit-pin.js';
import { type ShellOptions, startShell } from '../../electron/shell/shell.js';
import { fakeServices } from '../ipc/fake-services.js';
import { type FakeWindow, fakePlatform } from './fake-electron.js';

const exitPin = parseExitPinHash(hashExitPin('482913', { logN: 10, r: 8, p: 1 }));

function start(o: Omit<Partial<ShellOptions>, 'kiosk'> & { kiosk?: boolean } = {}) {
  const platform = fakePlatform();
  const fake = fakeServices();
  const slotListeners = new Set<(e: SlotEvent) => void>();
  const engineListeners = new Set<(e: EngineEvent) => void>();
  const services = {
    ...fake.services,
    engine: {
      ...fake.services.engine,
      on: (l: (e: EngineEvent) => void) => {
        engineListeners.add(l);
        return () => engineListeners.delete(l);
      },
    },
    slots: {
      ...fake.services.slots,
      on: (l: (e: SlotEvent) => void) => {
        slotListeners.add(l);
        return () => slotListeners.delete(l);
      },
    },
    close: vi.fn(async () => undefined),
  };
  // The kiosk lock of the services is the shell's own; the fake one is left out.
  const { kiosk: _unused, ...withoutKiosk } = services;
  const log = vi.fn();
  const shell = startShell(platform, withoutKiosk, {
    preloadPath: '/app/dist-electron/preload.cjs',
    rendererDir: '/app/renderer/dist',
    log,
    ...o,
    ...(o.kiosk ? { kiosk: { exitPin } } : { kiosk: undefined }),
  });
  const window = () => shell.window() as FakeWindow;
  const call = (channel: string, payload: unknown = {}) =>
    platform.ipcMain.invoke(channel, payload, { contents: window().webContents });
  return { platform, services, shell, window, call, log, slotListeners, engineListeners };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the shell', () => {
  it('guards the window it opens, loads the app page and shows it when ready', () => {
    const { platform, window } = start();
    expect(platform.windows()).toHaveLength(1);
    const w = window();
    expect(w.loaded).toEqual(['app://terminal/index.html']);
    expect(w.options.webPreferences).toMatchObject({
      preload: '/app/dist-electron/preload.cjs',
      sandbox: true,
    });
    expect(w.webContents.fire('will-navigate', 'https://example.com/')).toBe(true);
    expect(w.webContents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(w.shown).toBe(false);
    w.emit('ready-to-show');
    expect(w.shown).toBe(true);
  });

  it('saves an exported Z report through the save dialog over its window, never as a download', async () => {
    const { platform, window, call, services } = start();
    platform.dialog.answer = { canceled: true };
    expect(await call('day:export', { day: '2026-11-21', format: 'csv' })).toEqual({
      ok: true,
      value: { delivery: 'cancelled', fileName: 'z.csv' },
    });
    expect(platform.dialog.shown[0]?.window).toBe(window());
    expect(platform.dialog.shown[0]?.options).toMatchObject({
      defaultPath: expect.stringMatching(/[\\/]z\.csv$/),
      filters: [{ name: 'CSV table', extensions: ['csv'] }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'shell-save-'));
    try {
      platform.dialog.answer = { canceled: false, filePath: join(dir, 'day.csv') };
      expect(await call('day:export', { day: '2026-11-21', format: 'csv' })).toEqual({
        ok: true,
        value: { delivery: 'saved', fileName: 'z.csv', path: join(dir, 'day.csv') },
      });
      expect(readFileSync(join(dir, 'day.csv'), 'utf8')).toBe('a');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(services.reports.day.export).toHaveBeenCalledTimes(2);
    // The session still cancels every download and refuses blob: URLs.
    expect(platform.session.cancels('blob:app://terminal/1234')).toBe(true);
  });

  it('sets the session rules, the app protocol and a handler for every contract channel', () => {
    const { platform } = start();
    expect(platform.session.grants('media')).toBe(false);
    expect(platform.session.cancels('https://example.com/')).toBe(true);
    expect(platform.session.headersReceived).toBeTypeOf('function');
    expect([...platform.protocol.handlers.keys()]).toEqual(['app']);
    expect([...platform.ipcMain.handlers.keys()].sort()).toEqual([...CHANNELS].sort());
  });

  it('answers the page over IPC and refuses other callers', async () => {
    const { platform, call, services } = start();
    expect(await call('cards:read', { slot: 'payee' })).toMatchObject({ ok: true });
    const stranger = platform.ipcMain.invoke('cards:read', { slot: 'payee' }, { contents: { id: 9999 } });
    expect(await stranger).toMatchObject({ ok: false, error: { code: 'E_INPUT_INVALID' } });
    expect(services.engine.readCard).toHaveBeenCalledTimes(1);
  });

  it('pushes card and flow events to the page', () => {
    const { window, slotListeners, engineListeners } = start();
    for (const l of slotListeners) l({ type: 'card-inserted', slot: 'payer' } as SlotEvent);
    for (const l of engineListeners) {
      l({
        type: 'journal',
        event: { flowId: 'f1', flowKind: 'value-transfer', step: 'started', payload: {} },
      } as unknown as EngineEvent);
    }
    expect(window().webContents.sent).toEqual([
      {
        channel: 'terminal-event:card-inserted',
        payload: { slot: 'payer', readerPresent: true, cardPresent: true },
      },
      {
        channel: 'terminal-event:transfer-step',
        payload: { flowId: 'f1', kind: 'value-transfer', step: 'started' },
      },
    ]);
  });

  describe('outside kiosk mode', () => {
    it('keeps the menu and DevTools, lets the window close, and has no kiosk', async () => {
      const { platform, window, call } = start();
      expect(platform.menu.applicationMenu).toBe('default');
      expect(window().options.webPreferences.devTools).toBe(true);
      expect(window().tryClose()).toBe(false);
      expect(window().webContents.press({ key: 'F12' })).toBe(false);
      expect(await call('kiosk:status')).toEqual({ ok: true, value: { active: false } });
      expect(await call('kiosk:exit', { pin: '482913' })).toMatchObject({ ok: false });
    });
  });

  describe('in kiosk mode', () => {
    it('has no menu and no DevTools, and closes DevTools that open anyway', () => {
      const { platform, window } = start({ kiosk: true });
      expect(platform.menu.applicationMenu).toBeNull();
      expect(window().options).toMatchObject({ kiosk: true, fullscreen: true, frame: false });
      expect(window().options.webPreferences.devTools).toBe(false);
      window().webContents.emit('devtools-opened');
      expect(window().webContents.devToolsClosed).toBe(1);
      expect(platform.session.cancels('devtools://devtools/bundled/inspector.html')).toBe(true);
    });

    it('cannot be closed: the window stays and the page is asked for the exit PIN', () => {
      const { window, platform } = start({ kiosk: true });
      expect(window().tryClose()).toBe(true);
      expect(window().webContents.sent).toEqual([
        { channel: 'terminal-event:kiosk-exit-requested', payload: {} },
      ]);
      platform.app.quit();
      expect(platform.app.exitCode).toBeUndefined();
    });

    it('swallows closing keys (asking for the PIN) and DevTools keys (silently)', () => {
      const { window } = start({ kiosk: true });
      const contents = window().webContents;
      expect(contents.press({ key: 'F4', alt: true })).toBe(true);
      expect(contents.press({ key: 'q', control: true })).toBe(true);
      expect(contents.press({ key: 'w', control: true, type: 'keyUp' })).toBe(true);
      expect(contents.press({ key: 'I', control: true, shift: true })).toBe(true);
      expect(contents.press({ key: 'F11' })).toBe(true);
      expect(contents.press({ key: '7' })).toBe(false);
      expect(contents.sent.map((s) => s.channel)).toEqual([
        'terminal-event:kiosk-exit-requested',
        'terminal-event:kiosk-exit-requested',
      ]);
    });

    it('refuses a wrong or malformed exit PIN and stays', async () => {
      const { window, call, platform, services } = start({ kiosk: true });
      expect(await call('kiosk:status')).toEqual({ ok: true, value: { active: true } });
      expect(await call('kiosk:exit', { pin: '000000' })).toMatchObject({
        ok: false,
        error: { code: 'E_PIN_WRONG', details: { triesLeft: 4 } },
      });
      expect(await call('kiosk:exit', { pin: '48291x' })).toMatchObject({
        ok: false,
        error: { code: 'E_INPUT_INVALID' },
      });
      expect(await call('kiosk:exit', { pin: '482913', now: true })).toMatchObject({ ok: false });
      await tick();
      expect(platform.app.quits).toBe(0);
      expect(window().tryClose()).toBe(true);
      expect(services.close).not.toHaveBeenCalled();
    });

    it('leaves with the right exit PIN: the app quits after the answer, closing the services first', async () => {
      const { window, call, platform, services } = start({ kiosk: true });
      expect(await call('kiosk:exit', { pin: '482913' })).toEqual({ ok: true, value: { exiting: true } });
      expect(platform.app.quits).toBe(0);
      await tick();
      expect(platform.app.quits).toBe(1);
      expect(services.close).toHaveBeenCalledTimes(1);
      await tick();
      expect(platform.app.exitCode).toBe(0);
      expect(window().tryClose()).toBe(false);
    });
  });

  describe('a crashed renderer', () => {
    it('gets a new window; the old one is destroyed and no longer trusted', async () => {
      const { platform, window, log } = start({ kiosk: true });
      const first = window();
      first.webContents.emit('render-process-gone', {}, { reason: 'crashed' });
      expect(platform.windows()).toHaveLength(2);
      expect(window()).not.toBe(first);
      expect(first.destroyed).toBe(true);
      expect(window().loaded).toEqual(['app://terminal/index.html']);
      expect(window().options.kiosk).toBe(true);
      expect(log).toHaveBeenCalledWith(expect.stringContaining('opening it again'));
      const fromOld = platform.ipcMain.invoke('kiosk:status', {}, { contents: first.webContents });
      expect(await fromOld).toMatchObject({ ok: false });
      // The new window is still a kiosk window that cannot be closed.
      expect(window().tryClose()).toBe(true);
    });

    it('is restarted at most three times a minute; then the shell gives up and quits with an error', async () => {
      let t = 0;
      const { platform, window, services, log } = start({ restarts: { now: () => t } });
      for (let i = 0; i < 3; i++) {
        window().webContents.emit('render-process-gone', {}, { reason: 'oom' });
        t += 1000;
      }
      expect(platform.windows()).toHaveLength(4);
      window().webContents.emit('render-process-gone', {}, { reason: 'crashed' });
      expect(platform.windows()).toHaveLength(4);
      expect(log).toHaveBeenCalledWith(expect.stringContaining('giving up'));
      expect(platform.app.quits).toBe(1);
      expect(services.close).toHaveBeenCalledTimes(1);
      await tick();
      expect(platform.app.exitCode).toBe(1);
    });

    it('is not restarted after a clean exit, nor for a window already replaced', () => {
      const { platform, window } = start();
      const first = window();
      first.webContents.emit('render-process-gone', {}, { reason: 'clean-exit' });
      expect(platform.windows()).toHaveLength(1);
      first.webContents.emit('render-process-gone', {}, { reason: 'crashed' });
      first.webContents.emit('render-process-gone', {}, { reason: 'crashed' });
      expect(platform.windows()).toHaveLength(2);
    });
  });

  it('outside kiosk mode quits when the window is closed, closing the services once', async () => {
    const { platform, services } = start();
    platform.app.emit('window-all-closed');
    expect(platform.app.quits).toBe(1);
    await tick();
    expect(services.close).toHaveBeenCalledTimes(1);
    expect(platform.app.exitCode).toBe(0);
  });
});
