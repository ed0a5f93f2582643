import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { CrlStore } from '../../db/crl-store.js';
import { Journal } from '../../db/journal.js';
import { migrate } from '../../db/migrate.js';
import { LATEST_VERSION, MIGRATIONS } from '../../db/migrations/index.js';
import { columns, rawOpen, tableNames, userVersion, useTempDir } from './helpers.js';
import { appendLegacy } from './legacy-rows.js';

const tmp = useTempDir();

describe('migration 002: CRL cache', () => {
  it('creates the CRL and revoked-serial tables on a fresh database', () => {
    const raw = tmp.track(rawOpen(tmp.path()));
    raw.pragma('foreign_keys = ON');
    migrate(raw, MIGRATIONS.slice(0, 2));
    expect(userVersion(raw)).toBe(2);
    expect(tableNames(raw, 'table')).toEqual(expect.arrayContaining(['crl', 'crl_revoked']));
    expect(columns(raw, 'crl').map((c) => `${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}`)).toEqual([
      'id INTEGER',
      'issuer_key_id TEXT NOT NULL',
      'crl_number INTEGER NOT NULL',
      'this_update TEXT NOT NULL',
      'next_update TEXT NOT NULL',
      'der BLOB NOT NULL',
      'imported_at TEXT NOT NULL',
      'etag TEXT',
      'last_modified TEXT',
      'source TEXT NOT NULL',
      'revoked_count INTEGER NOT NULL',
    ]);
    expect(columns(raw, 'crl_revoked')).toEqual([
      { name: 'crl_id', type: 'INTEGER', notnull: 1, pk: 1 },
      { name: 'serial_hex', type: 'TEXT', notnull: 1, pk: 2 },
      { name: 'revoked_at', type: 'TEXT', notnull: 1, pk: 0 },
    ]);
    expect(raw.pragma('index_list(crl)')).toEqual([
      expect.objectContaining({ name: 'crl_issuer', unique: 1 }),
    ]);
    expect(raw.pragma('foreign_key_list(crl_revoked)')).toEqual([
      expect.objectContaining({ table: 'crl', from: 'crl_id', to: 'id', on_delete: 'CASCADE' }),
    ]);
  });

  it('upgrades a version-1 database that already holds journal entries, keeping them intact', () => {
    const path = tmp.path();
    const v1 = rawOpen(path);
    migrate(v1, MIGRATIONS.slice(0, 1), () => new Date('2024-06-01T00:00:00Z'));
    appendLegacy(v1, [
      {
        flowId: 'flow-1',
        flowKind: 'value-transfer',
        step: 'started',
        payload: { amount: 100 },
        at: '2024-06-01T10:00:00.000Z',
      },
      {
        flowId: 'flow-1',
        flowKind: 'value-transfer',
        step: 'completed',
        payload: {},
        at: '2024-06-01T10:00:01.000Z',
      },
    ]);
    v1.close();

    const db = tmp.track(openDatabase(path));
    expect(userVersion(db.handle)).toBe(LATEST_VERSION); // 002, 003, 004 (the compact journal), 005
    expect(
      db.handle.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all(),
    ).toEqual([
      { version: 1, name: 'journal', applied_at: '2024-06-01T00:00:00.000Z' },
      { version: 2, name: 'crl-cache', applied_at: expect.not.stringMatching(/^2024-06-01/) },
      { version: 3, name: 'flow-closed-index', applied_at: expect.not.stringMatching(/^2024-06-01/) },
      { version: 4, name: 'compact-journal', applied_at: expect.not.stringMatching(/^2024-06-01/) },
      { version: 5, name: 'search-indexes', applied_at: expect.not.stringMatching(/^2024-06-01/) },
      { version: 6, name: 'upload-outbox', applied_at: expect.not.stringMatching(/^2024-06-01/) },
      { version: 7, name: 'pin-attempts', applied_at: expect.not.stringMatching(/^2024-06-01/) },
    ]);
    const upgraded = new Journal(db);
    // The two entries and the anchor of the old chain.
    expect(upgraded.verify()).toMatchObject({ ok: true, count: 3 });
    expect(upgraded.entriesForFlow('flow-1').map((r) => [r.step, r.payload, r.at])).toEqual([
      ['started', { amount: 100 }, '2024-06-01T10:00:00.000Z'],
      ['completed', {}, '2024-06-01T10:00:01.000Z'],
    ]);

    const crls = new CrlStore(db);
    crls.storeCrl({
      issuerKeyId: 'AA01',
      crlNumber: 1n,
      thisUpdate: '2025-01-01T00:00:00Z',
      nextUpdate: '2025-01-08T00:00:00Z',
      der: new Uint8Array([0x30, 0x00]),
      source: 'test',
      revoked: [{ serialHex: '01', revokedAt: '2024-12-31T00:00:00Z' }],
    });
    expect(crls.isRevoked('AA01', '01')).toEqual({ revokedAt: '2024-12-31T00:00:00.000Z' });
  });
});
