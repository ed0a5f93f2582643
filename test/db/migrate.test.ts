import { existsSync, readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { migrate } from '../../db/migrate.js';
import { LATEST_VERSION, MIGRATIONS, type Migration } from '../../db/migrations/index.js';
import { isTerminalError } from '../../protocol/errors.js';
import { rawOpen, tableNames, userVersion, useTempDir } from './helpers.js';

const tmp = useTempDir();

function fileDigest(path: string): string {
  return bytesToHex(sha256(readFileSync(path)));
}

describe('migration runner', () => {
  it('has a registry numbered 1..n', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
  });

  it('brings a fresh file to the latest version and records every step', () => {
    const db = tmp.track(openDatabase(tmp.path()));
    expect(userVersion(db.handle)).toBe(LATEST_VERSION);
    const rows = db.handle
      .prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
      .all();
    expect(rows).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: expect.stringMatching(/Z$/) })),
    );
  });

  it('does nothing on a database that is already current', () => {
    openDatabase(tmp.path()).close();
    const raw = tmp.track(rawOpen(tmp.path()));
    expect(migrate(raw)).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION, applied: [] });
    expect(raw.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(MIGRATIONS.length);
  });

  it('refuses a database newer than the app and leaves the file byte-for-byte unchanged', () => {
    const path = tmp.path();
    const newer = rawOpen(path);
    newer.exec('CREATE TABLE from_the_future (x INTEGER)');
    newer.pragma(`user_version = ${LATEST_VERSION + 1}`);
    newer.close();
    const before = fileDigest(path);

    for (const readonly of [false, true]) {
      let error: unknown;
      try {
        openDatabase(path, { readonly });
      } catch (e) {
        error = e;
      }
      expect(isTerminalError(error, 'E_DB_TOO_NEW')).toBe(true);
      expect((error as { details: unknown }).details).toEqual({
        found: LATEST_VERSION + 1,
        supported: LATEST_VERSION,
      });
    }

    expect(fileDigest(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
    const raw = tmp.track(rawOpen(path));
    expect(raw.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(userVersion(raw)).toBe(LATEST_VERSION + 1);
    expect(tableNames(raw, 'table')).toEqual(['from_the_future']);
    expect(() => migrate(raw)).toThrow(expect.objectContaining({ code: 'E_DB_TOO_NEW' }));
    expect(tableNames(raw, 'table')).toEqual(['from_the_future']);
  });

  it('applies all pending steps in one transaction: a failing step leaves nothing behind', () => {
    const broken: Migration = {
      version: LATEST_VERSION + 1,
      name: 'broken',
      up(db) {
        db.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('step failed');
      },
    };
    const raw = tmp.track(rawOpen(tmp.path()));
    expect(() => migrate(raw, [...MIGRATIONS, broken])).toThrow('step failed');
    expect(userVersion(raw)).toBe(0);
    expect(tableNames(raw, 'table')).toEqual([]);
    expect(tableNames(raw, 'trigger')).toEqual([]);
  });

  it('refuses a registry with a gap before touching the database', () => {
    const raw = tmp.track(rawOpen(tmp.path()));
    const gappy = [MIGRATIONS[0]!, { ...MIGRATIONS[1]!, version: 3 }];
    expect(() => migrate(raw, gappy)).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
    expect(userVersion(raw)).toBe(0);
    expect(tableNames(raw, 'table')).toEqual([]);
  });
});
