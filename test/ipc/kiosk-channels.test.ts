// The kiosk channels: status says whether a kiosk lock exists, exit passes the PIN to it and nothing
// else. Where there is no kiosk (the browser host, the CLI) exit is refused and runs nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBrowserHost } from '../../electron/host/browser-host.js';
import { createHandlers, dispatch } from '../../electron/ipc/handlers.js';
import { TerminalError } from '../../protocol/errors.js';
import { fakeServices } from './fake-services.js';

function withoutKiosk() {
  const fake = fakeServices();
  const { kiosk: _kiosk, ...services } = fake.services;
  return { fake, services };
}

describe('the kiosk channels', () => {
  it('pass the PIN to the kiosk lock and answer that the window is being left', async () => {
    const fake = fakeServices();
    const result = await dispatch(createHandlers(fake.services), 'kiosk:exit', { pin: '482913' });
    expect(result).toEqual({ ok: true, value: { exiting: true } });
    expect(fake.services.kiosk.exit).toHaveBeenCalledWith('482913');
    expect(await dispatch(createHandlers(fake.services), 'kiosk:status', {})).toEqual({
      ok: true,
      value: { active: true },
    });
  });

  it("keep the lock's refusal of a wrong PIN, code and details", async () => {
    const fake = fakeServices();
    fake.services.kiosk.exit.mockRejectedValueOnce(
      new TerminalError('E_PIN_WRONG', 'wrong exit PIN', { triesLeft: 4 }),
    );
    expect(await dispatch(createHandlers(fake.services), 'kiosk:exit', { pin: '000000' })).toEqual({
      ok: false,
      error: { code: 'E_PIN_WRONG', message: 'wrong exit PIN', details: { triesLeft: 4 } },
    });
  });

  it('refuse to exit a kiosk lock that is not active, and never ask it for the PIN', async () => {
    const fake = fakeServices();
    fake.services.kiosk.active.mockReturnValue(false);
    const handlers = createHandlers(fake.services);
    expect(await dispatch(handlers, 'kiosk:status', {})).toEqual({ ok: true, value: { active: false } });
    expect(await dispatch(handlers, 'kiosk:exit', { pin: '482913' })).toMatchObject({
      ok: false,
      error: { code: 'E_INPUT_INVALID' },
    });
    expect(fake.services.kiosk.exit).not.toHaveBeenCalled();
  });

  it('say there is no kiosk where the services have none, and refuse exit', async () => {
    const { fake, services } = withoutKiosk();
    const handlers = createHandlers(services);
    expect(await dispatch(handlers, 'kiosk:status', {})).toEqual({ ok: true, value: { active: false } });
    expect(await dispatch(handlers, 'kiosk:exit', { pin: '482913' })).toMatchObject({
      ok: false,
      error: { code: 'E_INPUT_INVALID', message: expect.stringContaining('not running as a kiosk') },
    });
    expect(fake.services.kiosk.exit).not.toHaveBeenCalled();
  });

  it('over the browser host: status is inactive and exit is refused', async () => {
    const { fake, services } = withoutKiosk();
    const dir = mkdtempSync(join(tmpdir(), 'renderer-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    const host = await startBrowserHost({
      staticDir: dir,
      services: {
        ...services,
        engine: { ...services.engine, on: () => () => undefined },
        slots: { ...services.slots, on: () => () => undefined },
      },
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`, {
        headers: { Origin: `http://127.0.0.1:${host.port}` },
      });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const ask = (id: number, channel: string, payload: unknown) =>
        new Promise<unknown>((resolve) => {
          ws.once('message', (d) => resolve(JSON.parse(d.toString())));
          ws.send(JSON.stringify({ id, channel, payload }));
        });
      expect(await ask(1, 'kiosk:status', {})).toEqual({
        id: 1,
        result: { ok: true, value: { active: false } },
      });
      expect(await ask(2, 'kiosk:exit', { pin: '482913' })).toMatchObject({
        id: 2,
        result: { ok: false, error: { code: 'E_INPUT_INVALID' } },
      });
      expect(await ask(3, 'kiosk:exit', { pin: 'nope' })).toMatchObject({
        id: 3,
        result: { ok: false, error: { code: 'E_INPUT_INVALID' } },
      });
      ws.close();
      expect(fake.services.kiosk.exit).not.toHaveBeenCalled();
    } finally {
      await host.close();
    }
  });
});
