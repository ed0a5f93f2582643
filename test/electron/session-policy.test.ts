// The session denies every permission, cancels downloads, and lets no request leave for anything but
// the app's own files (DevTools' pages only where DevTools are allowed).
import { describe, expect, it } from 'vitest';
import { applySessionPolicy } from '../../electron/shell/session-policy.js';
import { FakeSession } from './fake-electron.js';

function session(devTools = false) {
  const s = new FakeSession();
  applySessionPolicy(s, { devTools });
  return s;
}

describe('the session policy', () => {
  it('denies every permission request and check', () => {
    const s = session();
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'hid',
      'serial',
      'usb',
    ]) {
      expect(s.grants(permission), permission).toBe(false);
      expect(s.checkHandler?.({}, permission), permission).toBe(false);
    }
    expect(s.deviceHandler?.({ deviceType: 'usb' })).toBe(false);
  });

  it('cancels downloads', () => {
    const s = session();
    const e = {
      prevented: false,
      preventDefault() {
        this.prevented = true;
      },
    };
    s.emit('will-download', e);
    expect(e.prevented).toBe(true);
  });

  it("lets only the app's own files load", () => {
    const s = session();
    expect(s.cancels('app://terminal/index.html')).toBe(false);
    expect(s.cancels('app://terminal/assets/index-abc.js')).toBe(false);
    expect(s.cancels('data:image/png;base64,AAAA')).toBe(false);
    for (const url of [
      'https://example.com/script.js',
      'http://127.0.0.1:3000/',
      'ws://127.0.0.1:9000/ws',
      'file:///etc/passwd',
      'app://evil/index.html',
      'app://terminal:81/index.html',
      'app://user@terminal/index.html',
      'devtools://devtools/bundled/inspector.html',
    ]) {
      expect(s.cancels(url), url).toBe(true);
    }
  });

  it("lets DevTools' own pages load only where DevTools are allowed", () => {
    expect(session(true).cancels('devtools://devtools/bundled/inspector.html')).toBe(false);
    expect(session(true).cancels('https://example.com/')).toBe(true);
  });
});
