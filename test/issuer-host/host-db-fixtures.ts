// Host databases for tests, on both backends: a private PostgreSQL server (one per test file, started
// by the harness) and embedded PGlite. `fresh(backend)` gives an empty, migrated database: a new
// database on the server; on PGlite (whose start-up takes seconds) one in-memory instance per file
// whose schema is dropped and made again.
import { afterAll, beforeAll, expect } from 'vitest';
import { type HostDatabase, openHostDatabase } from '../../issuer-host/db/host-database.js';
import { migrateHostDatabase } from '../../issuer-host/db/migrate.js';
import { type ErrorCode, isTerminalError, type TerminalError } from '../../protocol/errors.js';
import { type PostgresHarness, startPostgres } from '../support/postgres-harness.js';

export type BackendName = HostDatabase['backend'];
export const BACKENDS: readonly BackendName[] = ['postgres', 'embedded'];

export interface HostDbFixture {
  /** The file's PostgreSQL server. */
  readonly postgres: PostgresHarness;
  /** An empty database, migrated unless `migrate: false`; closed after the file. */
  fresh(backend: BackendName, options?: { migrate?: boolean }): Promise<HostDatabase>;
  /** A second handle (its own pool) on the same server database as `db`. */
  reopen(db: HostDatabase, options?: { migrate?: boolean }): Promise<HostDatabase>;
}

/** Registers beforeAll/afterAll hooks; use the returned object inside tests. */
export function useHostDatabases(options: { embedded?: boolean; postgres?: boolean } = {}): HostDbFixture {
  let postgres: PostgresHarness | undefined;
  let embedded: HostDatabase | undefined;
  const opened: HostDatabase[] = [];
  const urls = new Map<HostDatabase, string>();

  beforeAll(async () => {
    [postgres, embedded] = await Promise.all([
      options.postgres === false ? undefined : startPostgres(),
      options.embedded === false ? undefined : openHostDatabase({ memory: true }, { migrate: false }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(opened.map((db) => db.close()));
    await embedded?.close();
    await postgres?.stop();
  });

  const open = async (url: string, migrate: boolean) => {
    const db = await openHostDatabase({ url }, { migrate });
    opened.push(db);
    urls.set(db, url);
    return db;
  };
  return {
    get postgres() {
      if (!postgres) throw new Error('the PostgreSQL server starts in beforeAll');
      return postgres;
    },
    fresh: async (backend, { migrate = true } = {}) => {
      if (backend === 'postgres') {
        if (!postgres) throw new Error('this file did not ask for a PostgreSQL server');
        return open(await postgres.createDatabase(), migrate);
      }
      if (!embedded) throw new Error('this file did not ask for the embedded backend');
      await embedded.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      if (migrate) await migrateHostDatabase(embedded);
      return { ...embedded, close: async () => {} }; // shared: closed after the file
    },
    reopen: async (db, { migrate = true } = {}) => {
      const url = urls.get(db);
      if (!url) throw new Error('reopen() needs a server database made by fresh("postgres")');
      return open(url, migrate);
    },
  };
}

/** The promise rejects with a TerminalError of this code. */
export async function expectRefusal(promise: Promise<unknown>, code: ErrorCode): Promise<TerminalError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTerminalError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  return error as TerminalError;
}
