// Exported documents in the Electron app: saved by the main process where the operator chooses in a
// save dialog on the operator window (the session blocks downloads and blob: URLs); cancelled says so;
// a place that cannot be written is refused with the reason. Through the shell, a receipt exported
// over the contract reaches the dialog and lands in the file, and a reload of the page is a new
// screen: the owner logins the page opened before end.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { saveDialogDelivery } from '../../electron/shell/save-dialog-delivery.js';
import { startShell } from '../../electron/shell/shell.js';
import { fakeServices } from '../ipc/fake-services.js';
import { SALE_FLOW_ID } from '../support/shop-fakes.js';
import { FakeDialog, FakeWindow, fakePlatform } from './fake-electron.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'save-dialog-'));
  dirs.push(d);
  return d;
};
const doc = {
  fileName: 'receipt-3f2a6c1e.pdf',
  mimeType: 'application/pdf',
  bytes: new Uint8Array([37, 80, 68, 70]),
};

describe('the save dialog delivery', () => {
  it('asks on the operator window where to save, starting in the documents folder, and writes there', async () => {
    const dir = tempDir();
    const dialog = new FakeDialog();
    dialog.answer = { canceled: false, filePath: join(dir, 'chosen.pdf') };
    const window = new FakeWindow({} as never);
    const delivery = saveDialogDelivery({ dialog, window: () => window, folder: () => '/home/op/Documents' });
    expect(await delivery.deliver(doc)).toEqual({
      delivery: 'saved',
      fileName: 'receipt-3f2a6c1e.pdf',
      path: join(dir, 'chosen.pdf'),
    });
    expect(readFileSync(join(dir, 'chosen.pdf'))).toEqual(Buffer.from(doc.bytes));
    expect(dialog.shown).toHaveLength(1);
    expect(dialog.shown[0]!.window).toBe(window);
    expect(dialog.shown[0]!.options).toMatchObject({
      defaultPath: '/home/op/Documents/receipt-3f2a6c1e.pdf',
      filters: [{ extensions: ['pdf'] }],
    });
  });

  it('says the operator cancelled, and writes nothing', async () => {
    const dialog = new FakeDialog();
    const write = vi.fn(async () => undefined);
    const delivery = saveDialogDelivery({
      dialog,
      window: () => new FakeWindow({} as never),
      folder: () => '/x',
      write,
    });
    expect(await delivery.deliver(doc)).toEqual({ delivery: 'cancelled', fileName: doc.fileName });
    expect(write).not.toHaveBeenCalled();
  });

  it('refuses a place that cannot be written, naming it', async () => {
    const dialog = new FakeDialog();
    dialog.answer = { canceled: false, filePath: join(tempDir(), 'no', 'such', 'folder', 'r.pdf') };
    const delivery = saveDialogDelivery({
      dialog,
      window: () => new FakeWindow({} as never),
      folder: () => '/x',
    });
    await expect(delivery.deliver(doc)).rejects.toMatchObject({
      code: 'E_INPUT_INVALID',
      message: expect.stringContaining('cannot save'),
    });
  });

  it('refuses when the operator window is gone, without a dialog', async () => {
    const dialog = new FakeDialog();
    const delivery = saveDialogDelivery({ dialog, window: () => undefined, folder: () => '/x' });
    await expect(delivery.deliver(doc)).rejects.toMatchObject({ code: 'E_INPUT_INVALID' });
    expect(dialog.shown).toEqual([]);
  });
});

function shell() {
  const platform = fakePlatform();
  const fake = fakeServices();
  const services = {
    ...fake.services,
    engine: { ...fake.services.engine, on: () => () => undefined },
    slots: { ...fake.services.slots, on: () => () => undefined },
    close: vi.fn(async () => undefined),
  };
  const { kiosk: _none, ...withoutKiosk } = services;
  const s = startShell(platform, withoutKiosk, { preloadPath: '/p.cjs', rendererDir: '/r', log: vi.fn() });
  const window = () => s.window() as FakeWindow;
  const call = (channel: string, payload: unknown) =>
    platform.ipcMain.invoke(channel, payload, { contents: window().webContents });
  return { platform, fake, window, call };
}

describe('the Electron shell and exported receipts', () => {
  it('saves an exported receipt through the dialog and tells the page where it went', async () => {
    const { platform, call } = shell();
    const dir = tempDir();
    platform.dialog.answer = { canceled: false, filePath: join(dir, 'r.pdf') };
    const result = await call('receipts:export', { flowId: SALE_FLOW_ID, format: 'pdf' });
    expect(result).toEqual({
      ok: true,
      value: { delivery: 'saved', fileName: 'receipt-3f2a6c1e.pdf', path: join(dir, 'r.pdf') },
    });
    expect(readFileSync(join(dir, 'r.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
    expect(platform.dialog.shown[0]!.options.defaultPath).toBe(
      '/home/operator/Documents/receipt-3f2a6c1e.pdf',
    );
  });

  it('makes each load of the page a new screen: a reload ends the logins the page opened', async () => {
    const { fake, window, call } = shell();
    await call('session:login', { slot: 'payer', pin: '1234' });
    const firstScreen = vi.mocked(fake.services.ownerLogins.opened).mock.calls[0]![1];
    window().webContents.emit('did-start-loading');
    expect(fake.services.ownerLogins.screenGone).toHaveBeenCalledWith(firstScreen);
    await call('session:login', { slot: 'payer', pin: '1234' });
    expect(vi.mocked(fake.services.ownerLogins.opened).mock.calls[1]![1]).not.toBe(firstScreen);
  });
});
