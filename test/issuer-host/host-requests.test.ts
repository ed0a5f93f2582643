// Bad requests at the issuer host: oversized bodies (declared or streamed), bodies that are not JSON,
// not UTF-8, of the wrong media type or shape, unknown routes and query parameters. Each gets one
// `{ code, message }` answer, and the database is the same before and after (an authenticated
// terminal request consumes its nonce, so that it cannot be replayed: that is the only trace).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { toHex } from '../../protocol/bytes.js';
import { generateP256KeyPair } from '../../protocol/crypto-suite.js';
import { signRequest } from '../../protocol/host-link/signed-request.js';
import { useHostDatabases } from './host-db-fixtures.js';
import {
  hostSnapshot,
  issuerWorld,
  type RunningHost,
  registeredTerminal,
  staffToken,
  startHost,
  type TestTerminal,
} from './host-fixtures.js';

const dbs = useHostDatabases({ embedded: false });
const world = issuerWorld('Requests Test');
const LIMIT = 2048;
let db: HostDatabase;
let host: RunningHost;
let terminal: TestTerminal;
let admin: string;

beforeAll(async () => {
  db = await dbs.fresh('postgres');
  host = await startHost({ db, world, jsonBodyBytes: LIMIT, maxCrlBytes: 4096 });
  terminal = await registeredTerminal(db, 'T-req');
  admin = await staffToken(db, 'issuer-admin');
});
afterAll(async () => {
  await host?.close();
});

type Body = Uint8Array | string | ReadableStream<Uint8Array>;

async function send(method: string, path: string, headers: Record<string, string>, body?: Body) {
  const response = await fetch(host.url + path, {
    method,
    headers,
    ...(body !== undefined ? { body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } : {}),
  } as RequestInit);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const asAdmin = (contentType = 'application/json') => ({
  authorization: `Bearer ${admin}`,
  'content-type': contentType,
});

function signed(path: string, body: Uint8Array, contentType = 'application/json'): Record<string, string> {
  return {
    'content-type': contentType,
    ...signRequest(terminal.keys.privateKey, { method: 'POST', path, terminalId: terminal.terminalId, body }),
  };
}

/** The answer, and that the database did not change (nonces aside when `nonceConsumed`). */
async function expectNothingChanged(
  request: () => ReturnType<typeof send>,
  expected: { status: number; code: string; message?: RegExp },
  options: { nonceConsumed?: boolean } = {},
) {
  const withNonces = !options.nonceConsumed;
  const before = await hostSnapshot(db, { withNonces });
  const response = await request();
  expect([response.status, response.body?.code]).toEqual([expected.status, expected.code]);
  expect(Object.keys(response.body).sort()).toEqual(['code', 'message']);
  if (expected.message) expect(response.body.message).toMatch(expected.message);
  expect(await hostSnapshot(db, { withNonces })).toEqual(before);
  return response;
}

function chunked(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      controller.enqueue(new Uint8Array(1024).fill(0x20));
      sent += 1024;
    },
  });
}

describe('oversized requests change nothing', () => {
  it('refuses a staff body over the limit, declared by Content-Length or streamed', async () => {
    const big = JSON.stringify({ shopId: 's-big', name: 'x'.repeat(LIMIT) });
    await expectNothingChanged(() => send('POST', '/admin/shops', asAdmin(), big), {
      status: 413,
      code: 'E_REQUEST_TOO_LARGE',
    });
    await expectNothingChanged(() => send('POST', '/admin/shops', asAdmin(), chunked(64 * 1024)), {
      status: 413,
      code: 'E_REQUEST_TOO_LARGE',
    });
  });

  it('refuses a signed terminal body over the limit before checking its signature (no nonce used)', async () => {
    const body = new TextEncoder().encode(JSON.stringify({ software: 'x'.repeat(LIMIT) }));
    await expectNothingChanged(() => send('POST', '/terminal/hello', signed('/terminal/hello', body), body), {
      status: 413,
      code: 'E_REQUEST_TOO_LARGE',
    });
  });

  it('refuses an unauthenticated oversized upload as unauthenticated, without reading it', async () => {
    await expectNothingChanged(
      () => send('POST', '/crl', { 'content-type': 'application/pkix-crl' }, chunked(1024 * 1024)),
      { status: 401, code: 'E_AUTH_MISSING' },
    );
  });

  it('refuses a CRL over the CRL limit', async () => {
    await expectNothingChanged(
      () => send('POST', '/crl', asAdmin('application/pkix-crl'), new Uint8Array(8192)),
      { status: 413, code: 'E_REQUEST_TOO_LARGE' },
    );
  });
});

