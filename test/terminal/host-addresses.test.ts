// Several addresses of one issuer host fleet (config `host.url` / `host.urls`, host-failover.ts):
// existing single-address files still load; the next address is tried only when one cannot be
// reached, never after a host's answer, and a request that is not safe to send twice is not sent
// again after a timeout.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { terminalConfigSchema } from '../../electron/services/config.js';
import { FailoverHostClient } from '../../electron/services/host-link/host-failover.js';
import { deadAddress } from '../support/dead-address.js';

const PIN = `sha256/${'A'.repeat(43)}=`;
const base = {
  dataDir: 'd',
  currency: 978,
  caCertificate: 'ca.der',
  slots: { backend: 'simulated', cards: { payer: 'a', payee: 'b' } },
};
const hostOf = (host: Record<string, unknown>) =>
  terminalConfigSchema.safeParse({ ...base, host: { pins: [PIN], terminalId: 'T-1', ...host } });

describe('the host section’s addresses', () => {
  it('loads a single url as before, urls alone, or both (url first, duplicates once)', () => {
    expect(hostOf({ url: 'https://h1:8443' }).data?.host).toMatchObject({
      url: 'https://h1:8443',
      urls: ['https://h1:8443'],
    });
    expect(hostOf({ urls: ['https://h2', 'https://h3'] }).data?.host).toMatchObject({
      url: 'https://h2',
      urls: ['https://h2', 'https://h3'],
    });
    expect(hostOf({ url: 'https://h1', urls: ['https://h2', 'https://h1'] }).data?.host?.urls).toEqual([
      'https://h1',
      'https://h2',
    ]);
  });

  it('refuses a section with no address, an empty list, or an address that is not https://host[:port]', () => {
    expect(hostOf({}).success).toBe(false);
    expect(hostOf({ urls: [] }).success).toBe(false);
    expect(hostOf({ urls: ['http://h1'] }).success).toBe(false);
    expect(hostOf({ urls: ['https://h1/path'] }).success).toBe(false);
    expect(hostOf({ urls: Array.from({ length: 9 }, (_, i) => `https://h${i}`) }).success).toBe(false);
  });
});

describe('failover between addresses', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  /** A plain-HTTP stand-in for one host instance; counts what it was asked. */
  async function instance(handle: (req: IncomingMessage, res: ServerResponse) => void) {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      handle(req, res);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, asked };
  }
  const json = (status: number, body: unknown) => (_: IncomingMessage, res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const client = (urls: string[], timeoutMs = 2000) =>
    new FailoverHostClient(urls, {
      caCertificateDer: new Uint8Array(),
      pins: [],
      allowPlainHttp: true,
      timeoutMs,
    });

  it('goes to the next address when one refuses connections, and stays with the one that answered', async () => {
    const second = await instance(json(200, { ok: 2 }));
    const c = client([await deadAddress('http'), second.url]);
    expect(await c.call('POST', '/terminal/authority/register', {})).toEqual({ ok: 2 });
    expect(c.current).toBe(second.url);
    expect(await c.call('GET', '/x')).toEqual({ ok: 2 });
    expect(second.asked).toEqual(['POST /terminal/authority/register', 'GET /x']);
    c.close();
  });

  it('takes a host’s refusal as the answer: the next address is not asked', async () => {
    const first = await instance(json(403, { code: 'E_AUTH_FORBIDDEN', message: 'no' }));
    const second = await instance(json(200, {}));
    const c = client([first.url, second.url]);
    await expect(c.call('GET', '/x')).rejects.toMatchObject({ code: 'E_AUTH_FORBIDDEN' });
    const down = await instance(json(503, { code: 'E_HOST_DB', message: 'db down' }));
    const d = client([down.url, second.url]);
    await expect(d.call('GET', '/x')).rejects.toMatchObject({ code: 'E_HOST_DB' });
    expect(second.asked).toEqual([]);
    c.close();
    d.close();
  });

  it('after a timeout, repeats a GET elsewhere but never a request that is not safe to send twice', async () => {
    const slow = await instance(() => {}); // never answers
    const second = await instance(json(200, { ok: true }));
    const c = client([slow.url, second.url], 500);
    expect(await c.call('GET', '/terminal/clearing/release-proofs?card=00')).toEqual({ ok: true });
    const d = client([slow.url, second.url], 500);
    await expect(d.call('POST', '/terminal/authority/authorize', {})).rejects.toMatchObject({
      code: 'E_TRANSPORT_TIMEOUT',
    });
    expect(second.asked).toEqual(['GET /terminal/clearing/release-proofs?card=00']);
    c.close();
    d.close();
  });

  it('fetch() asks each address for the same path, and refuses a URL on no configured address', async () => {
    const second = await instance((_, res) => res.writeHead(200).end('crl'));
    const deadUrl = await deadAddress('http');
    const c = client([deadUrl, second.url]);
    const r = await c.fetch(`${deadUrl}/crl`);
    expect(await r.text()).toBe('crl');
    expect(second.asked).toEqual(['GET /crl']);
    expect(() => c.fetch('http://127.0.0.1:1/crl')).toThrow(/not on the issuer host/);
    c.close();
  });
});
