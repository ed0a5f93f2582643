// Authentication at the issuer host: signed terminal requests and staff tokens, every refusal with
// its code, what each refusal records (an alert for a known identity, nothing for an unknown one) and
// that nothing else changes. Plain HTTP here; TLS and pinning have their own file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../issuer-host/db/audit-log.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { StaffTokens, staffTokenHash } from '../../issuer-host/db/staff-tokens.js';
import { TerminalRegistry } from '../../issuer-host/db/terminal-registry.js';
import { toHex } from '../../protocol/bytes.js';
import { generateP256KeyPair } from '../../protocol/crypto-suite.js';
import { signRequest } from '../../protocol/host-link/signed-request.js';
import { useHostDatabases } from './host-db-fixtures.js';
import {
  hostSnapshot,
  issuerWorld,
  plainClient,
  type RunningHost,
  registeredTerminal,
  staffToken,
  startHost,
  type TestTerminal,
} from './host-fixtures.js';

const dbs = useHostDatabases({ embedded: false });
const world = issuerWorld();
let db: HostDatabase;
let host: RunningHost;
let terminal: TestTerminal;
let revokedTerminal: TestTerminal;
let admin: string;

beforeAll(async () => {
  db = await dbs.fresh('postgres');
  host = await startHost({ db, world });
  terminal = await registeredTerminal(db, 'T-1');
  revokedTerminal = await registeredTerminal(db, 'T-revoked');
  await new TerminalRegistry(db).revoke({ terminalId: 'T-revoked', actor: 'cli' });
  admin = await staffToken(db, 'issuer-admin');
});
afterAll(async () => {
  await host?.close();
});

const HELLO = '/terminal/hello';
const helloBody = new TextEncoder().encode(JSON.stringify({ software: 'test 1.0' }));

