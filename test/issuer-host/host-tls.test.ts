// TLS between the terminal and the host: the host certificate from the issuer CA, the terminal's
// client accepting only the pinned key (even a certificate the same CA issued for another key is
// refused), the CRL cache and signed calls through the pinned link, and OpenSSL's view of the server.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { CrlStore } from '../../db/crl-store.js';
import { CrlCache } from '../../electron/services/crl/crl-cache.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { HostClient } from '../../protocol/host-link/host-client.js';
import { toPem } from '../../protocol/pki/index.js';
import { expectRefusal, useHostDatabases } from './host-db-fixtures.js';
import {
  hostSnapshot,
  issuerWorld,
  publishCrlDirectly,
  type RunningHost,
  registeredTerminal,
  startHost,
  type TestTerminal,
} from './host-fixtures.js';

const dbs = useHostDatabases({ embedded: false });
const world = issuerWorld('TLS Test');
const tls = world.hostTls({ dns: ['localhost'], ip: ['127.0.0.1'] });
const dir = mkdtempSync(join(tmpdir(), 'host-tls-'));
let db: HostDatabase;
let host: RunningHost;
let terminal: TestTerminal;
const clients: HostClient[] = [];

beforeAll(async () => {
  db = await dbs.fresh('postgres');
  host = await startHost({ db, world, tls });
  terminal = await registeredTerminal(db, 'T-tls');
  await publishCrlDirectly(db, world, world.nextCrl());
});
afterAll(async () => {
  for (const c of clients) c.close();
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(
  options: { url?: string; pins?: string[]; caDer?: Uint8Array; signed?: boolean } = {},
): HostClient {
  const made = new HostClient({
    baseUrl: options.url ?? host.url,
    caCertificateDer: options.caDer ?? world.caDer,
    pins: options.pins ?? [tls.pin],
    ...(options.signed === false
      ? {}
      : { terminal: { terminalId: terminal.terminalId, privateKey: terminal.keys.privateKey } }),
  });
  clients.push(made);
  return made;
}

describe('TLS with a pinned host key', () => {
  it('serves over TLS 1.3 with the host certificate, accepted by the pinned client', async () => {
    expect(host.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const hello = await client().call<{ terminalId: string }>('POST', '/terminal/hello', {
      software: 'tls test',
    });
    expect(hello.terminalId).toBe('T-tls');
    // The next pin alongside the current one (a key change announced in advance) is fine too.
    const rotating = client({ pins: [world.hostTls().pin, tls.pin] });
    expect((await rotating.request('GET', '/crl', { signed: false })).status).toBe(200);
  });

  it('refuses a host whose key is not pinned, before sending anything', async () => {
    const before = await hostSnapshot(db);
    const wrongPin = client({ pins: [world.hostTls().pin] });
    const error = await expectRefusal(
      wrongPin.call('POST', '/terminal/hello', { software: 'x' }),
      'E_HOST_PIN',
    );
    expect(error.message).toContain(tls.pin);
    expect(await hostSnapshot(db)).toEqual(before); // the request (and its nonce) never reached the host
  });

  it('refuses a certificate the same CA issued for another key', async () => {
    const impostorTls = world.hostTls({ dns: ['localhost'], ip: ['127.0.0.1'] });
    const impostor = await startHost({ db, world, tls: impostorTls });
    try {
      await expectRefusal(
        client({ url: impostor.url }).request('GET', '/crl', { signed: false }),
        'E_HOST_PIN',
      );
      // Pinned to the impostor's key it connects: the refusal above is the pin's doing.
      const pinned = client({ url: impostor.url, pins: [impostorTls.pin] });
      expect((await pinned.request('GET', '/crl', { signed: false })).status).toBe(200);
    } finally {
      await impostor.close();
    }
  });

  it('refuses a host certificate from another CA, even with its pin', async () => {
    const other = issuerWorld('Other CA');
    const otherTls = other.hostTls();
    const foreign = await startHost({ db, world, tls: otherTls });
    try {
      const error = await expectRefusal(
        client({ url: foreign.url, pins: [otherTls.pin] }).request('GET', '/crl', { signed: false }),
        'E_HOST_PIN',
      );
      expect(error.details.tlsCode).toBeDefined();
    } finally {
      await foreign.close();
    }
  });

  it('refuses a pinned certificate that does not name the host', async () => {
    const misnamedTls = world.hostTls({ dns: ['elsewhere.example'], ip: [] });
    const misnamed = await startHost({ db, world, tls: misnamedTls });
    try {
      const error = await expectRefusal(
        client({ url: misnamed.url, pins: [misnamedTls.pin] }).request('GET', '/crl', { signed: false }),
        'E_HOST_PIN',
      );
      expect(error.details.tlsCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      await misnamed.close();
    }
  });

  it('refuses to be made without a pin or over plain HTTP', () => {
    expect(() => new HostClient({ baseUrl: host.url, caCertificateDer: world.caDer, pins: [] })).toThrow(
      /pin/,
    );
    expect(
      () => new HostClient({ baseUrl: host.url, caCertificateDer: world.caDer, pins: ['sha256/abc'] }),
    ).toThrow(/pin/);
    expect(
      () =>
        new HostClient({
          baseUrl: host.url.replace('https', 'http'),
          caCertificateDer: world.caDer,
          pins: [tls.pin],
        }),
    ).toThrow(/https/);
  });

  it('lets the terminal’s CRL cache fetch through the pinned link, and not through a wrong pin', async () => {
    const terminalDb = openDatabase(join(dir, 'terminal.db'));
    try {
      const cache = (link: HostClient) =>
        new CrlCache({
          store: new CrlStore(terminalDb),
          caCertificateDer: world.caDer,
          distributionPoint: `${host.url}/crl`,
          fetchImpl: link.fetch,
        });
      const refused = await cache(client({ pins: [world.hostTls().pin], signed: false })).refresh();
      expect(refused).toMatchObject({
        state: 'missing',
        lastRefresh: { ok: false, error: { code: 'E_HOST_PIN' } },
      });
      const fetched = await cache(client({ signed: false })).refresh();
      expect(fetched).toMatchObject({ state: 'fresh', source: 'http', lastRefresh: { ok: true } });
      const again = await cache(client({ signed: false })).refresh();
      expect(again.lastRefresh).toMatchObject({ ok: true, notModified: true });
    } finally {
      terminalDb.close();
    }
  });

  it('is what OpenSSL sees: TLS 1.3, a chain to the issuer CA, no TLS 1.2', async () => {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, toPem('CERTIFICATE', world.caDer));
    const port = new URL(host.url).port;
    const connect = ['s_client', '-connect', `127.0.0.1:${port}`, '-brief'];
    // Asynchronous: the server answers from this same process.
    const ok = await run('openssl', [
      ...connect,
      '-CAfile',
      caFile,
      '-verify_return_error',
      '-verify_ip',
      '127.0.0.1',
    ]);
    expect(ok.stderr).toContain('Protocol version: TLSv1.3');
    expect(ok.stderr).toContain('Verification: OK');
    const old = await run('openssl', [...connect, '-tls1_2']);
    expect(old.status).not.toBe(0);
  });
});

describe('host client limits', () => {
  /** A plain TCP server that answers with `reply` (or never, when undefined). */
  async function fakeHost(reply?: string): Promise<{ url: string; close: () => Promise<void> }> {
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      if (reply !== undefined) socket.once('data', () => socket.end(reply));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }
  const plain = (url: string, more: Partial<ConstructorParameters<typeof HostClient>[0]> = {}) => {
    const made = new HostClient({
      baseUrl: url,
      caCertificateDer: world.caDer,
      pins: [],
      allowPlainHttp: true,
      ...more,
    });
    clients.push(made);
    return made;
  };

  it('gives up on a host that does not answer, and honours an abort signal', async () => {
    const silent = await fakeHost();
    try {
      await expectRefusal(
        plain(silent.url, { timeoutMs: 300 }).request('GET', '/crl'),
        'E_TRANSPORT_TIMEOUT',
      );
      const aborted = plain(silent.url).fetch(`${silent.url}/crl`, { signal: AbortSignal.timeout(200) });
      await expect(aborted).rejects.toMatchObject({ code: 'E_TRANSPORT' });
    } finally {
      await silent.close();
    }
  });

  it('refuses an answer larger than its limit', async () => {
    const big = 'x'.repeat(5000);
    const chatty = await fakeHost(`HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n${big}`);
    try {
      const error = await expectRefusal(
        plain(chatty.url, { maxResponseBytes: 1024 }).request('GET', '/crl'),
        'E_TRANSPORT',
      );
      expect(error.message).toContain('larger than 1024 bytes');
    } finally {
      await chatty.close();
    }
  });

  it('turns the host’s { code, message } into a TerminalError with that code', async () => {
    const stranger = new HostClient({
      baseUrl: host.url,
      caCertificateDer: world.caDer,
      pins: [tls.pin],
      terminal: { terminalId: 'T-nobody', privateKey: terminal.keys.privateKey },
    });
    clients.push(stranger);
    const error = await expectRefusal(
      stranger.call('POST', '/terminal/hello', { software: 'x' }),
      'E_AUTH_UNKNOWN_TERMINAL',
    );
    expect(error.details).toEqual({ status: 401 });
    await expectRefusal(client().request('GET', 'https://example.invalid/crl'), 'E_INPUT_INVALID');
  });
});

function run(command: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'], timeout: 20_000 });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
    child.stdin.end();
  });
}
