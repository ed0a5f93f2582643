// A loopback address nothing listens on (a port bound, then closed): a host that refuses connections.
import { createServer } from 'node:net';

export async function deadAddress(scheme: 'http' | 'https'): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `${scheme}://127.0.0.1:${port}`;
}
