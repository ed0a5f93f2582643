// The one owner of the command-generating authority's SQLite connection (its own file, not the
// terminal's): same durability settings as db/connection.ts, its own migration registry, and an
// application ID in the header so neither party's file is mistaken for the other's.
import { configureDurableWrites } from '../../../db/durable-writes.js';
import { migrate } from '../../../db/migrate.js';
import { openSqliteFile, type SqliteFile } from '../../../db/sqlite-file.js';
import { AUTHORITY_APPLICATION_ID, AUTHORITY_MIGRATIONS } from './migrations/index.js';

/** The authority's database, opened: the one owner of its connection. */
export type AuthorityDatabase = SqliteFile;

/**
 * Opens (creating and migrating) an authority database. The terminal's log, any other application's
 * file, or one written by a newer authority is refused (E_DB, E_DB_TOO_NEW) and left untouched.
 */
export function openAuthorityDatabase(path: string): AuthorityDatabase {
  return openSqliteFile(path, {
    what: 'authority database',
    recognises: (applicationId, version) => version === 0 || applicationId === AUTHORITY_APPLICATION_ID,
    notThis: 'is not a command authority database',
    migrations: AUTHORITY_MIGRATIONS,
    setUp(handle) {
      configureDurableWrites(handle);
      migrate(handle, AUTHORITY_MIGRATIONS);
    },
  });
}
