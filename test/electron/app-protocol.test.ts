// The app:// protocol serves the built renderer with the app's CSP and nothing outside its folder;
// HTTP(S) responses get the same headers, replacing any a server sent.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_SCHEME_PRIVILEGES, serveAppFiles } from '../../electron/shell/app-protocol.js';
import { APP_HEADERS, applyResponseHeaders } from '../../electron/shell/response-headers.js';
import { FakeSession } from './fake-electron.js';

const CSP = APP_HEADERS.responseHeaders['Content-Security-Policy']?.[0] ?? '';
let root: string;
let serve: ReturnType<typeof serveAppFiles>;

beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'app-protocol-'));
  root = join(base, 'dist');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'assets', 'index.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'notes.txt'), 'no type');
  writeFileSync(join(base, 'secret.json'), '{"secret":true}');
  serve = serveAppFiles({ root });
});

const get = (url: string, method = 'GET') => serve({ url, method });

describe('the content security policy', () => {
  it('allows only the app origin for scripts, styles, images and fonts, and nothing else', () => {
    const directives = new Map(
      CSP.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values.join(' ')];
      }),
    );
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('script-src')).toBe('app://terminal');
    expect(directives.get('style-src')).toBe('app://terminal');
    expect(directives.get('connect-src')).toBe("'none'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(CSP).not.toMatch(/unsafe-|\*|https?:|'self'/);
  });

  it('is put on HTTP(S) responses too, replacing a weaker one whatever its spelling', () => {
    const session = new FakeSession();
    applyResponseHeaders(session);
    let answered: Record<string, string[]> | undefined;
    session.headersReceived?.(
      {
        url: 'https://example.com/',
        responseHeaders: { 'content-security-policy': ["script-src 'unsafe-inline'"], Server: ['x'] },
      },
      (r) => {
        answered = r.responseHeaders;
      },
    );
    expect(answered).toEqual({
      Server: ['x'],
      'Content-Security-Policy': [CSP],
      'X-Content-Type-Options': ['nosniff'],
      'Referrer-Policy': ['no-referrer'],
      'Cache-Control': ['no-store'],
    });
  });
});

describe('the app protocol', () => {
  it('is registered as a standard, secure scheme that does not bypass the CSP', () => {
    expect(APP_SCHEME_PRIVILEGES).toEqual([
      {
        scheme: 'app',
        privileges: { standard: true, secure: true, supportFetchAPI: true, stream: false, bypassCSP: false },
      },
    ]);
  });

  it('serves the renderer with the CSP and its content type', async () => {
    const index = await get('app://terminal/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toBe(CSP);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('<title>t</title>');
    const script = await get('app://terminal/assets/index.js');
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    const head = await get('app://terminal/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('serves nothing outside its folder, of an unknown type, or for another host', async () => {
    for (const url of [
      'app://terminal/../secret.json',
      'app://terminal/%2e%2e/secret.json',
      'app://terminal/assets/..%2f..%2fsecret.json',
      'app://terminal/assets/%2e%2e%5c%2e%2e%5csecret.json',
      'app://terminal/assets/notes.txt',
      'app://terminal/missing.js',
      'app://terminal/index.html%00.js',
      'app://other/index.html',
      'app://terminal:8080/index.html',
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
      expect(await res.text(), url).not.toContain('secret');
      expect(res.headers.get('content-security-policy'), url).toBe(CSP);
    }
  });

  it('answers only GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      expect((await get('app://terminal/index.html', method)).status).toBe(405);
    }
  });
});
