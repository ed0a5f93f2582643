import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDatabase, TERMINAL_APPLICATION_ID } from '../../db/connection.js';
import { CrlStore } from '../../db/crl-store.js';
import { Journal } from '../../db/journal.js';
import { migrate } from '../../db/migrate.js';
import { LATEST_VERSION, MIGRATIONS } from '../../db/migrations/index.js';
import { rawOpen, stepClock, userVersion, useTempDir } from './helpers.js';

const tmp = useTempDir();

describe('openDatabase', () => {
  it('sets WAL, synchronous=FULL, foreign keys and a busy timeout', () => {
    const db = tmp.track(openDatabase(tmp.path()));
    expect(db.handle.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.handle.pragma('synchronous', { simple: true })).toBe(2); // 2 = FULL
    expect(db.handle.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.handle.pragma('fullfsync', { simple: true })).toBe(1);
    expect(db.handle.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(userVersion(db.handle)).toBe(LATEST_VERSION);
    // WAL is a property of the file: any other connection sees it too.
    const other = tmp.track(rawOpen(tmp.path()));
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('keeps committed data across close and reopen', () => {
    const path = tmp.path();
    const first = openDatabase(path);
    const journal = new Journal(first, { now: stepClock() });
    const records = [
      journal.append({
        flowId: 'tx-1',
        flowKind: 'value-transfer',
        step: 'debit-sent',
        payload: { amount: 500 },
      }),
      journal.append({
        flowId: 'tx-1',
        flowKind: 'value-transfer',
        step: 'completed',
        payload: { amount: 500 },
      }),
      journal.append({ flowId: 'tx-2', flowKind: 'key-update', step: 'started', payload: {} }),
    ];
    new CrlStore(first).storeCrl({
      issuerKeyId: '0A0B',
      crlNumber: 7,
      thisUpdate: '2025-01-01T00:00:00Z',
      nextUpdate: '2025-01-02T00:00:00Z',
      der: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]),
      source: 'file',
      revoked: [{ serialHex: '1234', revokedAt: '2024-12-01T10:00:00Z' }],
    });
    first.close();
    first.close(); // idempotent
    expect(existsSync(`${path}-wal`)).toBe(false); // checkpointed into the main file on last close

    const second = tmp.track(openDatabase(path));
    const reread = new Journal(second);
    // A read gives the entry back with its tag; the full hashes come only with append().
    expect(reread.page({ limit: 10 }).records.reverse()).toEqual(
      records.map(({ prevHash, hash, ...r }) => r),
    );
    expect(reread.verify()).toMatchObject({ ok: true, count: 3 });
    const crls = new CrlStore(second);
    expect(crls.currentCrl('0a0b')).toMatchObject({ crlNumber: 7n, source: 'file', revokedCount: 1 });
    expect(crls.isRevoked('0A0B', '1234')).toEqual({ revokedAt: '2024-12-01T10:00:00.000Z' });
  });

  it('opens read-only without writing, and refuses writes', () => {
    const path = tmp.path();
    const writer = openDatabase(path);
    new Journal(writer).append({ flowId: 'a', flowKind: 'admin', step: 'started', payload: {} });
    writer.close();

    const reader = tmp.track(openDatabase(path, { readonly: true }));
    const journal = new Journal(reader);
    expect(journal.verify()).toMatchObject({ ok: true, count: 1 });
    expect(() => journal.append({ flowId: 'b', flowKind: 'admin', step: 'started', payload: {} })).toThrow(
      expect.objectContaining({ code: 'E_DB' }),
    );
  });

  it('refuses read-only open of a missing file or of a schema that still needs migrating', () => {
    expect(() => openDatabase(tmp.path('missing.db'), { readonly: true })).toThrow(
      expect.objectContaining({ code: 'E_DB' }),
    );
    const path = tmp.path('old.db');
    const old = rawOpen(path);
    migrate(old, MIGRATIONS.slice(0, 1));
    old.close();
    expect(() => openDatabase(path, { readonly: true })).toThrow(expect.objectContaining({ code: 'E_DB' }));
  });

  it('reports a file that is not a database as E_DB', () => {
    const path = tmp.path('garbage.db');
    writeFileSync(path, 'this is not an SQLite database, just some text long enough to have a header');
    expect(() => openDatabase(path)).toThrow(expect.objectContaining({ code: 'E_DB' }));
  });

  it('marks the file as a terminal log and refuses another application’s database, untouched', () => {
    const path = tmp.path();
    openDatabase(path).close();
    const raw = tmp.track(rawOpen(path));
    expect(raw.pragma('application_id', { simple: true })).toBe(TERMINAL_APPLICATION_ID);

    // Another application's SQLite file: its own application ID and schema version.
    const authorityPath = tmp.path('other-app.db');
    const other = rawOpen(authorityPath);
    other.pragma('application_id = 1398033473');
    other.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY); PRAGMA user_version = 1;');
    other.close();
    const header = () => readFileSync(authorityPath).subarray(0, 100).toString('hex');
    const before = header();
    expect(() => openDatabase(authorityPath)).toThrow(
      expect.objectContaining({
        code: 'E_DB',
        message: expect.stringMatching(/not a terminal transaction log/),
      }),
    );
    expect(() => openDatabase(authorityPath, { readonly: true })).toThrow(
      expect.objectContaining({ code: 'E_DB' }),
    );
    expect(header()).toBe(before);
  });

  it('claims a log written before the application ID existed, keeping its entries', () => {
    const path = tmp.path();
    const old = openDatabase(path);
    new Journal(old, { now: stepClock() }).append({
      flowId: 'f',
      flowKind: 'admin',
      step: 'started',
      payload: {},
    });
    old.handle.pragma('application_id = 0');
    old.close();
    const db = tmp.track(openDatabase(path));
    expect(db.handle.pragma('application_id', { simple: true })).toBe(TERMINAL_APPLICATION_ID);
    expect(new Journal(db).verify()).toMatchObject({ ok: true, count: 1 });
  });

  it('accepts :memory: for quick unit tests', () => {
    const db = openDatabase(':memory:');
    const journal = new Journal(db);
    journal.append({ flowId: 'm', flowKind: 'admin', step: 'started', payload: {} });
    expect(journal.verify()).toMatchObject({ ok: true, count: 1 });
    db.close();
  });
});
