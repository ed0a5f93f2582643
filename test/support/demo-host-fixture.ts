// The demo's issuer host served inside the test process, on a given database (an in-memory PGlite or
// a server database): what demo/demo-host.ts does in its own process (seed, serve on the demo's
// port with its TLS and authority key), without the seconds a new embedded data folder takes.
import { join } from 'node:path';
import { DEMO_HOST_DIR, seedDemoHost } from '../../demo/demo-host.js';
import { loadHostConfig } from '../../issuer-host/config.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { createHostServer } from '../../issuer-host/server/host-server.js';

export async function serveDemoHostHere(
  dir: string,
  db: HostDatabase,
): Promise<{ url: string; close(): Promise<void> }> {
  const settings = loadHostConfig(join(dir, DEMO_HOST_DIR, 'host.json'));
  await seedDemoHost(db, dir);
  const app = await createHostServer({
    db,
    caCertificateDer: settings.caCertificateDer,
    tls: settings.tls,
    authority: settings.authority,
  });
  await app.listen(settings.listen);
  return { url: `https://127.0.0.1:${settings.listen.port}`, close: () => app.close() };
}
