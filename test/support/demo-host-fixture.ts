// The demo's issuer host served inside the test process, on a given database (an in-memory PGlite or
// a server database): what demo/demo-host.ts does in its own process (seed, serve on the demo's
// port with its TLS and authority key), without the seconds a new embedded data folder takes.
import { listenDemoHost } from '../../demo/demo-host.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';

export async function serveDemoHostHere(
  dir: string,
  db: HostDatabase,
): Promise<{ url: string; close(): Promise<void> }> {
  const { app, url } = await listenDemoHost(dir, db);
  return { url, close: () => app.close() };
}