async function send(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<{
  status: number;
  body: { code?: string; message?: string } & Record<string, unknown>;
  headers: Headers;
}> {
  const response = await fetch(host.url + path, {
    method,
    headers: init.headers ?? {},
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}

function signedHeaders(
  who: TestTerminal,
  options: { path?: string; body?: Uint8Array; now?: number; key?: Uint8Array; method?: string } = {},
): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...signRequest(
      options.key ?? who.keys.privateKey,
      {
        method: options.method ?? 'POST',
        path: options.path ?? HELLO,
        terminalId: who.terminalId,
        body: options.body ?? helloBody,
      },
      options.now !== undefined ? { now: options.now } : {},
    ),
  };
}

/** Sends the request and checks the refusal, what it recorded, and that nothing else changed. */
async function expectRefused(
  request: () => ReturnType<typeof send>,
  expected: { status: number; code: string; alert?: string },
): Promise<void> {
  const before = await hostSnapshot(db);
  const alertsBefore = (await new AuditLog(db).list({ limit: 1000 })).length;
  const response = await request();
  expect(response.status).toBe(expected.status);
  expect(response.body.code).toBe(expected.code);
  expect(typeof response.body.message).toBe('string');
  expect(Object.keys(response.body).sort()).toEqual(['code', 'message']);
  if (expected.status === 401) expect(response.headers.get('www-authenticate')).toContain('Bearer');
  const events = await new AuditLog(db).list({ limit: 1000 });
  if (expected.alert) {
    expect(events.slice(alertsBefore).map((e) => [e.kind, e.severity])).toEqual([[expected.alert, 'alert']]);
    const after = await hostSnapshot(db);
    expect({ ...after, audit_events: [] }).toEqual({ ...before, audit_events: [] });
  } else {
    expect(await hostSnapshot(db)).toEqual(before);
  }
}

describe('signed terminal requests', () => {
  it('accepts a request signed with the registered key, and says who the terminal is', async () => {
    const reply = await plainClient(host, world, terminal).call<Record<string, unknown>>('POST', HELLO, {
      software: 'test 1.0',
    });
    expect(reply).toMatchObject({ terminalId: 'T-1', shopId: 'shop-1', crl: null });
    expect(Math.abs(Date.parse(reply.serverTime as string) - Date.now())).toBeLessThan(60_000);
  });

  it('refuses a request without credentials (E_AUTH_MISSING), recording nothing', async () => {
    await expectRefused(
      () => send('POST', HELLO, { headers: { 'content-type': 'application/json' }, body: helloBody }),
      {
        status: 401,
        code: 'E_AUTH_MISSING',
      },
    );
  });

  it('refuses incomplete or malformed signature headers (E_AUTH_INVALID)', async () => {
    const headers = signedHeaders(terminal);
    const { 'stl-signature': _dropped, ...withoutSignature } = headers;
    await expectRefused(() => send('POST', HELLO, { headers: withoutSignature, body: helloBody }), {
      status: 401,
      code: 'E_AUTH_INVALID',
    });
    await expectRefused(
      () => send('POST', HELLO, { headers: { ...headers, 'stl-nonce': 'XYZ' }, body: helloBody }),
      { status: 401, code: 'E_AUTH_INVALID' },
    );
  });

  it('refuses an unknown terminal (E_AUTH_UNKNOWN_TERMINAL), recording nothing', async () => {
    const stranger = { terminalId: 'T-stranger', keys: generateP256KeyPair() };
    await expectRefused(() => send('POST', HELLO, { headers: signedHeaders(stranger), body: helloBody }), {
      status: 401,
      code: 'E_AUTH_UNKNOWN_TERMINAL',
    });
  });

  it('refuses a signature by another key, over another body or another path, with an alert', async () => {
    const otherKey = generateP256KeyPair().privateKey;
    await expectRefused(
      () => send('POST', HELLO, { headers: signedHeaders(terminal, { key: otherKey }), body: helloBody }),
      { status: 401, code: 'E_AUTH_INVALID', alert: 'auth.bad-signature' },
    );
    const tampered = new TextEncoder().encode(JSON.stringify({ software: 'test 6.6' }));
    // Alerts are throttled per terminal and minute: each case below uses a terminal of its own.
    const second = await registeredTerminal(db, 'T-bodies');
    await expectRefused(() => send('POST', HELLO, { headers: signedHeaders(second), body: tampered }), {
      status: 401,
      code: 'E_AUTH_INVALID',
      alert: 'auth.bad-signature',
    });
    const third = await registeredTerminal(db, 'T-paths');
    await expectRefused(
      () => send('POST', HELLO, { headers: signedHeaders(third, { path: `${HELLO}?x=1` }), body: helloBody }),
      { status: 401, code: 'E_AUTH_INVALID', alert: 'auth.bad-signature' },
    );
  });

  it('refuses a revoked terminal even with a good signature (E_AUTH_REVOKED), with an alert', async () => {
    await expectRefused(
      () => send('POST', HELLO, { headers: signedHeaders(revokedTerminal), body: helloBody }),
      {
        status: 401,
        code: 'E_AUTH_REVOKED',
        alert: 'auth.revoked-terminal',
      },
    );
  });

  it('refuses a timestamp outside the window, past or future (E_AUTH_STALE), with an alert', async () => {
    const late = await registeredTerminal(db, 'T-late');
    await expectRefused(
      () =>
        send('POST', HELLO, {
          headers: signedHeaders(late, { now: Date.now() - 10 * 60_000 }),
          body: helloBody,
        }),
      { status: 401, code: 'E_AUTH_STALE', alert: 'auth.stale-timestamp' },
    );
    const early = await registeredTerminal(db, 'T-early');
    await expectRefused(
      () =>
        send('POST', HELLO, {
          headers: signedHeaders(early, { now: Date.now() + 10 * 60_000 }),
          body: helloBody,
        }),
      { status: 401, code: 'E_AUTH_STALE', alert: 'auth.stale-timestamp' },
    );
    // Within the window is fine.
    const skewed = await send('POST', HELLO, {
      headers: signedHeaders(late, { now: Date.now() - 60_000 }),
      body: helloBody,
    });
    expect(skewed.status).toBe(200);
  });

  it('refuses a replayed request (E_AUTH_REPLAY), with an alert', async () => {
    const headers = signedHeaders(terminal);
    expect((await send('POST', HELLO, { headers, body: helloBody })).status).toBe(200);
    await expectRefused(() => send('POST', HELLO, { headers, body: helloBody }), {
      status: 401,
      code: 'E_AUTH_REPLAY',
      alert: 'auth.replay',
    });
  });

  it('refuses a staff token on a terminal endpoint, and a request carrying both', async () => {
    await expectRefused(
      () =>
        send('POST', HELLO, {
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: helloBody,
        }),
      { status: 403, code: 'E_AUTH_FORBIDDEN' },
    );
    await expectRefused(
      () =>
        send('POST', HELLO, {
          headers: { ...signedHeaders(terminal), authorization: `Bearer ${admin}` },
          body: helloBody,
        }),
      { status: 401, code: 'E_AUTH_INVALID' },
    );
  });

  it('throttles alerts: the same refusal again within a minute records nothing more', async () => {
    const noisy = await registeredTerminal(db, 'T-noisy');
    const otherKey = generateP256KeyPair().privateKey;
    const bad = () =>
      send('POST', HELLO, { headers: signedHeaders(noisy, { key: otherKey }), body: helloBody });
    await expectRefused(bad, { status: 401, code: 'E_AUTH_INVALID', alert: 'auth.bad-signature' });
    await expectRefused(bad, { status: 401, code: 'E_AUTH_INVALID' });
  });
});

describe('staff tokens', () => {
  const registration = () => ({
    terminalId: `T-new-${Math.random().toString(36).slice(2, 8)}`,
    shopId: 'shop-1',
    publicKey: toHex(generateP256KeyPair().publicKey),
  });
  const post = (path: string, token: string | undefined, body: unknown) =>
    send('POST', path, {
      headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
      body: JSON.stringify(body),
    });

  it('lets an issuer admin register a terminal, which can then sign requests, and revoke it', async () => {
    const keys = generateP256KeyPair();
    const created = await post('/admin/terminals', `Bearer ${admin}`, {
      terminalId: 'T-http',
      shopId: 'shop-1',
      publicKey: toHex(keys.publicKey),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ terminalId: 'T-http', status: 'active', revokedAt: null });
    expect(created.body.registeredBy).toMatch(/^staff:tok-/);
    const http = { terminalId: 'T-http', keys };
    expect((await send('POST', HELLO, { headers: signedHeaders(http), body: helloBody })).status).toBe(200);
    const revoked = await post('/admin/terminals/T-http/revoke', `Bearer ${admin}`, { reason: 'test' });
    expect(revoked.body).toMatchObject({ status: 'revoked' });
    expect((await send('POST', HELLO, { headers: signedHeaders(http), body: helloBody })).body.code).toBe(
      'E_AUTH_REVOKED',
    );
    const listed = await send('GET', '/admin/terminals?shopId=shop-1', {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect((listed.body.terminals as { terminalId: string }[]).map((t) => t.terminalId)).toContain('T-http');
  });

  it('refuses a staff action without a token (E_AUTH_MISSING), with a terminal signature (E_AUTH_FORBIDDEN) or with both', async () => {
    await expectRefused(() => post('/admin/terminals', undefined, registration()), {
      status: 401,
      code: 'E_AUTH_MISSING',
    });
    const body = new TextEncoder().encode(JSON.stringify(registration()));
    await expectRefused(
      () =>
        send('POST', '/admin/terminals', {
          headers: signedHeaders(terminal, { path: '/admin/terminals', body }),
          body,
        }),
      { status: 403, code: 'E_AUTH_FORBIDDEN' },
    );
    await expectRefused(
      () =>
        send('POST', '/admin/terminals', {
          headers: {
            ...signedHeaders(terminal, { path: '/admin/terminals', body }),
            authorization: `Bearer ${admin}`,
          },
          body,
        }),
      { status: 401, code: 'E_AUTH_INVALID' },
    );
  });

  it('refuses a wrong or malformed token (E_AUTH_INVALID), recording nothing', async () => {
    await expectRefused(() => post('/admin/terminals', `Bearer stlh_${'A'.repeat(43)}`, registration()), {
      status: 401,
      code: 'E_AUTH_INVALID',
    });
    await expectRefused(() => post('/admin/terminals', `Bearer ${admin.slice(0, -1)}x`, registration()), {
      status: 401,
      code: 'E_AUTH_INVALID',
    });
    await expectRefused(() => post('/admin/terminals', `Basic ${admin}`, registration()), {
      status: 401,
      code: 'E_AUTH_INVALID',
    });
  });

  it('refuses a revoked token (E_AUTH_REVOKED, with an alert) and an expired one', async () => {
    const tokens = new StaffTokens(db);
    const doomed = await tokens.create({ role: 'issuer-admin', label: 'doomed', actor: 'cli' });
    await tokens.revoke({ tokenId: doomed.tokenId, actor: 'cli' });
    await expectRefused(() => post('/admin/terminals', `Bearer ${doomed.token}`, registration()), {
      status: 401,
      code: 'E_AUTH_REVOKED',
      alert: 'auth.revoked-token',
    });
    // An expired token: its row written as if created two hours ago (the table wants expiry > creation).
    const oldToken = `stlh_${'B'.repeat(43)}`;
    await db.query(
      `INSERT INTO staff_tokens (token_id, token_hash, role, label, created_at, created_by, expires_at)
       VALUES ('tok-00000000000e', $1, 'issuer-admin', 'expired', now() - interval '2 hours', 'cli',
               now() - interval '1 hour')`,
      [staffTokenHash(oldToken)],
    );
    await expectRefused(() => post('/admin/terminals', `Bearer ${oldToken}`, registration()), {
      status: 401,
      code: 'E_AUTH_REVOKED',
    });
  });

  it('refuses a role without the permission (E_AUTH_FORBIDDEN), with an alert', async () => {
    const auditor = await staffToken(db, 'auditor');
    await expectRefused(() => post('/admin/terminals', `Bearer ${auditor}`, registration()), {
      status: 403,
      code: 'E_AUTH_FORBIDDEN',
      alert: 'auth.forbidden',
    });
    const publisher = await staffToken(db, 'crl-publisher');
    await expectRefused(
      () => send('GET', '/admin/audit', { headers: { authorization: `Bearer ${publisher}` } }),
      {
        status: 403,
        code: 'E_AUTH_FORBIDDEN',
        alert: 'auth.forbidden',
      },
    );
    // The auditor may read.
    const audit = await send('GET', '/admin/audit?limit=5', {
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(audit.status).toBe(200);
    expect(audit.body.events).toHaveLength(5);
  });
});
