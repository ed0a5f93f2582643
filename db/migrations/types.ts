import type Database from 'better-sqlite3';

/**
 * One schema step. `up` runs inside the runner's transaction and must not open its own.
 * A shipped migration is frozen: never edit it, add a new one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Database.Database): void;
}
