// What the shell uses of Electron, as small interfaces: main.ts hands in Electron's own app,
// BrowserWindow, ipcMain, session, protocol and Menu (the type check of main.ts against electron.d.ts
// proves they fit), and the unit tests hand in fakes of the same interfaces. Nothing in electron/shell/
// imports 'electron' at run time except the addon loader the bundle uses (electron-bindings.ts).

export interface Preventable {
  preventDefault(): void;
}

/** A key press as `before-input-event` reports it. */
export interface KeyInput {
  type: string;
  key: string;
  code: string;
  control: boolean;
  alt: boolean;
  shift: boolean;
  meta: boolean;
}

export interface ShellWebContents {
  readonly id: number;
  on(event: 'will-navigate', listener: (event: Preventable, url: string) => void): unknown;
  on(event: 'will-redirect', listener: (event: Preventable, url: string) => void): unknown;
  on(event: 'will-frame-navigate', listener: (event: Preventable & { url: string }) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: Preventable) => void): unknown;
  on(event: 'before-input-event', listener: (event: Preventable, input: KeyInput) => void): unknown;
  on(event: 'render-process-gone', listener: (event: unknown, details: { reason: string }) => void): unknown;
  on(event: 'devtools-opened', listener: () => void): unknown;
  /** The page starts loading: the first load, and every reload (a new screen for the terminal). */
  on(event: 'did-start-loading', listener: () => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  send(channel: string, payload: unknown): void;
  closeDevTools(): void;
  isDestroyed(): boolean;
}

/** The options the shell gives a window (a subset of Electron's BrowserWindowConstructorOptions). */
export interface WindowOptions {
  width?: number;
  height?: number;
  minWidth?: number;
  minHeight?: number;
  show: boolean;
  title: string;
  backgroundColor: string;
  kiosk: boolean;
  fullscreen: boolean;
  frame: boolean;
  resizable: boolean;
  minimizable: boolean;
  maximizable: boolean;
  autoHideMenuBar: boolean;
  webPreferences: {
    preload: string;
    contextIsolation: boolean;
    sandbox: boolean;
    nodeIntegration: boolean;
    nodeIntegrationInWorker: boolean;
    nodeIntegrationInSubFrames: boolean;
    webSecurity: boolean;
    allowRunningInsecureContent: boolean;
    webviewTag: boolean;
    experimentalFeatures: boolean;
    disableBlinkFeatures: string;
    navigateOnDragDrop: boolean;
    spellcheck: boolean;
    safeDialogs: boolean;
    devTools: boolean;
  };
}

export interface ShellWindow {
  readonly webContents: ShellWebContents;
  loadURL(url: string): Promise<void>;
  on(event: 'close', listener: (event: Preventable) => void): unknown;
  once(event: 'ready-to-show', listener: () => void): unknown;
  show(): void;
  destroy(): void;
  isDestroyed(): boolean;
}

export type WindowConstructor = new (options: WindowOptions) => ShellWindow;

export interface ShellApp {
  on(event: 'web-contents-created', listener: (event: unknown, contents: ShellWebContents) => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  on(event: 'before-quit', listener: (event: Preventable) => void): unknown;
  on(event: 'will-quit', listener: (event: Preventable) => void): unknown;
  quit(): void;
  exit(exitCode?: number): void;
  /** Where the save dialog starts: the operator's documents folder. */
  getPath(name: 'documents'): string;
}

/** Electron's dialog.showSaveDialog, modal on the operator window (main.ts adapts the window type). */
export interface ShellDialog {
  showSaveDialog(
    window: ShellWindow,
    options: {
      title: string;
      defaultPath: string;
      buttonLabel: string;
      filters: { name: string; extensions: string[] }[];
      properties: ('createDirectory' | 'showOverwriteConfirmation')[];
    },
  ): Promise<{ canceled: boolean; filePath?: string }>;
}

export interface ShellSession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void;
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void;
  on(event: 'will-download', listener: (event: Preventable) => void): unknown;
  readonly webRequest: {
    onBeforeRequest(
      listener: (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void,
    ): void;
    onHeadersReceived(
      listener: (
        details: { url: string; responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders: Record<string, string[]> }) => void,
      ) => void,
    ): void;
  };
}

export interface AppRequest {
  url: string;
  method: string;
}

export interface ShellProtocol {
  handle(scheme: string, handler: (request: AppRequest) => Promise<Response>): void;
}

/** What invoke handlers learn of the caller. */
export interface InvokeEvent {
  readonly sender: { readonly id: number };
  /** Null when the frame navigated away or was destroyed before the call arrived. */
  readonly senderFrame: { readonly url: string; readonly parent: unknown } | null;
}

export interface ShellIpcMain {
  /** `meta` is the call's CallMeta (the operation ID), as untrusted as the payload. */
  handle(
    channel: string,
    listener: (event: InvokeEvent, payload: unknown, meta: unknown) => Promise<unknown>,
  ): void;
  removeHandler(channel: string): void;
}

export interface SaveDialogOptions {
  title: string;
  defaultPath: string;
  filters: { name: string; extensions: string[] }[];
  properties: ('createDirectory' | 'showOverwriteConfirmation')[];
}

/** Electron's dialog: the save dialog of an exported file, modal over the window when there is one. */
export interface ShellDialog {
  showSaveDialog(
    window: ShellWindow | undefined,
    options: SaveDialogOptions,
  ): Promise<{ canceled: boolean; filePath?: string }>;
}

export interface ShellMenu {
  setApplicationMenu(menu: null): void;
}

/** Everything the shell is given of Electron. */
export interface ShellPlatform {
  app: ShellApp;
  BrowserWindow: WindowConstructor;
  ipcMain: ShellIpcMain;
  session: ShellSession;
  protocol: ShellProtocol;
  menu: ShellMenu;
  dialog: ShellDialog;
}
