// The one owner of the terminal's SQLite connection. Repositories (Journal, Flows, CrlStore) borrow
// `handle` from a TerminalDatabase; nothing else opens the file.

import Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';
import { assertNotTooNew, migrate, schemaVersion } from './migrate.js';
import { LATEST_VERSION } from './migrations/index.js';

export interface OpenOptions {
  // Read-only: no migrations; the schema must already be current.
  readonly readonly?: boolean;
}

const BUSY_TIMEOUT_MS = 5000;
// After a checkpoint, truncate the WAL back to this size (a bulk CRL import can grow it to ~100 MB).
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

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
    // Checked before any pragma that writes (journal_mode), so a too-new file is left untouched.
    assertNotTooNew(schemaVersion(handle));
    if (readonly) {
      configureReadOnly(handle);
    } else {
      configureReadWrite(handle);
      migrate(handle);
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
    throw new TerminalError('E_DB', `cannot open database ${path}: ${(e as Error).message}`, {
      path,
      sqliteCode: (e as { code?: unknown }).code,
    });
  }
}

function configureReadWrite(handle: Database.Database): void {
  const mode = handle.pragma('journal_mode = WAL', { simple: true });
  // An in-memory database reports 'memory' and cannot use WAL; any real file must.
  if (mode !== 'wal' && !handle.memory) {
    throw new TerminalError('E_DB', `database refused WAL journal mode (got ${String(mode)})`, { mode });
  }
  // FULL in WAL mode fsyncs the WAL on every commit: a returned commit survives power loss.
  handle.pragma('synchronous = FULL');
  // macOS fsync() does not flush the drive's cache; F_FULLFSYNC does. A no-op on other platforms.
  handle.pragma('fullfsync = ON');
  handle.pragma('checkpoint_fullfsync = ON');
  handle.pragma('foreign_keys = ON');
  handle.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
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
