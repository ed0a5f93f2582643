// The CRL distribution point: what GET /crl serves (DER that OpenSSL verifies against the CA), its
// caching headers and 304s, the staff upload and every refusal of it (nothing stored), and the
// terminal's own CRL cache fetching from the host.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { CrlStore } from '../../db/crl-store.js';
import { CrlCache } from '../../electron/services/crl/crl-cache.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { sha256Digest } from '../../protocol/crypto-suite.js';
import { parseCrl, toPem } from '../../protocol/pki/index.js';
import { useHostDatabases } from './host-db-fixtures.js';
import { hostSnapshot, issuerWorld, type RunningHost, staffToken, startHost } from './host-fixtures.js';

const dbs = useHostDatabases({ embedded: false });
const world = issuerWorld('CRL Test');
const dir = mkdtempSync(join(tmpdir(), 'host-crl-'));
let db: HostDatabase;
let host: RunningHost;
let publisher: string;

beforeAll(async () => {
  db = await dbs.fresh('postgres');
  host = await startHost({ db, world, maxCrlBytes: 64 * 1024 });
  publisher = await staffToken(db, 'crl-publisher');
  writeFileSync(join(dir, 'ca.pem'), toPem('CERTIFICATE', world.caDer));
});
afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function upload(der: Uint8Array, token = publisher, contentType = 'application/pkix-crl') {
  const response = await fetch(`${host.url}/crl`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: der,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function get(headers: Record<string, string> = {}, method = 'GET') {
  const response = await fetch(`${host.url}/crl`, { method, headers });
  return {
    status: response.status,
    headers: response.headers,
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

function etagOf(der: Uint8Array): string {
  return `"${Buffer.from(sha256Digest(der)).toString('hex')}"`;
}

describe('CRL distribution point', () => {
  let first: Uint8Array;

  it('answers 404 E_NOT_FOUND before any CRL is published', async () => {
    const response = await fetch(`${host.url}/crl`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      code: 'E_NOT_FOUND',
      message: expect.stringContaining('no CRL'),
    });
  });

  it('publishes a CRL uploaded by staff and serves it as DER that OpenSSL verifies', async () => {
    first = world.nextCrl({ revokeOne: true });
    const crl = parseCrl(first);
    const stored = await upload(first);
    expect(stored.status).toBe(201);
    expect(stored.body).toEqual({
      crlNumber: crl.crlNumber!.toString(),
      thisUpdate: crl.thisUpdate.toISOString(),
      nextUpdate: crl.nextUpdate!.toISOString(),
      revokedCount: 1,
      etag: etagOf(first),
      size: first.length,
    });
    const served = await get();
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('application/pkix-crl');
    expect(served.body).toEqual(first);
    writeFileSync(join(dir, 'served.crl'), served.body);
    const out = execFileSync(
      'openssl',
      [
        'crl',
        '-inform',
        'DER',
        '-in',
        join(dir, 'served.crl'),
        '-CAfile',
        join(dir, 'ca.pem'),
        '-noout',
        '-text',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(out).toContain(`X509v3 CRL Number: \n                ${crl.crlNumber}`);
    expect(out).toContain('Issuer: CN = CRL Test Card CA');
    const verify = spawnSync(
      'openssl',
      ['crl', '-inform', 'DER', '-in', join(dir, 'served.crl'), '-CAfile', join(dir, 'ca.pem'), '-noout'],
      { encoding: 'utf8' },
    );
    expect([verify.status, verify.stderr.trim()]).toEqual([0, 'verify OK']);
    const badCa = join(dir, 'other-ca.pem');
    writeFileSync(badCa, toPem('CERTIFICATE', issuerWorld('Other').caDer));
    expect(() =>
      execFileSync(
        'openssl',
        ['crl', '-inform', 'DER', '-in', join(dir, 'served.crl'), '-CAfile', badCa, '-noout'],
        {
          stdio: 'ignore',
        },
      ),
    ).toThrow();
  });

  it('sets ETag, Last-Modified, Expires and Cache-Control from the CRL', async () => {
    const crl = parseCrl(first);
    const { headers } = await get();
    expect(headers.get('etag')).toBe(etagOf(first));
    expect(headers.get('last-modified')).toBe(crl.thisUpdate.toUTCString());
    expect(headers.get('expires')).toBe(crl.nextUpdate!.toUTCString());
    const maxAge = Number(/max-age=(\d+)/.exec(headers.get('cache-control') ?? '')?.[1]);
    const expected = (crl.nextUpdate!.getTime() - Date.now()) / 1000;
    expect(Math.abs(maxAge - expected)).toBeLessThan(60);
    expect(headers.get('cache-control')).toMatch(/^public, max-age=\d+, no-transform$/);
  });

  it('answers 304 to a matching If-None-Match or a later If-Modified-Since, else 200', async () => {
    const etag = etagOf(first);
    const thisUpdate = parseCrl(first).thisUpdate;
    const later = new Date(thisUpdate.getTime() + 1000).toUTCString();
    const earlier = new Date(thisUpdate.getTime() - 1000).toUTCString();
    const cases: [Record<string, string>, number][] = [
      [{ 'if-none-match': etag }, 304],
      [{ 'if-none-match': `W/${etag}` }, 304],
      [{ 'if-none-match': `"other", ${etag}` }, 304],
      [{ 'if-none-match': '*' }, 304],
      [{ 'if-none-match': '"other"' }, 200],
      [{ 'if-modified-since': thisUpdate.toUTCString() }, 304],
      [{ 'if-modified-since': later }, 304],
      [{ 'if-modified-since': earlier }, 200],
      [{ 'if-modified-since': 'not a date' }, 200],
      // If-None-Match decides when both are sent (RFC 9110 §13.2.2).
      [{ 'if-none-match': '"other"', 'if-modified-since': later }, 200],
    ];
    for (const [headers, status] of cases) {
      const response = await get(headers);
      expect([JSON.stringify(headers), response.status]).toEqual([JSON.stringify(headers), status]);
      if (status === 304) {
        expect(response.body).toHaveLength(0);
        expect(response.headers.get('etag')).toBe(etag);
        expect(response.headers.get('cache-control')).toMatch(/max-age=/);
      } else {
        expect(response.body).toEqual(first);
      }
    }
    const head = await get({}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toHaveLength(0);
    expect(head.headers.get('etag')).toBe(etag);
  });

  it('says no-cache once nextUpdate has passed', async () => {
    const future = await startHost({ db, world, now: () => Date.now() + 30 * 86_400_000 });
    try {
      const response = await fetch(`${future.url}/crl`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, no-cache, no-transform');
    } finally {
      await future.close();
    }
  });
});

describe('CRL upload refusals (nothing stored)', () => {
  async function expectUploadRefused(
    der: Uint8Array,
    expected: { status: number; code: string },
    options: { token?: string; contentType?: string; alert?: boolean } = {},
  ) {
    const before = await hostSnapshot(db);
    const response = await upload(der, options.token, options.contentType);
    expect([response.status, response.body.code]).toEqual([expected.status, expected.code]);
    const after = await hostSnapshot(db);
    if (options.alert) expect({ ...after, audit_events: [] }).toEqual({ ...before, audit_events: [] });
    else expect(after).toEqual(before);
    const served = await get();
    expect(served.headers.get('etag')).toBe(etagOf(current));
  }
  let current: Uint8Array;

  beforeAll(async () => {
    current = world.nextCrl();
    expect((await upload(current)).status).toBe(201);
  });

  it('refuses the same or a lower cRLNumber (E_CRL_NOT_NEWER)', async () => {
    await expectUploadRefused(current, { status: 409, code: 'E_CRL_NOT_NEWER' });
    const older = parseCrl(current).crlNumber! - 1n;
    const { issuer } = world;
    const saved = issuer.nextCrlNumber;
    issuer.nextCrlNumber = Number(older);
    const rollback = world.nextCrl();
    issuer.nextCrlNumber = saved;
    await expectUploadRefused(rollback, { status: 409, code: 'E_CRL_NOT_NEWER' });
  });

  it('refuses a CRL of another CA, a forged signature and bytes that are no CRL', async () => {
    await expectUploadRefused(issuerWorld('CRL Test').nextCrl(), { status: 400, code: 'E_PKI_SIGNATURE' });
    const forged = world.nextCrl();
    forged[forged.length - 5]! ^= 0x01;
    await expectUploadRefused(forged, { status: 400, code: 'E_PKI_SIGNATURE' });
    await expectUploadRefused(new TextEncoder().encode('not a CRL'), {
      status: 400,
      code: 'E_PKI_MALFORMED',
    });
  });

  it('refuses a CRL already past its nextUpdate, and one from the future', async () => {
    const stale = world.nextCrl({ now: new Date(Date.now() - 30 * 86_400_000), validityDays: 7 });
    await expectUploadRefused(stale, { status: 400, code: 'E_CRL_STALE' });
    const ahead = world.nextCrl({ now: new Date(Date.now() + 86_400_000) });
    await expectUploadRefused(ahead, { status: 400, code: 'E_INPUT_INVALID' });
  });

  it('refuses the wrong media type, a missing token, a role without crl:publish and an oversized CRL', async () => {
    const next = world.nextCrl();
    await expectUploadRefused(
      next,
      { status: 415, code: 'E_INPUT_INVALID' },
      { contentType: 'application/json' },
    );
    await expectUploadRefused(next, { status: 401, code: 'E_AUTH_INVALID' }, { token: 'nothing' });
    const auditor = await staffToken(db, 'auditor');
    await expectUploadRefused(
      next,
      { status: 403, code: 'E_AUTH_FORBIDDEN' },
      { token: auditor, alert: true },
    );
    await expectUploadRefused(new Uint8Array(65 * 1024), { status: 413, code: 'E_REQUEST_TOO_LARGE' });
    // The same CRL is then accepted: the refusals left no trace that would block it.
    expect((await upload(next)).status).toBe(201);
    current = next;
  });
});

describe('the terminal’s CRL cache against the host', () => {
  it('fetches, then revalidates with 304, then takes a newer CRL with a new revocation', async () => {
    const terminalDb = openDatabase(join(dir, 'terminal.db'));
    try {
      const cache = new CrlCache({
        store: new CrlStore(terminalDb),
        caCertificateDer: world.caDer,
        distributionPoint: `${host.url}/crl`,
      });
      const fetched = await cache.refresh();
      expect(fetched).toMatchObject({ state: 'fresh', source: 'http', lastRefresh: { ok: true } });
      expect(fetched.lastRefresh?.notModified).toBeUndefined();
      const again = await cache.refresh();
      expect(again.lastRefresh).toMatchObject({ ok: true, notModified: true });

      const newer = world.nextCrl({ revokeOne: true });
      expect((await upload(newer)).status).toBe(201);
      const updated = await cache.refresh();
      expect(updated.crlNumber).toBe(parseCrl(newer).crlNumber!.toString());
      expect(updated.revokedCount).toBe(parseCrl(newer).revoked.length);
      expect(updated.lastRefresh?.notModified).toBeUndefined();
    } finally {
      terminalDb.close();
    }
  });
});
