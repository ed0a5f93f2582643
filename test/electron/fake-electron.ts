// Fakes of the Electron objects the shell is given (electron/shell/platform.ts): they record what the
// shell registers and let a test fire the events Electron would, checking whether the shell prevented
// them. No Electron binary is needed or touched.
import { EventEmitter } from 'node:events';
import type {
  AppRequest,
  InvokeEvent,
  KeyInput,
  Preventable,
  ShellApp,
  ShellDialog,
  ShellIpcMain,
  ShellMenu,
  ShellPlatform,
  ShellProtocol,
  ShellSession,
  ShellWebContents,
  ShellWindow,
  WindowOptions,
} from '../../electron/shell/platform.js';

export class FakeEvent implements Preventable {
  prevented = false;
  constructor(readonly url = '') {}
  preventDefault(): void {
    this.prevented = true;
  }
}

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter implements ShellWebContents {
  readonly id = nextContentsId++;
  openHandler?: (details: { url: string }) => { action: 'deny' };
  sent: { channel: string; payload: unknown }[] = [];
  devToolsClosed = 0;
  destroyed = false;

  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.openHandler = handler;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  closeDevTools(): void {
    this.devToolsClosed += 1;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  /** Fires a preventable event as Electron would; true when the shell prevented it. */
  fire(event: string, ...args: unknown[]): boolean {
    const e = new FakeEvent(typeof args[0] === 'string' ? args[0] : '');
    this.emit(event, e, ...args);
    return e.prevented;
  }
  press(input: Partial<KeyInput> & { key: string }): boolean {
    const e = new FakeEvent();
    this.emit('before-input-event', e, {
      type: 'keyDown',
      code: '',
      control: false,
      alt: false,
      shift: false,
      meta: false,
      ...input,
    });
    return e.prevented;
  }
}

/** A BrowserWindow that also announces its contents to the fake app, as Electron does. */
export class FakeWindow extends EventEmitter implements ShellWindow {
  static created: FakeWindow[] = [];
  static app?: FakeApp;
  readonly webContents = new FakeWebContents();
  loaded: string[] = [];
  shown = false;
  destroyed = false;

  constructor(readonly options: WindowOptions) {
    super();
    FakeWindow.created.push(this);
    FakeWindow.app?.emit('web-contents-created', new FakeEvent(), this.webContents);
  }
  async loadURL(url: string): Promise<void> {
    this.loaded.push(url);
  }
  show(): void {
    this.shown = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  /** The user or the window manager asks the window to close; true when the shell refused. */
  tryClose(): boolean {
    const e = new FakeEvent();
    this.emit('close', e);
    return e.prevented;
  }
}

export class FakeApp extends EventEmitter implements ShellApp {
  quits = 0;
  exitCode?: number;
  getPath(_name: 'documents'): string {
    return '/home/operator/Documents';
  }
  quit(): void {
    this.quits += 1;
    const before = new FakeEvent();
    this.emit('before-quit', before);
    if (before.prevented) return;
    const will = new FakeEvent();
    this.emit('will-quit', will);
  }
  exit(exitCode = 0): void {
    this.exitCode = exitCode;
  }
}

type RequestHandler = (contents: unknown, permission: string, callback: (granted: boolean) => void) => void;

export class FakeSession extends EventEmitter implements ShellSession {
  requestHandler?: RequestHandler;
  checkHandler?: (contents: unknown, permission: string) => boolean;
  deviceHandler?: (details: unknown) => boolean;
  beforeRequest?: (details: { url: string }, callback: (r: { cancel: boolean }) => void) => void;
  headersReceived?: (
    details: { url: string; responseHeaders?: Record<string, string[]> },
    callback: (r: { responseHeaders: Record<string, string[]> }) => void,
  ) => void;

  setPermissionRequestHandler(handler: RequestHandler): void {
    this.requestHandler = handler;
  }
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void {
    this.checkHandler = handler;
  }
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void {
    this.deviceHandler = handler;
  }
  readonly webRequest = {
    onBeforeRequest: (listener: NonNullable<FakeSession['beforeRequest']>) => {
      this.beforeRequest = listener;
    },
    onHeadersReceived: (listener: NonNullable<FakeSession['headersReceived']>) => {
      this.headersReceived = listener;
    },
  };
  /** What the session answers for a request: cancelled or not. */
  cancels(url: string): boolean {
    let cancel: boolean | undefined;
    this.beforeRequest?.({ url }, (r) => {
      cancel = r.cancel;
    });
    if (cancel === undefined) throw new Error('no onBeforeRequest answer');
    return cancel;
  }
  grants(permission: string): boolean {
    let granted: boolean | undefined;
    this.requestHandler?.({}, permission, (g) => {
      granted = g;
    });
    if (granted === undefined) throw new Error('no permission answer');
    return granted;
  }
}

export class FakeIpcMain implements ShellIpcMain {
  handlers = new Map<string, (event: InvokeEvent, payload: unknown, meta: unknown) => Promise<unknown>>();
  handle(
    channel: string,
    listener: (event: InvokeEvent, payload: unknown, meta: unknown) => Promise<unknown>,
  ): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** Calls a channel as a renderer would, from the given web contents and frame URL. */
  invoke(
    channel: string,
    payload: unknown,
    from: { contents: { id: number }; url?: string; subframe?: boolean; noFrame?: boolean },
    meta?: unknown,
  ): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) return Promise.reject(new Error(`No handler registered for '${channel}'`));
    const senderFrame = from.noFrame
      ? null
      : { url: from.url ?? 'app://terminal/index.html', parent: from.subframe ? {} : null };
    return handler({ sender: from.contents, senderFrame }, payload, meta);
  }
}

export class FakeProtocol implements ShellProtocol {
  handlers = new Map<string, (request: AppRequest) => Promise<Response>>();
  handle(scheme: string, handler: (request: AppRequest) => Promise<Response>): void {
    this.handlers.set(scheme, handler);
  }
}

/** Electron's save dialog: answers what the test set, and records what it was asked. */
export class FakeMenu implements ShellMenu {
  applicationMenu: 'default' | null = 'default';
  setApplicationMenu(menu: null): void {
    this.applicationMenu = menu;
  }
}

type SaveOptions = Parameters<ShellDialog['showSaveDialog']>[1];

/** The save dialog: answers what the test says the operator chose, and records what it was shown. */
export class FakeDialog implements ShellDialog {
  shown: { window: ShellWindow; options: SaveOptions }[] = [];
  answer: { canceled: boolean; filePath?: string } = { canceled: true };
  async showSaveDialog(window: ShellWindow, options: SaveOptions) {
    this.shown.push({ window, options });
    return this.answer;
  }
}

export function fakePlatform() {
  const app = new FakeApp();
  FakeWindow.created = [];
  FakeWindow.app = app;
  const platform = {
    app,
    BrowserWindow: FakeWindow,
    ipcMain: new FakeIpcMain(),
    session: new FakeSession(),
    protocol: new FakeProtocol(),
    menu: new FakeMenu(),
    dialog: new FakeDialog(),
  } satisfies ShellPlatform;
  return { ...platform, windows: () => FakeWindow.created };
}
