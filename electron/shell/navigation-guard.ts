// Every web contents the app creates stays on the page it was given: navigation and redirects are
// cancelled (the renderer is a single page and never navigates), new windows are denied, <webview>
// cannot attach, and where DevTools are not allowed an opened DevTools is closed at once.
// main.ts applies this through app 'web-contents-created', so it covers contents made later too.
import type { ShellWebContents } from './platform.js';

export interface NavigationGuardOptions {
  devTools: boolean;
}

export function guardWebContents(contents: ShellWebContents, o: NavigationGuardOptions): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  if (!o.devTools) contents.on('devtools-opened', () => contents.closeDevTools());
}
