import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { type CrlInput, CrlStore, normaliseSerial } from '../../db/crl-store.js';
import { stepClock, useTempDir } from './helpers.js';

const tmp = useTempDir();

function setup() {
  const db = tmp.track(openDatabase(tmp.path()));
  return { db, store: new CrlStore(db, { now: stepClock() }) };
}

function crl(overrides: Partial<CrlInput> = {}): CrlInput {
  return {
    issuerKeyId: 'c0ffee01',
    crlNumber: 10n,
    thisUpdate: '2025-01-01T00:00:00Z',
    nextUpdate: new Date('2025-01-08T00:00:00Z'),
    der: new Uint8Array([0x30, 0x82, 0x01, 0x0a]),
    etag: '"v10"',
    lastModified: 'Wed, 01 Jan 2025 00:00:00 GMT',
    source: 'https://ca.example/terminal.crl',
    revoked: [
      { serialHex: '00A1', revokedAt: '2024-12-01T09:30:00+09:00' },
      { serialHex: '1f2e3d', revokedAt: new Date('2024-12-02T00:00:00Z') },
    ],
    ...overrides,
  };
}

function revokedRows(db: ReturnType<typeof setup>['db']): number {
  return db.handle.prepare('SELECT count(*) FROM crl_revoked').pluck().get() as number;
}

