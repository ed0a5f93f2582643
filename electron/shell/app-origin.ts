// The app's own origin: the renderer is served from app://terminal/ by the app protocol, and nothing
// else may load in its window. Every "is this ours?" check of the shell asks isAppUrl().

export const APP_SCHEME = 'app';
export const APP_HOST = 'terminal';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** True only for app://terminal/… without user, password or port. */
export function isAppUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return (
    u.protocol === `${APP_SCHEME}:` && u.hostname === APP_HOST && u.port === '' && !u.username && !u.password
  );
}
