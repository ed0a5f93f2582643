// The host database's migration runner on both backends: a fresh database, a second run, a database
// newer than the code or with another history or another application's tables (refused and left
// untouched), several instances migrating one database at once, and the embedded data folder.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type HostDatabase, openHostDatabase, type Sql } from '../../issuer-host/db/host-database.js';
import { hostSchemaVersion, MIGRATIONS_TABLE, migrateHostDatabase } from '../../issuer-host/db/migrate.js';
import { HOST_LATEST_VERSION, HOST_MIGRATIONS } from '../../issuer-host/db/migrations/index.js';
import { BACKENDS, expectRefusal, useHostDatabases } from './host-db-fixtures.js';

const dbs = useHostDatabases();

/** Tables, columns, triggers and the migration record: what a refused migration must not change. */
async function schemaOf(db: Sql): Promise<unknown> {
  const columns = await db.query(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
  );
  const triggers = await db.query(
    `SELECT event_object_table, trigger_name, event_manipulation FROM information_schema.triggers
      WHERE trigger_schema = current_schema() ORDER BY 1, 2, 3`,
  );
  const hasRecord = await db.query(`SELECT to_regclass('${MIGRATIONS_TABLE}') IS NOT NULL AS present`);
  const record = (hasRecord[0] as { present: boolean }).present
    ? await db.query(`SELECT version, name, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`)
    : [];
  return { columns, triggers, record };
}

describe.each(BACKENDS)('host migrations on %s', (backend) => {
  it('migrates a fresh database to the latest version and records each step', async () => {
    const db = await dbs.fresh(backend, { migrate: false });
    expect(await hostSchemaVersion(db)).toBe(0);
    const result = await migrateHostDatabase(db);
    expect(result).toEqual({
      from: 0,
      to: HOST_LATEST_VERSION,
      applied: HOST_MIGRATIONS.map((m) => m.version),
    });
    expect(await hostSchemaVersion(db)).toBe(HOST_LATEST_VERSION);
    const record = await db.query<{ version: number; name: string; applied_at: Date }>(
      `SELECT version, name, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`,
    );
    expect(record.map((r) => [r.version, r.name])).toEqual(HOST_MIGRATIONS.map((m) => [m.version, m.name]));
    expect(record[0]!.applied_at).toBeInstanceOf(Date);
  });

  it('does nothing when run again', async () => {
    const db = await dbs.fresh(backend);
    const before = await schemaOf(db);
    expect(await migrateHostDatabase(db)).toEqual({
      from: HOST_LATEST_VERSION,
      to: HOST_LATEST_VERSION,
      applied: [],
    });
    expect(await schemaOf(db)).toEqual(before);
  });

  it('refuses a database newer than this host and leaves it untouched', async () => {
    const db = await dbs.fresh(backend);
    await db.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, 'from-the-future')`, [
      HOST_LATEST_VERSION + 1,
    ]);
    const before = await schemaOf(db);
    const error = await expectRefusal(migrateHostDatabase(db), 'E_HOST_DB_TOO_NEW');
    expect(error.details).toEqual({ found: HOST_LATEST_VERSION + 1, supported: HOST_LATEST_VERSION });
    expect(error.message).toMatch(/newer than this host supports .* left untouched/);
    expect(await schemaOf(db)).toEqual(before);
  });

  it('refuses a database whose recorded steps are another history', async () => {
    const db = await dbs.fresh(backend, { migrate: false });
    await migrateHostDatabase(db, [
      { version: 1, name: 'something-else', sql: 'CREATE TABLE other (x int)' },
    ]);
    const before = await schemaOf(db);
    await expectRefusal(migrateHostDatabase(db), 'E_HOST_DB');
    expect(await schemaOf(db)).toEqual(before);
  });

  it('refuses a database that holds another application’s tables, and leaves it untouched', async () => {
    const db = await dbs.fresh(backend, { migrate: false });
    await db.exec('CREATE TABLE invoices (id int PRIMARY KEY)');
    const before = await schemaOf(db);
    const error = await expectRefusal(migrateHostDatabase(db), 'E_HOST_DB');
    expect(error.message).toContain('invoices');
    expect(await schemaOf(db)).toEqual(before);
  });

  it('rolls back every step of a run when one fails', async () => {
    const db = await dbs.fresh(backend, { migrate: false });
    const steps = [
      HOST_MIGRATIONS[0]!,
      { version: 2, name: 'broken', sql: 'CREATE TABLE fine (x int); SELECT no_such_function();' },
    ];
    await expectRefusal(migrateHostDatabase(db, steps), 'E_HOST_DB');
    expect(await schemaOf(db)).toEqual({ columns: [], triggers: [], record: [] });
  });

  it('refuses an out-of-order registry before touching the database', async () => {
    const db = await dbs.fresh(backend, { migrate: false });
    await expectRefusal(migrateHostDatabase(db, [{ ...HOST_MIGRATIONS[0]!, version: 2 }]), 'E_INTERNAL');
    expect(await schemaOf(db)).toEqual({ columns: [], triggers: [], record: [] });
  });
});

describe('host migrations on a shared PostgreSQL server', () => {
  it('lets several host instances migrate one database at once: one applies, the others wait', async () => {
    const first = await dbs.fresh('postgres', { migrate: false });
    const others = await Promise.all([1, 2, 3].map(() => dbs.reopen(first, { migrate: false })));
    const results = await Promise.all([first, ...others].map((db) => migrateHostDatabase(db)));
    expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
    expect(results.filter((r) => r.applied.length === 0)).toHaveLength(3);
    expect(await first.query(`SELECT version FROM ${MIGRATIONS_TABLE}`)).toHaveLength(HOST_MIGRATIONS.length);
  });

  it('opens a server database by URL, migrating it, and names the server without its password', async () => {
    const url = await dbs.postgres.createDatabase();
    const withPassword = url.replace('postgres@', 'postgres:secret@');
    const db = await openHostDatabase({ url: withPassword });
    try {
      expect(db.location).not.toContain('secret');
      expect(await hostSchemaVersion(db)).toBe(HOST_LATEST_VERSION);
    } finally {
      await db.close();
    }
  });

  it('reports an unreachable server as E_HOST_DB', async () => {
    await expectRefusal(openHostDatabase({ url: 'postgres://postgres@127.0.0.1:1/none' }), 'E_HOST_DB');
  });
});

describe('embedded host database in a data folder', () => {
  it('keeps its data across opens and refuses a second opener while in use', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'host-embedded-'));
    const dataDir = path.join(dir, 'pgdata');
    let db: HostDatabase | undefined;
    try {
      db = await openHostDatabase({ dataDir });
      await db.query(`INSERT INTO shops (shop_id, name, created_by) VALUES ('s1', 'Shop', 'cli')`);
      const error = await expectRefusal(openHostDatabase({ dataDir }), 'E_HOST_DB');
      expect(error.message).toMatch(/in use by process \d+/);
      await db.close();
      db = await openHostDatabase({ dataDir });
      expect(await db.query('SELECT shop_id FROM shops')).toEqual([{ shop_id: 's1' }]);
      expect(db.location).toBe(dataDir);
    } finally {
      await db?.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
