// The one owner of the terminal's SQLite connection. Repositories (Journal, Flows, CrlStore) borrow
// `handle` from a TerminalDatabase; nothing else opens the file.

import type Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';
import { configureDurableWrites } from './durable-writes.js';
import { migrate, schemaVersion } from './migrate.js';
import { LATEST_VERSION, MIGRATIONS } from './migrations/index.js';
import { openSqliteFile, type SqliteFile } from './sqlite-file.js';

export interface OpenOptions {
  /** Read-only: no migrations; the schema must already be current. */
  readonly readonly?: boolean;
}

/** In the file header, so the terminal's log is never mistaken for another database ('STLT'). */
export const TERMINAL_APPLICATION_ID = 0x53544c54;

/** The terminal's transaction log, opened: the one owner of its connection. */
export type TerminalDatabase = SqliteFile;

/** What the repositories need: a borrowed handle. Tests may pass { handle } for a raw connection. */
export type DatabaseOwner = Pick<TerminalDatabase, 'handle'>;

/**
 * Opens (creating and migrating, unless read-only) the terminal's transaction log. A file of another
 * application, or written by a newer terminal, is refused (E_DB, E_DB_TOO_NEW) and left untouched.
 */
export function openDatabase(path: string, opts: OpenOptions = {}): TerminalDatabase {
  const readonly = opts.readonly === true;
  return openSqliteFile(path, {
    what: 'database',
    // 0: a new file, or a log written before the ID existed (it is claimed below).
    recognises: (applicationId, version) =>
      version === 0 || applicationId === 0 || applicationId === TERMINAL_APPLICATION_ID,
    notThis: 'is not a terminal transaction log',
    migrations: MIGRATIONS,
    readonly,
    setUp(handle, applicationId) {
      if (readonly) {
        configureReadOnly(handle);
        return;
      }
      configureDurableWrites(handle);
      migrate(handle);
      if (applicationId === 0) handle.pragma(`application_id = ${TERMINAL_APPLICATION_ID}`);
    },
  });
}

function configureReadOnly(handle: Database.Database): void {
  handle.pragma('foreign_keys = ON');
  const version = schemaVersion(handle);
  if (version < LATEST_VERSION) {
    throw new TerminalError(
      'E_DB',
      `database schema version ${version} is older than ${LATEST_VERSION}; open it read-write once to migrate`,
      { found: version, supported: LATEST_VERSION },
    );
  }
}
