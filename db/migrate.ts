// Schema migration runner. The schema version lives in PRAGMA user_version (in the database header,
// so it changes inside the same transaction as the DDL); schema_migrations keeps a readable history.

import type Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

/** The schema version before and after migrate(), and the steps it applied. */
export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly number[];
}

/** The schema version recorded in the file (PRAGMA user_version; 0 for a new file). */
export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Refuses a database written by a newer terminal: its schema may hold data this version would
 * misread or, worse, write past.
 */
export function assertNotTooNew(found: number, migrations: readonly Migration[] = MIGRATIONS): void {
  const supported = latestVersion(migrations);
  if (found > supported) {
    throw new TerminalError(
      'E_DB_TOO_NEW',
      `database schema version ${found} is newer than this terminal supports (${supported})`,
      { found, supported },
    );
  }
}

/**
 * Applies every pending step in one IMMEDIATE transaction: either the database ends at the latest
 * version or it is left exactly as it was. The version is re-read under the write lock so two
 * processes opening the same file cannot both migrate.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => Date = () => new Date(),
): MigrationResult {
  checkRegistry(migrations);
  const run = db.transaction((): MigrationResult => {
    const from = schemaVersion(db);
    assertNotTooNew(from, migrations);
    const pending = migrations.filter((m) => m.version > from);
    if (pending.length === 0) return { from, to: from, applied: [] };

    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`);
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const appliedAt = now().toISOString();
    for (const step of pending) {
      step.up(db);
      record.run(step.version, step.name, appliedAt);
    }
    const to = latestVersion(migrations);
    db.pragma(`user_version = ${to}`);
    return { from, to, applied: pending.map((m) => m.version) };
  });
  return run.immediate();
}

function latestVersion(migrations: readonly Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}

/** A malformed registry is a programming error, caught before anything touches the file. */
function checkRegistry(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new TerminalError(
        'E_INTERNAL',
        `migration registry out of order: position ${i + 1} holds version ${m.version}`,
        {
          name: m.name,
        },
      );
    }
  });
}
