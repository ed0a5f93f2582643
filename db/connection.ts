// The one owner of the terminal's SQLite connection. Repositories (Journal, Flows, CrlStore) borrow
// `handle` from a TerminalDatabase; nothing else opens the file.

import Database from 'better-sqlite3';
import { errorMessage, TerminalError } from '../protocol/errors.js';
import { configureDurableWrites } from './durable-writes.js';
import { assertNotTooNew, migrate, schemaVersion } from './migrate.js';
import { LATEST_VERSION } from './migrations/index.js';

export interface OpenOptions {
  // Read-only: no migrations; the schema must already be current.
  readonly readonly?: boolean;
}

const BUSY_TIMEOUT_MS = 5000;
/** In the file header, so the terminal's log is never mistaken for another database ('STLT'). */
export const TERMINAL_APPLICATION_ID = 0x53544c54;

export interface TerminalDatabase {
  readonly handle: Database.Database;
  readonly path: string;
  // Idempotent. In WAL mode the last connection to close checkpoints and removes the -wal file.
  close(): void;
}

// What the repositories need: a borrowed handle. Tests may pass { handle } for a raw connection.
export type DatabaseOwner = Pick<TerminalDatabase, 'handle'>;

export function openDatabase(path: string, opts: OpenOptions = {}): TerminalDatabase {
  const readonly = opts.readonly === true;
  let handle: Database.Database | undefined;
  try {
    handle = new Database(path, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
    handle.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Checked before any pragma that writes (journal_mode), so a foreign or too-new file is left untouched.
    const version = schemaVersion(handle);
    const applicationId = handle.pragma('application_id', { simple: true }) as number;
    // 0: a new file, or a log written before the ID existed (it is claimed below).
    if (version > 0 && applicationId !== 0 && applicationId !== TERMINAL_APPLICATION_ID) {
      throw new TerminalError('E_DB', `${path} is not a terminal transaction log`, { path, applicationId });
    }
    assertNotTooNew(version);
    if (readonly) {
      configureReadOnly(handle);
    } else {
      configureDurableWrites(handle);
      migrate(handle);
      if (applicationId === 0) handle.pragma(`application_id = ${TERMINAL_APPLICATION_ID}`);
    }
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
    throw new TerminalError('E_DB', `cannot open database ${path}: ${errorMessage(e)}`, {
      path,
      sqliteCode: (e as { code?: unknown }).code,
    });
  }
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
