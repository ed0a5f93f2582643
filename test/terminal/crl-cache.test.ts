import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createIssuer,
  personalizeCard,
  publishCrl,
  revokeCertificate,
} from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { openDatabase } from '../../db/connection.js';
import { CrlStore } from '../../db/crl-store.js';
import { CrlCache, type CrlCacheOptions } from '../../electron/services/crl/crl-cache.js';
import { fromHex } from '../../protocol/bytes.js';
import { generateP256KeyPair } from '../../protocol/crypto-suite.js';
import { signTbs } from '../../protocol/pki/certificate.js';
import { type ParsedCertificate, parseCertificate, parseCrl, toPem } from '../../protocol/pki/index.js';
import { useTempDir } from '../db/helpers.js';

const tmp = useTempDir();

const T0 = new Date('2025-03-01T00:00:00Z');
const DAY = 86_400_000;

// A settable clock shared by the cache under test.
let clock = T0.getTime();
const now = () => new Date(clock);

beforeEach(() => {
  clock = T0.getTime();
});

function makeIssuer(name = 'Test Issuer'): IssuerState {
  return createIssuer({ name, currency: 392, now: T0 });
}

function issueCard(issuer: IssuerState): ParsedCertificate {
  const state = personalizeCard(issuer, {
    validity: '20301231',
    balance: 0,
    maxBalance: 100_000,
    transferKeyId: 1,
    transferKeyIdLimit: 4,
    updateKeyId: 1,
    updateKeyIdLimit: 2,
    now: T0,
  });
  return parseCertificate(fromHex(state.certificate));
}

function crlAt(issuer: IssuerState, at: Date = T0, validityDays = 7): Uint8Array {
  return publishCrl(issuer, { now: at, validityDays });
}

