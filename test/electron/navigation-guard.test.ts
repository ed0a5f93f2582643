// Every web contents stays on its page: navigation, frame navigation and redirects are cancelled, new
// windows denied, <webview> refused, and DevTools closed where they are not allowed.
import { describe, expect, it } from 'vitest';
import { guardWebContents } from '../../electron/shell/navigation-guard.js';
import { FakeWebContents } from './fake-electron.js';

function guarded(devTools = false) {
  const contents = new FakeWebContents();
  guardWebContents(contents, { devTools });
  return contents;
}

describe('the navigation guard', () => {
  it('cancels every navigation, to other sites and to the app alike', () => {
    const contents = guarded();
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:8080/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'app://terminal/index.html',
    ]) {
      expect(contents.fire('will-navigate', url), url).toBe(true);
      expect(contents.fire('will-frame-navigate', url), url).toBe(true);
      expect(contents.fire('will-redirect', url), url).toBe(true);
    }
  });

  it('denies every new window', () => {
    const contents = guarded();
    expect(contents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: 'app://terminal/index.html' })).toEqual({ action: 'deny' });
  });

  it('refuses to attach a <webview>', () => {
    expect(guarded().fire('will-attach-webview')).toBe(true);
  });

  it('closes DevTools as soon as they open where they are not allowed, and leaves them where they are', () => {
    const locked = guarded(false);
    locked.emit('devtools-opened');
    expect(locked.devToolsClosed).toBe(1);
    const developer = guarded(true);
    developer.emit('devtools-opened');
    expect(developer.devToolsClosed).toBe(0);
  });
});
