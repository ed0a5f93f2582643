// Schema migration runner of the host database. Several host instances may start at once against
// one database: each runs this in one transaction that first takes a transaction-scoped advisory lock,
// so exactly one applies the pending steps and the others wait, then find nothing to do. A database
// whose recorded version is newer than this code, whose recorded steps have other names, or that
// holds other tables and no migration record, is refused; the transaction is rolled back, so such a
// database is left exactly as it was.
import { TerminalError } from '../../protocol/errors.js';
import type { HostDatabase, Sql } from './host-database.js';
import { HOST_MIGRATIONS, type HostMigration } from './migrations/index.js';

export const MIGRATIONS_TABLE = 'host_schema_migrations';
/** Key of the advisory lock the runner holds; the same for every host instance. */
const LOCK_KEY_SQL = "hashtextextended('issuer-host:migrations', 0)";

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly number[];
}

export async function migrateHostDatabase(
  db: Pick<HostDatabase, 'transaction'>,
  migrations: readonly HostMigration[] = HOST_MIGRATIONS,
): Promise<MigrationResult> {
  checkRegistry(migrations);
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY_SQL})`);
    if (!(await hasMigrationsTable(tx))) {
      await refuseForeignDatabase(tx);
      await tx.exec(`CREATE TABLE ${MIGRATIONS_TABLE} (
        version integer PRIMARY KEY CHECK (version > 0),
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    }
    const recorded = await tx.query<{ version: number; name: string }>(
      `SELECT version, name FROM ${MIGRATIONS_TABLE} ORDER BY version`,
    );
    const from = recorded.at(-1)?.version ?? 0;
    const latest = latestVersion(migrations);
    if (from > latest) {
      throw new TerminalError(
        'E_HOST_DB_TOO_NEW',
        `the host database is at schema version ${from}, newer than this host supports (${latest}); it is left untouched`,
        { found: from, supported: latest },
      );
    }
    for (const row of recorded) {
      const known = migrations[row.version - 1];
      if (known?.name !== row.name) {
        throw new TerminalError(
          'E_HOST_DB',
          `the host database records migration ${row.version} as "${row.name}", this host knows it as "${known?.name}": not this host's database history`,
          { version: row.version, recorded: row.name, expected: known?.name },
        );
      }
    }
    const pending = migrations.filter((m) => m.version > from);
    for (const step of pending) {
      await tx.exec(step.sql);
      await tx.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [
        step.version,
        step.name,
      ]);
    }
    return { from, to: pending.length > 0 ? latest : from, applied: pending.map((m) => m.version) };
  });
}

/** The version recorded in the database (0 when it has no migration record yet). */
export async function hostSchemaVersion(db: Sql): Promise<number> {
  if (!(await hasMigrationsTable(db))) return 0;
  const [row] = await db.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${MIGRATIONS_TABLE}`,
  );
  return row?.version ?? 0;
}

async function hasMigrationsTable(db: Sql): Promise<boolean> {
  const [row] = await db.query<{ present: boolean }>(
    `SELECT to_regclass('${MIGRATIONS_TABLE}') IS NOT NULL AS present`,
  );
  return row?.present === true;
}

/** A database with tables but no migration record belongs to something else: never write into it. */
async function refuseForeignDatabase(tx: Sql): Promise<void> {
  const tables = await tx.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() ORDER BY table_name LIMIT 5`,
  );
  if (tables.length > 0) {
    throw new TerminalError(
      'E_HOST_DB',
      `the database holds tables (${tables.map((t) => t.name).join(', ')}) but no issuer host migration record: not a host database; it is left untouched`,
      { tables: tables.map((t) => t.name) },
    );
  }
}

function latestVersion(migrations: readonly HostMigration[]): number {
  return migrations.at(-1)?.version ?? 0;
}

/** A malformed registry is a programming error, caught before anything touches the database. */
function checkRegistry(migrations: readonly HostMigration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new TerminalError(
        'E_INTERNAL',
        `host migration registry out of order: position ${i + 1} holds version ${m.version}`,
        { name: m.name },
      );
    }
  });
}
