// An exclusive lock on something several programs could open at once (a simulated card file, a
// terminal's data folder), held for as long as the holder runs, so that there is never a silent
// second writer. The second program gets the holder's name, pid and start time to show.
//
// The lock is the kernel's: an SQLite file in WAL mode whose write lock the holder takes with BEGIN
// IMMEDIATE and keeps (a POSIX advisory lock on the -shm file). The kernel drops it when the holder
// closes it or dies, whatever the way (SIGKILL included), so there are no stale locks to detect, no
// pid that a new process may have reused, and no race between two programs breaking the same stale
// lock, which a lock file created with O_EXCL needs, and no lease that a paused holder (a debugger,
// a suspended laptop) can lose while it still writes, which mtime-refreshed locks such as
// proper-lockfile have. SQLite (better-sqlite3) is already the terminal's storage; in the same
// process a second connection is refused just the same. The holder row is committed before the lock
// is kept, so a refused program reads who holds it (WAL readers never wait for the writer).
import { hostname } from 'node:os';
import { basename } from 'node:path';
import Database from 'better-sqlite3';

export interface LockHolder {
  /** What the holder is, in a person's words: "the operator screen (browser host)". */
  program: string;
  pid: number;
  host: string;
  /** ISO 8601 UTC: when it took the lock. */
  since: string;
}

export interface HeldLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Idempotent. */
  release(): void;
}

/** Thrown when another program (or another part of this one) holds the lock. */
export class LockBusyError extends Error {
  constructor(
    readonly path: string,
    /** Undefined when the holder has not recorded itself yet (it is just starting). */
    readonly holder: LockHolder | undefined,
  ) {
    super(`${path} is locked by ${describeHolder(holder)}`);
    this.name = 'LockBusyError';
  }
}

let label: string | undefined;

/** Names this process in the locks it takes; each program's entry point sets it once. */
export function setProgramLabel(text: string): void {
  label = text;
}

/** This process's label, or its command line shortened ("node main.ts transfer"). */
export function programLabel(): string {
  return label ?? ['node', ...process.argv.slice(1, 3).map((a) => basename(a))].join(' ');
}

/** "the operator screen (browser host), pid 1234 on shop-pc since 2026-11-21T10:00:00.000Z" */
export function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'another program that is just starting';
  return `${holder.program}, pid ${holder.pid} on ${holder.host} since ${holder.since}`;
}

/** Takes the lock in `path` (created if missing) or throws LockBusyError naming its holder. */
export function acquireLock(path: string, program = programLabel()): HeldLock {
  const db = new Database(path, { timeout: 0 });
  let ours: LockHolder | undefined;
  try {
    db.pragma('busy_timeout = 0');
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
    db.exec(
      'CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), program TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL)',
    );
    const holder: LockHolder = {
      program,
      pid: process.pid,
      host: hostname(),
      since: new Date().toISOString(),
    };
    ours = holder;
    db.exec('BEGIN IMMEDIATE');
    db.prepare('INSERT OR REPLACE INTO holder (id, program, pid, host, since) VALUES (1, ?, ?, ?, ?)').run(
      holder.program,
      holder.pid,
      holder.host,
      holder.since,
    );
    db.exec('COMMIT');
    // Another program may take it between the commit and this: then this one is refused, never both.
    db.exec('BEGIN IMMEDIATE');
    let released = false;
    return {
      path,
      holder,
      release() {
        if (released) return;
        released = true;
        db.close(); // ends the transaction: the kernel lock goes with the connection
      },
    };
  } catch (e) {
    const busy = (e as { code?: unknown }).code === 'SQLITE_BUSY';
    const holder = busy ? readHolder(db, ours) : undefined;
    db.close();
    if (busy) throw new LockBusyError(path, holder);
    throw e;
  }
}

function readHolder(db: Database.Database, ours: LockHolder | undefined): LockHolder | undefined {
  try {
    if (db.inTransaction) db.exec('ROLLBACK');
    const row = db.prepare('SELECT program, pid, host, since FROM holder WHERE id = 1').get() as
      | LockHolder
      | undefined;
    // Our own row: the other program took the lock between our commit and our second begin, and
    // has not recorded itself yet.
    return row && ours && row.pid === ours.pid && row.since === ours.since ? undefined : row;
  } catch {
    return undefined;
  }
}
