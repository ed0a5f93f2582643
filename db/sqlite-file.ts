// Opening one of the project's SQLite files, the same way for each of them: a busy timeout, then
// the checks that leave a foreign or too-new file untouched (its schema version and the application
// ID in its header are read before any pragma that writes), then the file's own set-up (durability,
// migrations). Every failure is a TerminalError: E_DB, or E_DB_TOO_NEW for a newer schema.
import Database from 'better-sqlite3';
import { errorMessage, isTerminalError, TerminalError } from '../protocol/errors.js';
import { assertNotTooNew, schemaVersion } from './migrate.js';
import type { Migration } from './migrations/types.js';

const BUSY_TIMEOUT_MS = 5000;

/** An open SQLite file and the one owner of its connection. */
export interface SqliteFile {
  readonly handle: Database.Database;
  readonly path: string;
  /** Idempotent. In WAL mode the last connection to close checkpoints and removes the -wal file. */
  close(): void;
}

export interface SqliteFileSpec {
  /** What the file is, in "cannot open <what> <path>". */
  what: string;
  /** Whether a file with this application ID (and schema version) is this kind of file. */
  recognises(applicationId: number, version: number): boolean;
  /** In "<path> <notThis>" when it is not. */
  notThis: string;
  /** The file's migration registry: a newer schema than its latest is refused. */
  migrations: readonly Migration[];
  readonly?: boolean;
  /** After the checks: durability settings, migrations, claiming the header. */
  setUp(handle: Database.Database, applicationId: number): void;
}

export function openSqliteFile(path: string, spec: SqliteFileSpec): SqliteFile {
  const readonly = spec.readonly === true;
  let handle: Database.Database | undefined;
  try {
    handle = new Database(path, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
    handle.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const version = schemaVersion(handle);
    const applicationId = handle.pragma('application_id', { simple: true }) as number;
    if (!spec.recognises(applicationId, version)) {
      throw new TerminalError('E_DB', `${path} ${spec.notThis}`, { path, applicationId });
    }
    assertNotTooNew(version, spec.migrations);
    spec.setUp(handle, applicationId);
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
    if (isTerminalError(e)) throw e;
    throw new TerminalError('E_DB', `cannot open ${spec.what} ${path}: ${errorMessage(e)}`, {
      path,
      sqliteCode: (e as { code?: unknown }).code,
    });
  }
}
