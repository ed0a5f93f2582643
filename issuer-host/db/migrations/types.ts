// One schema step of the host database: SQL that runs inside the runner's transaction (it must not
// open its own) and is the same on a PostgreSQL server and on embedded PGlite. A shipped migration
// is frozen: never edit it, add a new one.
export interface HostMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
