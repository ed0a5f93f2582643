// The operator window's options: the security baseline in every mode, and the kiosk's full-screen,
// frameless, DevTools-less window.
import { describe, expect, it } from 'vitest';
import { openMainWindow } from '../../electron/shell/main-window.js';
import { FakeWindow, fakePlatform } from './fake-electron.js';

function options(kiosk: boolean) {
  fakePlatform();
  const w = openMainWindow(FakeWindow, { preload: '/app/dist-electron/preload.cjs', kiosk }) as FakeWindow;
  return w.options;
}

describe('the operator window', () => {
  for (const kiosk of [false, true]) {
    it(`isolates and sandboxes the page, with no Node.js in it (kiosk: ${kiosk})`, () => {
      expect(options(kiosk).webPreferences).toEqual({
        preload: '/app/dist-electron/preload.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        experimentalFeatures: false,
        disableBlinkFeatures: 'Auxclick',
        navigateOnDragDrop: false,
        spellcheck: false,
        safeDialogs: true,
        devTools: !kiosk,
      });
      // Electron 14 removed the remote module: no option may try to bring it back.
      expect(JSON.stringify(options(kiosk))).not.toMatch(/remote/i);
    });
  }

  it('is a normal resizable window with DevTools outside kiosk mode', () => {
    expect(options(false)).toMatchObject({
      kiosk: false,
      fullscreen: false,
      frame: true,
      resizable: true,
      width: 1280,
      height: 800,
      show: false,
    });
  });

  it('is a full-screen kiosk window without frame, resizing, minimizing or DevTools in kiosk mode', () => {
    const o = options(true);
    expect(o).toMatchObject({
      kiosk: true,
      fullscreen: true,
      frame: false,
      resizable: false,
      minimizable: false,
      maximizable: false,
      autoHideMenuBar: true,
      show: false,
    });
    expect(o.webPreferences.devTools).toBe(false);
    expect(o.width).toBeUndefined();
  });
});
