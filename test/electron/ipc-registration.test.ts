// The contract over Electron IPC: a handler for every contract channel and no other; a caller that is
// not the app's own page is refused before anything runs; payloads are validated by the contract.
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../../electron/ipc/contract.js';
import { createHandlers } from '../../electron/ipc/handlers.js';
import { isOwnPage, registerContractHandlers, sendEvent } from '../../electron/shell/ipc-registration.js';
import { fakeServices } from '../ipc/fake-services.js';
import { FakeIpcMain, FakeWebContents } from './fake-electron.js';

function registered() {
  const fake = fakeServices();
  const ipc = new FakeIpcMain();
  const own = new FakeWebContents();
  const unregister = registerContractHandlers(ipc, createHandlers(fake.services), (e) => isOwnPage(e, own));
  return { fake, ipc, own, unregister };
}

describe('IPC registration', () => {
  it('handles every contract channel and nothing else', () => {
    const { ipc } = registered();
    expect([...ipc.handlers.keys()].sort()).toEqual([...CHANNELS].sort());
  });

  it("answers the app's own page through the contract", async () => {
    const { ipc, own, fake } = registered();
    expect(await ipc.invoke('cards:read', { slot: 'payer' }, { contents: own })).toMatchObject({
      ok: true,
      value: { slot: 'payer' },
    });
    expect(fake.services.engine.readCard).toHaveBeenCalledWith('payer');
  });

  it('refuses other callers and runs nothing: another contents, a subframe, another URL, a gone frame', async () => {
    const { ipc, own, fake } = registered();
    const stranger = new FakeWebContents();
    const callers = [
      { contents: stranger },
      { contents: own, subframe: true },
      { contents: own, url: 'https://example.com/' },
      { contents: own, url: 'app://other/index.html' },
      { contents: own, url: 'file:///tmp/index.html' },
      { contents: own, noFrame: true },
    ];
    for (const from of callers) {
      for (const channel of CHANNELS) {
        expect(await ipc.invoke(channel, { slot: 'payer', amount: 100, pin: '1234' }, from)).toMatchObject({
          ok: false,
          error: { code: 'E_INPUT_INVALID', message: "the caller is not the terminal's own page" },
        });
      }
    }
    own.destroyed = true;
    expect(await ipc.invoke('transfer:run', { amount: 100 }, { contents: own })).toMatchObject({ ok: false });
    expect(fake.calls()).toBe(0);
  });

  it("refuses malformed payloads from the app's own page on every channel, running nothing", async () => {
    const { ipc, own, fake } = registered();
    for (const channel of CHANNELS) {
      for (const payload of [null, 'x', 7, [], { extra: true }, { slot: 'both', amount: -1, pin: 'x' }]) {
        expect(
          await ipc.invoke(channel, payload, { contents: own }),
          `${channel} ${JSON.stringify(payload)}`,
        ).toMatchObject({
          ok: false,
          error: { code: 'E_INPUT_INVALID' },
        });
      }
    }
    expect(fake.calls()).toBe(0);
  });

  it('has no handler for a channel outside the contract', async () => {
    const { ipc, own } = registered();
    await expect(ipc.invoke('fs:read', { path: '/etc/passwd' }, { contents: own })).rejects.toThrow(
      /No handler/,
    );
  });

  it('removes every handler it registered', () => {
    const { ipc, unregister } = registered();
    unregister();
    expect(ipc.handlers.size).toBe(0);
  });

  it('sends events on their own channel, and not to destroyed contents', () => {
    const contents = new FakeWebContents();
    sendEvent(contents, 'kiosk-exit-requested', {});
    expect(contents.sent).toEqual([{ channel: 'terminal-event:kiosk-exit-requested', payload: {} }]);
    contents.destroyed = true;
    sendEvent(contents, 'kiosk-exit-requested', {});
    sendEvent(undefined, 'kiosk-exit-requested', {});
    expect(contents.sent).toHaveLength(1);
  });
});
