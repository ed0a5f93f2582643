// The app:// protocol: the renderer's built files (renderer/dist) served from app://terminal/ with
// the app's headers. A standard, secure scheme gives the page a real origin (module scripts, CSP
// source matching) without a local HTTP server or file:// URLs. Only GET and HEAD of files under the
// renderer folder with a known type are answered; anything else is 404 or 405.
import { readFile as readFileFromDisk } from 'node:fs/promises';
import { extname, normalize, resolve, sep } from 'node:path';
import { CONTENT_TYPES } from '../host/content-types.js';
import { APP_HOST, APP_SCHEME } from './app-origin.js';
import type { AppRequest } from './platform.js';
import { APP_HEADERS } from './response-headers.js';

/** Electron's `protocol.registerSchemesAsPrivileged` entry; it must run before the app is ready. */
export const APP_SCHEME_PRIVILEGES = [
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, stream: false, bypassCSP: false },
  },
];

export interface AppFilesOptions {
  /** Folder of the built renderer. */
  root: string;
  readFile?: (path: string) => Promise<Uint8Array>;
}

export function serveAppFiles(o: AppFilesOptions): (request: AppRequest) => Promise<Response> {
  const root = resolve(o.root);
  const read = o.readFile ?? ((path: string) => readFileFromDisk(path));
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(405, 'method not allowed');
    let path: string;
    try {
      const url = new URL(request.url);
      if (url.protocol !== `${APP_SCHEME}:` || url.hostname !== APP_HOST || url.port !== '') {
        return answer(404, 'not found');
      }
      path = decodeURIComponent(url.pathname);
    } catch {
      return answer(400, 'bad request');
    }
    if (path.includes('\0')) return answer(404, 'not found');
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(resolve(root, `.${path}`));
    const type = CONTENT_TYPES[extname(file)];
    if (!file.startsWith(root + sep) || !type) return answer(404, 'not found');
    let body: Uint8Array;
    try {
      body = await read(file);
    } catch {
      return answer(404, 'not found');
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: { ...headerValues(), 'Content-Type': type, 'Content-Length': String(body.byteLength) },
    });
  };
}

function headerValues(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(APP_HEADERS.responseHeaders).map(([name, values]) => [name, values.join(', ')]),
  );
}

function answer(status: number, text: string): Response {
  return new Response(text, {
    status,
    headers: { ...headerValues(), 'Content-Type': 'text/plain; charset=utf-8' },
  });
}
