import type Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';

// After a checkpoint, truncate the WAL back to this size (a bulk CRL import can grow it to ~100 MB).
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The durability settings of every database where money or authorizations are written (the
 * terminal's log, the command authority's registry): WAL, and every commit fsynced before it returns.
 */
export function configureDurableWrites(handle: Database.Database): void {
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