describe('malformed requests change nothing', () => {
  it('refuses bodies that are not JSON, not UTF-8, empty or of another media type', async () => {
    const cases: [Body | undefined, string, number, RegExp][] = [
      ['{"shopId": "s1", ', 'application/json', 400, /not valid JSON/],
      [Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d), 'application/json', 400, /UTF-8/],
      ['', 'application/json', 400, /body .* is required/],
      [undefined, 'application/json', 400, /body .* is required/],
      ['shopId=s1', 'application/x-www-form-urlencoded', 415, /./],
      ['{"shopId":"s1","name":"S"}', 'text/plain', 415, /./],
      ['{"shopId":"s1","name":"S"}', 'application/pkix-crl', 415, /must be application\/json/],
    ];
    for (const [body, type, status, message] of cases) {
      await expectNothingChanged(() => send('POST', '/admin/shops', asAdmin(type), body), {
        status,
        code: 'E_INPUT_INVALID',
        message,
      });
    }
  });

  it('refuses JSON of the wrong shape, naming what is wrong', async () => {
    const key = toHex(generateP256KeyPair().publicKey);
    const cases: [string, unknown, RegExp][] = [
      ['/admin/shops', { shopId: 's1' }, /body\.name/],
      ['/admin/shops', { shopId: 's1', name: 'S', extra: 1 }, /extra/],
      ['/admin/shops', { shopId: 'bad id!', name: 'S' }, /body\.shopId/],
      ['/admin/shops', { shopId: 's1', name: 42 }, /body\.name/],
      ['/admin/shops', ['s1', 'S'], /body/],
      ['/admin/shops', '{"__proto__": {"admin": true}}', /__proto__/],
      ['/admin/terminals', { terminalId: 'T-9', shopId: 'shop-1', publicKey: 'zz' }, /publicKey/],
      ['/admin/terminals', { terminalId: 'T-9', shopId: 'shop-1', publicKey: key.slice(2) }, /publicKey/],
      ['/admin/terminals/T-req/revoke', { reason: '' }, /reason/],
    ];
    for (const [path, body, message] of cases) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      await expectNothingChanged(() => send('POST', path, asAdmin(), text), {
        status: 400,
        code: 'E_INPUT_INVALID',
        message,
      });
    }
  });

  it('refuses a key that is not on the curve, and an unknown shop, without registering anything', async () => {
    const key = generateP256KeyPair().publicKey;
    key[64]! ^= 1;
    await expectNothingChanged(
      () =>
        send(
          'POST',
          '/admin/terminals',
          asAdmin(),
          JSON.stringify({ terminalId: 'T-9', shopId: 'shop-1', publicKey: toHex(key) }),
        ),
      { status: 400, code: 'E_INPUT_INVALID', message: /not a point/ },
    );
    const good = toHex(generateP256KeyPair().publicKey);
    await expectNothingChanged(
      () =>
        send(
          'POST',
          '/admin/terminals',
          asAdmin(),
          JSON.stringify({ terminalId: 'T-9', shopId: 'nowhere', publicKey: good }),
        ),
      { status: 404, code: 'E_NOT_FOUND' },
    );
  });

  it('refuses a well-signed terminal request with a malformed body: only its nonce is kept', async () => {
    for (const text of ['{"software":', '{"software": 7}', '{"software": "x", "admin": true}']) {
      const body = new TextEncoder().encode(text);
      await expectNothingChanged(
        () => send('POST', '/terminal/hello', signed('/terminal/hello', body), body),
        { status: 400, code: 'E_INPUT_INVALID' },
        { nonceConsumed: true },
      );
    }
  });

  it('refuses bad query parameters', async () => {
    const get = (path: string) => send('GET', path, { authorization: `Bearer ${admin}` });
    await expectNothingChanged(() => get('/admin/audit?limit=abc'), {
      status: 400,
      code: 'E_INPUT_INVALID',
      message: /limit/,
    });
    await expectNothingChanged(() => get('/admin/audit?limit=0'), { status: 400, code: 'E_INPUT_INVALID' });
    await expectNothingChanged(() => get('/admin/audit?unknown=1'), { status: 400, code: 'E_INPUT_INVALID' });
    await expectNothingChanged(() => get('/admin/terminals?shopId=bad%20id'), {
      status: 400,
      code: 'E_INPUT_INVALID',
    });
    expect((await get('/admin/audit?limit=2')).body.events).toHaveLength(2);
  });

  it('answers unknown routes and methods with E_NOT_FOUND', async () => {
    await expectNothingChanged(() => send('GET', '/admin/nothing', { authorization: `Bearer ${admin}` }), {
      status: 404,
      code: 'E_NOT_FOUND',
    });
    await expectNothingChanged(() => send('DELETE', '/crl', {}), { status: 404, code: 'E_NOT_FOUND' });
    await expectNothingChanged(() => send('GET', '/', {}), { status: 404, code: 'E_NOT_FOUND' });
  });

  it('sends nosniff and no-store on API answers', async () => {
    const response = await send('GET', '/admin/shops', { authorization: `Bearer ${admin}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});
