// The one owner of the command-generating authority's SQLite connection (its own file, not the
// terminal's): same durability settings as db/connection.ts, its own migration registry, and an
// application ID in the header so neither party's file is mistaken for the other's.
import Database from 'better-sqlite3';
import { configureDurableWrites } from '../../../db/durable-writes.js';
import { assertNotTooNew, migrate, schemaVersion } from '../../../db/migrate.js';
import { errorMessage, TerminalError } from '../../../protocol/errors.js';
import { AUTHORITY_APPLICATION_ID, AUTHORITY_MIGRATIONS } from './migrations/index.js';

const BUSY_TIMEOUT_MS = 5000;

export interface AuthorityDatabase {
  readonly handle: Database.Database;
  readonly path: string;
  /** Idempotent. */
  close(): void;
}

export function openAuthorityDatabase(path: string): AuthorityDatabase {
  let handle: Database.Database | undefined;
  try {
    handle = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    handle.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Both checks come before any pragma that writes, so a foreign or too-new file is left untouched.
    const version = schemaVersion(handle);
    const applicationId = handle.pragma('application_id', { simple: true }) as number;
    if (version > 0 && applicationId !== AUTHORITY_APPLICATION_ID) {
      throw new TerminalError('E_DB', `${path} is not a command authority database`, {
        path,
        applicationId,
      });
    }
    assertNotTooNew(version, AUTHORITY_MIGRATIONS);
    configureDurableWrites(handle);
    migrate(handle, AUTHORITY_MIGRATIONS);
    const owned = handle;
    return {
      handle: owned,
      path,
      close: () => {
        if (owned.open) owned.close();
      },
    };
  } catch (e) {
    handle?.close();
    if (e instanceof TerminalError) throw e;
    throw new TerminalError('E_DB', `cannot open authority database ${path}: ${errorMessage(e)}`, {
      path,
      sqliteCode: (e as { code?: unknown }).code,
    });
  }
}
