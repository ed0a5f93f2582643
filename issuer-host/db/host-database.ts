// The one owner of the issuer host's database connection. Two backends run the same SQL:
// - a PostgreSQL server through node-postgres (`pg`), a pool of connections, when an address is
//   configured: several host instances then share one database;
// - embedded PostgreSQL (`@electric-sql/pglite`, PostgreSQL compiled to WebAssembly) in a data folder
//   or in memory, the zero-set-up default: one host process only (a lock file says so).
// Repositories (terminals, tokens, CRLs, audit log) borrow a HostDatabase; nothing else connects.
//
// Both backends hand rows back with the same JavaScript types: int8 → bigint, numeric → string
// (exact), bytea → Uint8Array, timestamptz → Date, json/jsonb → parsed. Every driver error becomes a
// TerminalError E_HOST_DB carrying the SQLSTATE in details.sqlstate (repositories map the ones they
// expect, e.g. a unique violation, to their own codes).
import { isTerminalError, TerminalError } from '../../protocol/errors.js';
import { openEmbeddedBackend } from './embedded-backend.js';
import { migrateHostDatabase } from './migrate.js';
import { openPostgresBackend } from './postgres-backend.js';

export type Row = Record<string, unknown>;

/** What a repository needs: parametrized queries ($1, $2, …) and multi-statement scripts. */
export interface Sql {
  query<R extends object = Row>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements, without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface HostDatabase extends Sql {
  readonly backend: 'postgres' | 'embedded';
  /** Where the data is: the server address without password, or the embedded data folder. */
  readonly location: string;
  /**
   * Runs `fn` in one READ COMMITTED transaction on one connection: committed when it resolves,
   * rolled back when it throws (the error is rethrown).
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Raw backend, before error mapping. */
export interface Backend {
  readonly backend: HostDatabase['backend'];
  readonly location: string;
  query(text: string, params: readonly unknown[]): Promise<Row[]>;
  exec(script: string): Promise<void>;
  transaction<T>(fn: (tx: Omit<Backend, 'transaction' | 'close'>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type DatabaseTarget =
  /** A PostgreSQL server: `postgres://user@host:port/database` (password from PGPASSWORD or the URL). */
  | { url: string; poolSize?: number; statementTimeoutMs?: number }
  /** Embedded PostgreSQL persisted in this folder (created if missing). */
  | { dataDir: string }
  /** Embedded PostgreSQL in memory (tests, throw-away demos). */
  | { memory: true };

export interface OpenHostDatabaseOptions {
  /** Apply pending migrations on open (default true); false leaves the schema as found. */
  migrate?: boolean;
}

export async function openHostDatabase(
  target: DatabaseTarget,
  options: OpenHostDatabaseOptions = {},
): Promise<HostDatabase> {
  let backend: Backend;
  try {
    backend = 'url' in target ? await openPostgresBackend(target) : await openEmbeddedBackend(target);
  } catch (e) {
    throw asHostDbError(e, 'cannot open the host database');
  }
  const db = wrap(backend);
  if (options.migrate ?? true) {
    try {
      await migrateHostDatabase(db);
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  return db;
}

function wrap(backend: Backend): HostDatabase {
  let closed = false;
  const sql = (inner: Omit<Backend, 'transaction' | 'close'>): Sql => ({
    query: async <R extends object>(text: string, params: readonly unknown[] = []) => {
      try {
        return (await inner.query(text, params)) as R[];
      } catch (e) {
        throw asHostDbError(e, 'query failed');
      }
    },
    exec: async (script: string) => {
      try {
        await inner.exec(script);
      } catch (e) {
        throw asHostDbError(e, 'script failed');
      }
    },
  });
  return {
    ...sql(backend),
    backend: backend.backend,
    location: backend.location,
    transaction: async <T>(fn: (tx: Sql) => Promise<T>) => {
      try {
        return await backend.transaction((tx) => fn(sql(tx)));
      } catch (e) {
        throw asHostDbError(e, 'transaction failed');
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await backend.close();
    },
  };
}

/** A driver error as E_HOST_DB (with its SQLSTATE); the module's own TerminalErrors pass unchanged. */
export function asHostDbError(e: unknown, what: string): TerminalError {
  if (isTerminalError(e)) return e;
  const sqlstate = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : '';
  const message = e instanceof Error ? e.message : String(e);
  return new TerminalError('E_HOST_DB', `${what}: ${message}`, sqlstate ? { sqlstate } : {});
}

/** The SQLSTATE of a host database error, if it has one. */
export function sqlstateOf(e: unknown): string | undefined {
  if (!isTerminalError(e, 'E_HOST_DB')) return undefined;
  const state = e.details.sqlstate;
  return typeof state === 'string' ? state : undefined;
}

/**
 * SQLSTATEs the schema's own triggers raise (class "HS" is unused by PostgreSQL). The SQL in
 * migrations spells them out; these constants name them for the code that catches them.
 */
export const HOST_SQLSTATE = {
  /** UPDATE, DELETE or TRUNCATE of a table that records facts. */
  appendOnly: 'HS001',
  /** A CRL whose number is not above the current one for its CA. */
  crlNotNewer: 'HS002',
  /** A state change the table does not allow (e.g. a revoked terminal made active again). */
  transition: 'HS003',
  /** A ledger transfer that does not resolve its pending transfer exactly (migration 004). */
  ledger: 'HS004',
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
} as const;
