import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { migrate } from '../../db/migrate.js';
import { MIGRATIONS } from '../../db/migrations/index.js';
import { columns, rawOpen, tableNames, userVersion, useTempDir } from './helpers.js';

const tmp = useTempDir();
const ZEROS = '0'.repeat(64);

function text(name: string, pk = 0) {
  return { name, type: 'TEXT', notnull: 1, pk };
}
function integer(name: string, pk = 0, notnull = 1) {
  return { name, type: 'INTEGER', notnull, pk };
}

describe('migration 001: journal', () => {
  it('creates the journal, its head, triggers and the flow-state cache on a fresh database', () => {
    const raw = tmp.track(rawOpen(tmp.path()));
    expect(migrate(raw, MIGRATIONS.slice(0, 1))).toEqual({ from: 0, to: 1, applied: [1] });
    expect(userVersion(raw)).toBe(1);

    expect(tableNames(raw, 'table')).toEqual(['flow_state', 'journal', 'journal_head', 'schema_migrations']);
    expect(columns(raw, 'journal')).toEqual([
      integer('seq', 1, 0), // INTEGER PRIMARY KEY: the rowid, never NULL
      text('at'),
      text('flow_id'),
      text('flow_kind'),
      text('step'),
      text('payload'),
      text('prev_hash'),
      text('hash'),
    ]);
    expect(raw.prepare('SELECT id, seq, hash FROM journal_head').all()).toEqual([
      { id: 1, seq: 0, hash: ZEROS },
    ]);
    expect(raw.pragma('index_info(journal_flow_id)')).toEqual([expect.objectContaining({ name: 'flow_id' })]);
    expect(tableNames(raw, 'trigger')).toEqual([
      'journal_advance_head',
      'journal_extends_head',
      'journal_flow_state',
      'journal_head_advance_only',
      'journal_head_no_delete',
      'journal_no_delete',
      'journal_no_update',
    ]);
    expect(raw.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
      { version: 1, name: 'journal' },
    ]);
  });

  it('upgrades an existing version-0 file (created by plain SQLite, rollback journal) through openDatabase', () => {
    const path = tmp.path();
    const old = rawOpen(path);
    expect(userVersion(old)).toBe(0);
    old.close();

    const db = tmp.track(openDatabase(path));
    expect(userVersion(db.handle)).toBeGreaterThanOrEqual(1);
    expect(tableNames(db.handle, 'table')).toContain('journal_entry');
    expect(db.handle.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('refuses UPDATE and DELETE on journal, and any insert that does not extend the head', () => {
    const raw = tmp.track(rawOpen(tmp.path()));
    migrate(raw, MIGRATIONS.slice(0, 1));
    const insert = raw.prepare(
      "INSERT INTO journal VALUES (?, '2025-01-01T00:00:00.000Z', 'f1', 'admin', 'start', '{}', ?, ?)",
    );
    const h1 = 'a'.repeat(64);
    insert.run(1, ZEROS, h1);
    expect(raw.prepare('SELECT seq, hash FROM journal_head').get()).toEqual({ seq: 1, hash: h1 });

    expect(() => raw.exec('UPDATE journal SET payload = \'{"x":1}\'')).toThrow(/append-only: UPDATE refused/);
    expect(() => raw.exec('DELETE FROM journal')).toThrow(/append-only: DELETE refused/);
    expect(() => insert.run(1, ZEROS, h1)).toThrow(/must extend the head/); // same seq
    expect(() =>
      raw.exec(
        `INSERT OR REPLACE INTO journal VALUES (1, 'x', 'f1', 'admin', 'forged', '{}', '${ZEROS}', '${h1}')`,
      ),
    ).toThrow(/must extend the head/);
    expect(() => insert.run(3, h1, 'b'.repeat(64))).toThrow(/must extend the head/); // skips seq 2
    expect(() => insert.run(2, ZEROS, 'b'.repeat(64))).toThrow(/must extend the head/); // wrong prev_hash
    expect(() => raw.exec('DELETE FROM journal_head')).toThrow(/cannot be deleted/);
    expect(() => raw.exec(`UPDATE journal_head SET seq = 0, hash = '${ZEROS}'`)).toThrow(/only advances/);

    expect(raw.prepare('SELECT seq, step FROM journal').all()).toEqual([{ seq: 1, step: 'start' }]);
    expect(raw.prepare('SELECT seq, hash FROM journal_head').get()).toEqual({ seq: 1, hash: h1 });
  });
});
