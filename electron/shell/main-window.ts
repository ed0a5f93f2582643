// The operator window. Its web preferences are the security baseline of the app: context isolation,
// the Chromium sandbox, no Node.js in the page (nor in workers or subframes), web security on, no
// insecure content, no <webview>, no experimental or Auxclick (middle-click) features, no spellchecker
// (it would download dictionaries), and the preload as the page's only way to the main process.
// Electron 14 removed the remote module, so there is no `enableRemoteModule` left to turn off.
//
// A kiosk window fills the screen without a frame, cannot be resized or minimized, and has no DevTools.
// BrowserWindow is handed in (Electron's in main.ts, a fake in tests); the literal options are written
// at the `new BrowserWindow` call so Electronegativity's scan checks exactly what the app uses.
import type { ShellWindow, WindowConstructor } from './platform.js';

export interface MainWindowOptions {
  preload: string;
  kiosk: boolean;
}

export function openMainWindow(BrowserWindow: WindowConstructor, o: MainWindowOptions): ShellWindow {
  const size = o.kiosk ? {} : { width: 1280, height: 800, minWidth: 1024, minHeight: 700 };
  return new BrowserWindow({
    ...size,
    show: false,
    title: 'Settlement terminal',
    backgroundColor: '#f4f5f7',
    kiosk: o.kiosk,
    fullscreen: o.kiosk,
    frame: !o.kiosk,
    resizable: !o.kiosk,
    minimizable: !o.kiosk,
    maximizable: !o.kiosk,
    autoHideMenuBar: o.kiosk,
    webPreferences: {
      // Electronegativity asks for a manual review of every preload (PRELOAD_JS_CHECK, a reminder, not
      // a defect): this one is reviewed; it exposes one function per contract channel and an event
      // subscription, nothing of ipcRenderer or Node (electron/preload.ts, test/electron/preload.test.ts).
      preload: o.preload, // eng-disable PRELOAD_JS_CHECK
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
      devTools: !o.kiosk,
    },
  });
}
