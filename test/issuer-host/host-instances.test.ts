// Two host instances on one PostgreSQL database serve the same state: what one registers, revokes
// or publishes the other serves at once, and a request accepted by one is a replay at the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { toHex } from '../../protocol/bytes.js';
import { generateP256KeyPair } from '../../protocol/crypto-suite.js';
import { signRequest } from '../../protocol/host-link/signed-request.js';
import { parseCrl } from '../../protocol/pki/index.js';
import { useHostDatabases } from './host-db-fixtures.js';
import { issuerWorld, type RunningHost, staffToken, startHost } from './host-fixtures.js';

const dbs = useHostDatabases({ embedded: false });
const world = issuerWorld('Fleet Test');
let dbA: HostDatabase;
let dbB: HostDatabase;
let a: RunningHost;
let b: RunningHost;
let admin: string;

beforeAll(async () => {
  dbA = await dbs.fresh('postgres');
  dbB = await dbs.reopen(dbA);
  [a, b] = await Promise.all([startHost({ db: dbA, world }), startHost({ db: dbB, world })]);
  admin = await staffToken(dbA, 'issuer-admin');
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

async function post(
  host: RunningHost,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array | string,
) {
  const response = await fetch(host.url + path, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const adminJson = () => ({ authorization: `Bearer ${admin}`, 'content-type': 'application/json' });

describe('two host instances on one database', () => {
  const keys = generateP256KeyPair();
  const hello = new TextEncoder().encode(JSON.stringify({ software: 'fleet test' }));
  const signed = () => ({
    'content-type': 'application/json',
    ...signRequest(keys.privateKey, {
      method: 'POST',
      path: '/terminal/hello',
      terminalId: 'T-fleet',
      body: hello,
    }),
  });

  it('accepts at B a terminal registered at A, and a token created at A', async () => {
    expect(
      (await post(a, '/admin/shops', adminJson(), JSON.stringify({ shopId: 'fleet', name: 'Fleet Shop' })))
        .status,
    ).toBe(201);
    const registered = await post(
      a,
      '/admin/terminals',
      adminJson(),
      JSON.stringify({ terminalId: 'T-fleet', shopId: 'fleet', publicKey: toHex(keys.publicKey) }),
    );
    expect(registered.status).toBe(201);
    const atB = await post(b, '/terminal/hello', signed(), hello);
    expect(atB).toMatchObject({ status: 200, body: { terminalId: 'T-fleet', shopId: 'fleet' } });
    const listed = await fetch(`${b.url}/admin/terminals?shopId=fleet`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(((await listed.json()) as { terminals: unknown[] }).terminals).toHaveLength(1);
  });

  it('refuses at B a request already accepted at A (the nonce is in the database)', async () => {
    const headers = signed();
    expect((await post(a, '/terminal/hello', headers, hello)).status).toBe(200);
    expect((await post(b, '/terminal/hello', headers, hello)).body.code).toBe('E_AUTH_REPLAY');
  });

  it('serves at B the CRL published at A, with the same ETag, and 304s across instances', async () => {
    const der = world.nextCrl({ revokeOne: true });
    const published = await fetch(`${a.url}/crl`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/pkix-crl' },
      body: der,
    });
    expect(published.status).toBe(201);
    const fromA = await fetch(`${a.url}/crl`);
    const fromB = await fetch(`${b.url}/crl`);
    expect(new Uint8Array(await fromB.arrayBuffer())).toEqual(der);
    await fromA.arrayBuffer();
    expect(fromB.headers.get('etag')).toBe(fromA.headers.get('etag'));
    expect(fromB.headers.get('last-modified')).toBe(fromA.headers.get('last-modified'));
    const revalidated = await fetch(`${b.url}/crl`, {
      headers: { 'if-none-match': fromA.headers.get('etag')! },
    });
    expect(revalidated.status).toBe(304);
    // Publishing the same CRL at B now is a rollback attempt.
    const again = await post(
      b,
      '/crl',
      { authorization: `Bearer ${admin}`, 'content-type': 'application/pkix-crl' },
      der,
    );
    expect([again.status, again.body.code]).toEqual([409, 'E_CRL_NOT_NEWER']);
    expect(parseCrl(der).revoked).toHaveLength(1);
  });

  it('refuses at A a terminal revoked at B, at once', async () => {
    const revoked = await post(
      b,
      '/admin/terminals/T-fleet/revoke',
      adminJson(),
      JSON.stringify({ reason: 'lost' }),
    );
    expect(revoked.body.status).toBe('revoked');
    expect((await post(a, '/terminal/hello', signed(), hello)).body.code).toBe('E_AUTH_REVOKED');
  });

  it('keeps one CRL sequence when both instances publish at once', async () => {
    const first = world.nextCrl();
    const second = world.nextCrl();
    const upload = (host: RunningHost, der: Uint8Array) =>
      post(host, '/crl', { authorization: `Bearer ${admin}`, 'content-type': 'application/pkix-crl' }, der);
    const results = await Promise.all([upload(a, second), upload(b, first)]);
    // The higher number always lands; the lower one lands only if it was first.
    expect(results[0]!.status).toBe(201);
    expect([201, 409]).toContain(results[1]!.status);
    const current = await fetch(`${b.url}/crl`);
    expect(new Uint8Array(await current.arrayBuffer())).toEqual(second);
  });

  it('answers 503 E_HOST_DB while PostgreSQL is down, and serves again once it is back', async () => {
    const etag = (await fetch(`${a.url}/crl`, { method: 'HEAD' })).headers.get('etag');
    let during: { status: number; body: unknown }[] = [];
    await dbs.postgres.restart({
      mode: 'kill',
      whileStopped: async () => {
        during = await Promise.all(
          [a, b].map(async (host) => {
            const response = await fetch(`${host.url}/crl`);
            return { status: response.status, body: await response.json() };
          }),
        );
      },
    });
    for (const answer of during) {
      expect(answer).toEqual({
        status: 503,
        body: { code: 'E_HOST_DB', message: 'the host database refused the operation or cannot be reached' },
      });
    }
    for (const host of [a, b]) {
      const response = await fetch(`${host.url}/crl`, { method: 'HEAD' });
      expect([response.status, response.headers.get('etag')]).toEqual([200, etag]);
    }
  });
});
