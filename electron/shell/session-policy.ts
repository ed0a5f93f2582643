// The session's rules: the app asks for no permission, so every permission request and check is
// denied (camera, microphone, notifications, HID, serial, USB, …); downloads are cancelled; and no
// request leaves for anything but the app's own files (so no remote content, whatever a page tries).
import { isAppUrl } from './app-origin.js';
import type { ShellSession } from './platform.js';

export interface SessionPolicyOptions {
  /** Developer windows may open DevTools, which loads its own devtools:// pages. */
  devTools: boolean;
}

export function applySessionPolicy(session: ShellSession, o: SessionPolicyOptions): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.on('will-download', (event) => event.preventDefault());
  session.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url, o) });
  });
}

/** The app's own files, data: images (the CSP limits them to img-src) and, in developer windows, DevTools. */
export function isAllowedRequest(url: string, o: SessionPolicyOptions): boolean {
  if (isAppUrl(url) || url.startsWith('data:')) return true;
  return o.devTools && url.startsWith('devtools://');
}