function setup(options: Partial<CrlCacheOptions> & { issuer?: IssuerState } = {}) {
  const issuer = options.issuer ?? makeIssuer();
  const db = tmp.track(openDatabase(tmp.path()));
  const store = new CrlStore(db);
  const make = (more: Partial<CrlCacheOptions> = {}) =>
    new CrlCache({
      store,
      caCertificateDer: fromHex(issuer.caCertificate),
      now,
      ...options,
      ...more,
    });
  return { issuer, db, store, cache: make(), make };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

function snapshot(s: ReturnType<typeof setup>) {
  return {
    stored: s.store.currentCrl(s.cache.issuerKeyId),
    rows: s.db.handle.prepare('SELECT count(*) FROM crl_revoked').pluck().get(),
    status: s.cache.status(),
  };
}

describe('CrlCache import', () => {
  it('imports a good CRL and answers revocation from it', () => {
    const s = setup();
    const good = issueCard(s.issuer);
    const bad = issueCard(s.issuer);
    revokeCertificate(s.issuer, bad.serial, new Date(T0.getTime() - DAY), 1);
    expect(s.cache.status()).toEqual({ state: 'missing', revokedCount: 0 });

    const status = s.cache.importDer(crlAt(s.issuer), 'file');
    expect(status).toEqual({
      state: 'fresh',
      source: 'file',
      crlNumber: '1',
      thisUpdate: T0.toISOString(),
      nextUpdate: new Date(T0.getTime() + 7 * DAY).toISOString(),
      revokedCount: 1,
    });
    expect(s.cache.checkCertificate(good)).toEqual({ revoked: false });
    let error: unknown;
    try {
      s.cache.checkCertificate(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'E_PKI_REVOKED',
      details: {
        serial: bad.serial.toString(),
        revokedAt: new Date(T0.getTime() - DAY).toISOString(),
      },
    });
  });

  it('refuses bad CRLs, storing nothing and keeping the current one', () => {
    const s = setup();
    const revokedCard = issueCard(s.issuer);
    revokeCertificate(s.issuer, revokedCard.serial, T0);
    s.cache.importDer(crlAt(s.issuer), 'file'); // number 1
    s.cache.importDer(crlAt(s.issuer), 'file'); // number 2
    const before = snapshot(s);
    expect(before.stored?.crlNumber).toBe(2n);

    // Forged: a genuine-looking tbsCertList (same issuer name and AKI, newer number, nothing revoked)
    // signed with an attacker's key.
    const unsigned = makeIssuer();
    Object.assign(unsigned, { caCertificate: s.issuer.caCertificate, caPrivateKey: s.issuer.caPrivateKey });
    unsigned.nextCrlNumber = 9;
    const genuineTbs = parseCrl(crlAt(unsigned)).tbsDer;
    const forged = signTbs(genuineTbs, generateP256KeyPair().privateKey);
    expect(parseCrl(forged).issuerName).toBe(parseCrl(crlAt(s.issuer)).issuerName);

    // Another CA with the very same name (so only the AKI and key differ), and an unrelated CA.
    const twin = makeIssuer();
    twin.nextCrlNumber = 9;
    const other = makeIssuer('Other Issuer');
    other.nextCrlNumber = 9;

    // Older number, correctly signed.
    const older = makeIssuer();
    Object.assign(older, { caCertificate: s.issuer.caCertificate, caPrivateKey: s.issuer.caPrivateKey });
    older.nextCrlNumber = 1;

    const genuine = crlAt(s.issuer);
    const truncated = genuine.subarray(0, genuine.length - 5);

    const cases: [string, Uint8Array, string, string][] = [
      ['forged signature', forged, 'E_PKI_SIGNATURE', 'signature does not verify'],
      ['same-name CA', crlAt(twin), 'E_PKI_SIGNATURE', 'authority key identifier'],
      ['other CA', crlAt(other), 'E_PKI_SIGNATURE', 'issued by another CA'],
      ['malformed', Uint8Array.of(0x30, 0x03, 0x02, 0x01), 'E_PKI_MALFORMED', ''],
      ['truncated', truncated, 'E_PKI_MALFORMED', ''],
      ['not DER at all', new TextEncoder().encode('hello'), 'E_PKI_MALFORMED', ''],
      ['older crlNumber', crlAt(older), 'E_INPUT_INVALID', 'older than the stored CRL number 2'],
    ];
    for (const [what, der, code, message] of cases) {
      expect(() => s.cache.importDer(der, 'http'), what).toThrow(
        expect.objectContaining({ code, message: expect.stringContaining(message) }),
      );
      expect(snapshot(s), what).toEqual(before);
    }
    expect(() => s.cache.checkCertificate(revokedCard)).toThrow(
      expect.objectContaining({ code: 'E_PKI_REVOKED' }),
    );
  });

  it('re-importing the stored CRL only refreshes its source; the same number with other content is refused', () => {
    const s = setup();
    const der = crlAt(s.issuer);
    s.cache.importDer(der, 'file');
    expect(s.cache.importDer(der, 'http', { etag: '"x"' })).toMatchObject({ source: 'http', crlNumber: '1' });
    s.issuer.nextCrlNumber = 1;
    const sameNumber = crlAt(s.issuer, new Date(T0.getTime() + 1000));
    expect(codeOf(() => s.cache.importDer(sameNumber, 'file'))).toBe('E_INPUT_INVALID');
    expect(s.store.currentCrl(s.cache.issuerKeyId)?.der).toEqual(der);
  });

  it('imports DER and PEM files', () => {
    const s = setup();
    const derPath = tmp.path('crl.der');
    const pemPath = tmp.path('crl.pem');
    writeFileSync(derPath, crlAt(s.issuer));
    writeFileSync(pemPath, `junk before\n${toPem('X509 CRL', crlAt(s.issuer))}`);
    expect(s.cache.importFile(derPath)).toMatchObject({ source: 'file', crlNumber: '1' });
    expect(s.cache.importFile(pemPath)).toMatchObject({ source: 'file', crlNumber: '2' });
    // PEM text that happens to start with "0" (0x30, a DER SEQUENCE tag) is still read as PEM.
    writeFileSync(pemPath, `0 = CRL number 3\n${toPem('X509 CRL', crlAt(s.issuer))}`);
    expect(s.cache.importFile(pemPath)).toMatchObject({ source: 'file', crlNumber: '3' });
    expect(codeOf(() => s.cache.importFile(tmp.path('missing.der')))).toBe('E_INPUT_INVALID');
  });

  it('refuses a certificate of another CA: this CRL does not cover it', () => {
    const s = setup();
    s.cache.importDer(crlAt(s.issuer), 'file');
    const foreign = issueCard(makeIssuer('Other Issuer'));
    expect(codeOf(() => s.cache.checkCertificate(foreign))).toBe('E_PKI_SIGNATURE');
  });
});

describe('CrlCache freshness', () => {
  it('stale CRL: refused under "refuse", a warning under "warn"; revoked stays revoked', () => {
    const s = setup();
    const card = issueCard(s.issuer);
    const revoked = issueCard(s.issuer);
    revokeCertificate(s.issuer, revoked.serial, T0);
    s.cache.importDer(crlAt(s.issuer, T0, 1), 'file');
    const warn = s.make({ expiredPolicy: 'warn' });

    clock = T0.getTime() + DAY - 1000;
    expect(s.cache.status().state).toBe('fresh');
    expect(s.cache.checkCertificate(card)).toEqual({ revoked: false });

    clock = T0.getTime() + DAY; // nextUpdate itself is stale
    expect(s.cache.status().state).toBe('stale');
    expect(() => s.cache.checkCertificate(card)).toThrow(
      expect.objectContaining({ code: 'E_CRL_STALE', details: expect.objectContaining({ crlNumber: '1' }) }),
    );
    expect(warn.checkCertificate(card)).toEqual({
      revoked: false,
      warning: expect.stringContaining('nextUpdate'),
    });
    expect(codeOf(() => warn.checkCertificate(revoked))).toBe('E_PKI_REVOKED');
    expect(codeOf(() => s.cache.checkCertificate(revoked))).toBe('E_PKI_REVOKED');
  });

  it('a CRL dated in the future beyond the clock skew is stale', () => {
    const s = setup();
    s.cache.importDer(crlAt(s.issuer, new Date(T0.getTime() + 3_600_000)), 'file');
    expect(s.cache.status().state).toBe('stale');
    clock = T0.getTime() + 3_600_000 - 60_000; // within the default 5-minute skew
    expect(s.cache.status().state).toBe('fresh');
  });

  it('no CRL at all: E_CRL_STALE under "refuse", a warning under "warn"', () => {
    const s = setup();
    const card = issueCard(s.issuer);
    expect(() => s.cache.checkCertificate(card)).toThrow(
      expect.objectContaining({ code: 'E_CRL_STALE', message: expect.stringContaining('no CRL') }),
    );
    expect(s.make({ expiredPolicy: 'warn' }).checkCertificate(card)).toEqual({
      revoked: false,
      warning: expect.stringContaining('no CRL'),
    });
  });
});

describe('CrlCache built-in CRL', () => {
  it('imports the built-in CRL when nothing is stored, and not over a newer stored one', () => {
    const issuer = makeIssuer();
    const builtin = crlAt(issuer); // number 1
    const s = setup({ issuer, builtinCrlDer: builtin });
    expect(s.cache.status()).toMatchObject({ state: 'fresh', source: 'builtin', crlNumber: '1' });
    s.cache.importDer(crlAt(issuer), 'http'); // number 2
    expect(s.make().status()).toMatchObject({ source: 'http', crlNumber: '2' });
  });

  it('a built-in CRL newer than the stored one replaces it (software update)', () => {
    const s = setup();
    s.cache.importDer(crlAt(s.issuer), 'file');
    const next = s.make({ builtinCrlDer: crlAt(s.issuer) });
    expect(next.status()).toMatchObject({ source: 'builtin', crlNumber: '2' });
  });

  it('a built-in CRL that does not verify is not stored and is reported', () => {
    const issuer = makeIssuer();
    const s = setup({ issuer, builtinCrlDer: crlAt(makeIssuer('Other Issuer')) });
    expect(s.cache.status()).toMatchObject({
      state: 'missing',
      builtinError: { code: 'E_PKI_SIGNATURE' },
    });
    expect(s.store.currentCrl(s.cache.issuerKeyId)).toBeUndefined();
  });
});

// ---- HTTP ----

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  url: string;
  seen: IncomingHttpHeaders[];
  handle(handler: Handler): void;
}

