// One terminal state (its data folder: the transaction log, the CRL cache, the issuing identity; and
// through them the cards it holds) has at most one running terminal. startTerminalServices() takes
// this lock first; a second terminal, or a CLI command on the state of a running one, is refused
// with E_TERMINAL_IN_USE naming the running one. The lock is the kernel's (tooling/process-lock.ts):
// it goes when the holder stops, however it stops.
//
// Commands that only read the log (log, verify-log, in-doubt) need no lock: SQLite in WAL mode gives
// a reader a consistent snapshot while the running terminal writes, and a read-only connection
// cannot write. openLogReadOnly() is that connection.
import { join } from 'node:path';
import { openDatabase, type TerminalDatabase } from '../../db/connection.js';
import { Flows } from '../../db/flows.js';
import { Journal } from '../../db/journal.js';
import { errorMessage, TerminalError } from '../../protocol/errors.js';
import { acquireLock, describeHolder, type HeldLock, LockBusyError } from '../../tooling/process-lock.js';

export const TERMINAL_LOCK_FILE = 'terminal.lock';

/** The lock on `dataDir`, or E_TERMINAL_IN_USE naming the terminal that holds it. */
export function lockTerminalData(dataDir: string): HeldLock {
  try {
    return acquireLock(join(dataDir, TERMINAL_LOCK_FILE));
  } catch (e) {
    if (e instanceof LockBusyError) {
      throw new TerminalError(
        'E_TERMINAL_IN_USE',
        `the terminal's data in ${dataDir} is in use by ${describeHolder(e.holder)}: do this in that terminal, or stop it first`,
        { dataDir, holder: e.holder },
      );
    }
    throw new TerminalError('E_DB', `cannot lock the terminal's data in ${dataDir}: ${errorMessage(e)}`, {
      dataDir,
    });
  }
}

/** The terminal's log, read-only: safe beside a running terminal. */
export interface TerminalLogReader {
  db: TerminalDatabase;
  journal: Journal;
  flows: Flows;
  close(): void;
}

export function openLogReadOnly(dataDir: string): TerminalLogReader {
  const db = openDatabase(join(dataDir, 'terminal.db'), { readonly: true });
  return { db, journal: new Journal(db), flows: new Flows(db), close: () => db.close() };
}