describe('CrlStore', () => {
  it('stores a CRL and reads it back normalised', () => {
    const { store } = setup();
    const stored = store.storeCrl(crl());
    expect(stored).toEqual({
      issuerKeyId: 'C0FFEE01',
      crlNumber: 10n,
      thisUpdate: '2025-01-01T00:00:00.000Z',
      nextUpdate: '2025-01-08T00:00:00.000Z',
      der: new Uint8Array([0x30, 0x82, 0x01, 0x0a]),
      importedAt: '2025-01-01T00:00:00.000Z',
      etag: '"v10"',
      lastModified: 'Wed, 01 Jan 2025 00:00:00 GMT',
      source: 'https://ca.example/terminal.crl',
      revokedCount: 2,
    });
    expect(store.currentCrl('C0FFEE01')).toEqual(stored);
    expect(store.currentCrl('0000')).toBeUndefined();
  });

  it('answers revocation lookups by issuer and serial, comparing serials as integers', () => {
    const { store } = setup();
    store.storeCrl(crl());
    expect(store.isRevoked('C0FFEE01', 'A1')).toEqual({ revokedAt: '2024-12-01T00:30:00.000Z' });
    expect(store.isRevoked('c0ffee01', '0000a1')).toEqual({ revokedAt: '2024-12-01T00:30:00.000Z' });
    expect(store.isRevoked('C0FFEE01', '1F2E3D')).toEqual({ revokedAt: '2024-12-02T00:00:00.000Z' });
    expect(store.isRevoked('C0FFEE01', 'A2')).toBeUndefined();
    expect(store.isRevoked('DEADBEEF', 'A1')).toBeUndefined();
    expect(normaliseSerial('abc')).toBe('0ABC');
    expect(normaliseSerial('0000')).toBe('00');
  });

  it('replaces the previous CRL of the same issuer, serials included, and leaves other issuers alone', () => {
    const { db, store } = setup();
    store.storeCrl(crl());
    store.storeCrl(
      crl({ issuerKeyId: 'BB', revoked: [{ serialHex: 'A1', revokedAt: '2024-01-01T00:00:00Z' }] }),
    );
    store.storeCrl(
      crl({
        crlNumber: 11,
        etag: undefined,
        revoked: [{ serialHex: '77', revokedAt: '2025-01-02T00:00:00Z' }],
      }),
    );

    expect(store.currentCrl('C0FFEE01')).toMatchObject({ crlNumber: 11n, etag: undefined, revokedCount: 1 });
    expect(store.isRevoked('C0FFEE01', 'A1')).toBeUndefined();
    expect(store.isRevoked('C0FFEE01', '77')).toBeDefined();
    expect(store.isRevoked('BB', 'A1')).toEqual({ revokedAt: '2024-01-01T00:00:00.000Z' });
    expect(db.handle.prepare('SELECT count(*) FROM crl').pluck().get()).toBe(2);
    expect(revokedRows(db)).toBe(2);
  });

  it('refuses an older CRL number with E_INPUT_INVALID and changes nothing', () => {
    const { db, store } = setup();
    const current = store.storeCrl(crl({ crlNumber: 10n }));
    expect(() => store.storeCrl(crl({ crlNumber: 9n, revoked: [] }))).toThrow(
      expect.objectContaining({ code: 'E_INPUT_INVALID' }),
    );
    expect(store.currentCrl('C0FFEE01')).toEqual(current);
    expect(revokedRows(db)).toBe(2);
  });

  it('treats the same CRL number with the same DER as a refresh, and with different DER as invalid', () => {
    const { store } = setup();
    store.storeCrl(crl());
    const refreshed = store.storeCrl(crl({ etag: '"v10b"', source: 'usb', revoked: [] }));
    expect(refreshed).toMatchObject({ etag: '"v10b"', source: 'usb', revokedCount: 2 });
    expect(refreshed.importedAt).toBe('2025-01-01T00:00:01.000Z');
    expect(store.isRevoked('C0FFEE01', 'A1')).toBeDefined();
    expect(() => store.storeCrl(crl({ der: new Uint8Array([0x30, 0x00]) }))).toThrow(
      expect.objectContaining({ code: 'E_INPUT_INVALID' }),
    );
  });

  it('keeps the earliest date for a serial listed twice', () => {
    const { store } = setup();
    const stored = store.storeCrl(
      crl({
        revoked: [
          { serialHex: '05', revokedAt: '2024-05-05T00:00:00Z' },
          { serialHex: '0005', revokedAt: '2024-03-03T00:00:00Z' },
        ],
      }),
    );
    expect(stored.revokedCount).toBe(1);
    expect(store.isRevoked('C0FFEE01', '5')).toEqual({ revokedAt: '2024-03-03T00:00:00.000Z' });
  });

  it('refuses malformed input with E_INPUT_INVALID before writing anything', () => {
    const { db, store } = setup();
    const bad: Partial<CrlInput>[] = [
      { issuerKeyId: 'xyz' },
      { issuerKeyId: 'ABC' },
      { crlNumber: -1 },
      { crlNumber: 1n << 63n },
      { crlNumber: 1.5 },
      { thisUpdate: '2025-01-01' },
      { thisUpdate: 'yesterday' },
      { nextUpdate: '2024-12-31T00:00:00Z' },
      { der: new Uint8Array(0) },
      { source: '' },
      { revoked: [{ serialHex: 'G1', revokedAt: '2024-01-01T00:00:00Z' }] },
      { revoked: [{ serialHex: 'A1', revokedAt: 'not a date' }] },
    ];
    for (const overrides of bad) {
      expect(() => store.storeCrl(crl(overrides))).toThrow(
        expect.objectContaining({ code: 'E_INPUT_INVALID' }),
      );
    }
    expect(() => store.isRevoked('C0FFEE01', 'not hex')).toThrow(
      expect.objectContaining({ code: 'E_INPUT_INVALID' }),
    );
    expect(db.handle.prepare('SELECT count(*) FROM crl').pluck().get()).toBe(0);
  });

  it('bulk-stores many serials in one transaction, across insert-batch edges', () => {
    const { db, store } = setup();
    const revoked = Array.from({ length: 20_000 }, (_, i) => ({
      // Scattered, 16-byte serials like a real CA's random ones.
      serialHex: (BigInt(i) * 0x9e3779b97f4a7c15f39cc0605cedc835n).toString(16).padStart(32, '0').slice(-32),
      // Date objects, as the DER parser produces them.
      revokedAt: new Date(Date.UTC(2020, 0, 1) + i * 60_000),
    }));
    const stored = store.storeCrl(crl({ revoked }));

    expect(stored.revokedCount).toBe(20_000);
    expect(revokedRows(db)).toBe(20_000);
    for (const i of [0, 255, 256, 19_967, 19_968, 19_999]) {
      expect(store.isRevoked('C0FFEE01', revoked[i]!.serialHex)).toBeDefined(); // batch edges and remainder
    }
    expect(store.isRevoked('C0FFEE01', revoked[12_345]!.serialHex)).toEqual({
      revokedAt: revoked[12_345]!.revokedAt.toISOString(),
    });
    expect(store.isRevoked('C0FFEE01', 'FFFF')).toBeUndefined();
    store.storeCrl(crl({ crlNumber: 11n, revoked: [] }));
    expect(revokedRows(db)).toBe(0);
  });
});