let server: ReturnType<typeof createServer> | undefined;

afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function startServer(): Promise<TestServer> {
  let handler: Handler = (_req, res) => res.writeHead(404).end();
  const seen: IncomingHttpHeaders[] = [];
  const s = createServer((req, res) => {
    seen.push(req.headers);
    handler(req, res);
  });
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ca.crl`,
    seen,
    handle: (h) => {
      handler = h;
    },
  };
}

function serveCrl(der: Uint8Array | string, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/pkix-crl', ...headers });
    res.end(typeof der === 'string' ? der : Buffer.from(der));
  };
}

describe('CrlCache refresh over HTTP', () => {
  it('throws E_INPUT_INVALID when no distribution point is configured; refuses non-HTTP URLs', async () => {
    const s = setup();
    await expect(s.cache.refresh()).rejects.toMatchObject({ code: 'E_INPUT_INVALID' });
    expect(codeOf(() => s.make({ distributionPoint: 'file:///etc/passwd' }))).toBe('E_INPUT_INVALID');
  });

  it('200 with ETag, then 304 on If-None-Match / If-Modified-Since', async () => {
    const srv = await startServer();
    const s = setup({ distributionPoint: srv.url });
    const lastModified = 'Sat, 01 Mar 2025 00:00:00 GMT';
    srv.handle(serveCrl(crlAt(s.issuer), { etag: '"v1"', 'last-modified': lastModified }));

    const first = await s.cache.refresh();
    expect(first).toMatchObject({
      state: 'fresh',
      source: 'http',
      crlNumber: '1',
      lastRefresh: { at: T0.toISOString(), ok: true },
    });
    expect(first.lastRefresh?.notModified).toBeUndefined();
    expect(srv.seen[0]?.['if-none-match']).toBeUndefined();
    expect(s.store.currentCrl(s.cache.issuerKeyId)).toMatchObject({ etag: '"v1"', lastModified });

    srv.handle((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') res.writeHead(304, { etag: '"v1"' }).end();
      else res.writeHead(500).end();
    });
    clock += 60_000;
    const second = await s.cache.refresh();
    expect(srv.seen[1]).toMatchObject({ 'if-none-match': '"v1"', 'if-modified-since': lastModified });
    expect(second).toMatchObject({
      crlNumber: '1',
      lastRefresh: { at: new Date(T0.getTime() + 60_000).toISOString(), ok: true, notModified: true },
    });
  });

  it('a newer HTTP CRL replaces the built-in one', async () => {
    const srv = await startServer();
    const issuer = makeIssuer();
    const card = issueCard(issuer);
    const s = setup({ issuer, builtinCrlDer: crlAt(issuer), distributionPoint: srv.url });
    expect(s.cache.status()).toMatchObject({ source: 'builtin', crlNumber: '1' });
    expect(s.cache.checkCertificate(card)).toEqual({ revoked: false });

    revokeCertificate(issuer, card.serial, T0);
    srv.handle(serveCrl(crlAt(issuer)));
    expect(await s.cache.refresh()).toMatchObject({ source: 'http', crlNumber: '2', revokedCount: 1 });
    expect(codeOf(() => s.cache.checkCertificate(card))).toBe('E_PKI_REVOKED');
  });

  it('accepts a PEM body', async () => {
    const srv = await startServer();
    const s = setup({ distributionPoint: srv.url });
    srv.handle(serveCrl(toPem('X509 CRL', crlAt(s.issuer)), { 'content-type': 'application/x-pem-file' }));
    expect(await s.cache.refresh()).toMatchObject({
      source: 'http',
      crlNumber: '1',
      lastRefresh: { ok: true },
    });
  });

  describe('failures keep the last good CRL and record the error', () => {
    async function withGoodCrl(more: Partial<CrlCacheOptions> = {}) {
      const srv = await startServer();
      const s = setup({ distributionPoint: srv.url, ...more });
      srv.handle(serveCrl(crlAt(s.issuer), { etag: '"v1"' }));
      await s.cache.refresh();
      const before = snapshot(s);
      expect(before.stored?.crlNumber).toBe(1n);
      const expectKept = () => {
        const after = snapshot(s);
        expect(after.stored).toEqual(before.stored);
        expect(after.rows).toEqual(before.rows);
      };
      return { srv, s, expectKept };
    }

    it('HTTP 500', async () => {
      const { srv, s, expectKept } = await withGoodCrl();
      srv.handle((_req, res) => res.writeHead(500).end('oops'));
      const status = await s.cache.refresh();
      expect(status).toMatchObject({
        state: 'fresh',
        crlNumber: '1',
        lastRefresh: { ok: false, error: { code: 'E_TRANSPORT', message: expect.stringContaining('500') } },
      });
      expectKept();
    });

    it('a server that never answers: E_TRANSPORT_TIMEOUT', async () => {
      const { srv, s, expectKept } = await withGoodCrl({ fetchTimeoutMs: 300 });
      srv.handle(() => {}); // hold the request open
      const status = await s.cache.refresh();
      expect(status.lastRefresh).toMatchObject({ ok: false, error: { code: 'E_TRANSPORT_TIMEOUT' } });
      expect(status.crlNumber).toBe('1');
      expectKept();
    });

    it('a server that stalls mid-body: E_TRANSPORT_TIMEOUT', async () => {
      const { srv, s, expectKept } = await withGoodCrl({ fetchTimeoutMs: 300 });
      srv.handle((_req, res) => {
        res.writeHead(200, { 'content-length': '100000' });
        res.write(Buffer.alloc(100, 0x30));
      });
      const status = await s.cache.refresh();
      expect(status.lastRefresh).toMatchObject({ ok: false, error: { code: 'E_TRANSPORT_TIMEOUT' } });
      expectKept();
    });

    it('garbage body: E_PKI_MALFORMED', async () => {
      const { srv, s, expectKept } = await withGoodCrl();
      srv.handle(serveCrl('this is not a CRL'));
      const status = await s.cache.refresh();
      expect(status.lastRefresh).toMatchObject({ ok: false, error: { code: 'E_PKI_MALFORMED' } });
      expectKept();
      srv.handle(serveCrl(Uint8Array.of(0x30, 0x82, 0xff)));
      expect((await s.cache.refresh()).lastRefresh).toMatchObject({ error: { code: 'E_PKI_MALFORMED' } });
      expectKept();
    });

    it('a CRL from another CA over HTTP: E_PKI_SIGNATURE', async () => {
      const { srv, s, expectKept } = await withGoodCrl();
      const other = makeIssuer('Other Issuer');
      other.nextCrlNumber = 5;
      srv.handle(serveCrl(crlAt(other)));
      expect((await s.cache.refresh()).lastRefresh).toMatchObject({ error: { code: 'E_PKI_SIGNATURE' } });
      expectKept();
    });

    it('a body over the size cap, declared or streamed', async () => {
      const { srv, s, expectKept } = await withGoodCrl({ maxCrlBytes: 4096 });
      srv.handle(serveCrl(new Uint8Array(5000).fill(0x30)));
      expect((await s.cache.refresh()).lastRefresh).toMatchObject({
        error: { code: 'E_TRANSPORT', message: expect.stringContaining('larger than 4096') },
      });
      srv.handle((_req, res) => {
        res.writeHead(200); // chunked, no content-length
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000, 0x30));
        res.end();
      });
      expect((await s.cache.refresh()).lastRefresh).toMatchObject({
        error: { code: 'E_TRANSPORT', message: expect.stringContaining('larger than 4096') },
      });
      expectKept();
    });

    it('connection refused: E_TRANSPORT', async () => {
      const { srv, s, expectKept } = await withGoodCrl();
      const url = srv.url;
      const closed = server!;
      server = undefined;
      closed.closeAllConnections();
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const status = await s.make({ distributionPoint: url }).refresh();
      expect(status.lastRefresh).toMatchObject({ ok: false, error: { code: 'E_TRANSPORT' } });
      expectKept();
    });
  });

  it('concurrent refreshes share one request', async () => {
    const srv = await startServer();
    const s = setup({ distributionPoint: srv.url });
    srv.handle(serveCrl(crlAt(s.issuer)));
    const [a, b] = await Promise.all([s.cache.refresh(), s.cache.refresh()]);
    expect(a).toEqual(b);
    expect(srv.seen).toHaveLength(1);
  });
});
