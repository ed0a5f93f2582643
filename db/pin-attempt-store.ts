// The wrong-PIN counters on disk (migration 007): one row per counter, written before a PIN is checked
// and after its answer (electron/services/operators/pin-attempts.ts decides what they hold).
import type Database from 'better-sqlite3';
import type { DatabaseOwner } from './connection.js';

export interface PinCount {
  /** Tries counted since the last right PIN or lockout, the one being checked included. */
  wrong: number;
  /** Unix ms until which every PIN is refused (0: none). */
  lockedUntil: number;
}

export interface PinCountStore {
  load(): PinCount;
  save(count: PinCount): void;
}

export class PinAttemptStore {
  private readonly db: Database.Database;

  constructor(owner: DatabaseOwner) {
    this.db = owner.handle;
  }

  /** The store of one counter ("operator"); a counter never written reads as no tries, no lockout. */
  counter(name: string): PinCountStore {
    const read = this.db.prepare('SELECT wrong, locked_until FROM pin_attempts WHERE counter = ?');
    const write = this.db.prepare(
      `INSERT INTO pin_attempts (counter, wrong, locked_until) VALUES (?, ?, ?)
         ON CONFLICT (counter) DO UPDATE SET wrong = excluded.wrong, locked_until = excluded.locked_until`,
    );
    return {
      load() {
        const row = read.get(name) as { wrong: number; locked_until: number } | undefined;
        return row ? { wrong: row.wrong, lockedUntil: row.locked_until } : { wrong: 0, lockedUntil: 0 };
      },
      save(count) {
        write.run(name, count.wrong, count.lockedUntil);
      },
    };
  }
}
