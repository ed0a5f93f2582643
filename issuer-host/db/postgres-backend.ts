// node-postgres backend: a pool of connections to a PostgreSQL server (used only by host-database.ts).
import pg from 'pg';
import type { Backend, Row } from './host-database.js';

const OID = { int8: 20, bytea: 17 } as const;
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/** The same JavaScript types as the embedded backend: int8 → bigint, bytea → plain Uint8Array. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === OID.int8) return (value: string) => BigInt(value);
    if (oid === OID.bytea) {
      const parse = pg.types.getTypeParser(OID.bytea) as (value: string) => Buffer;
      return (value: string) => {
        const buffer = parse(value);
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      };
    }
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

export async function openPostgresBackend(target: {
  url: string;
  poolSize?: number;
  statementTimeoutMs?: number;
}): Promise<Backend> {
  const location = redact(target.url);
  const pool = new pg.Pool({
    connectionString: target.url,
    max: target.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: target.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: 60_000,
    application_name: 'issuer-host',
    types,
  });
  // An idle connection that dies (server restarted) is dropped by the pool; without a listener the
  // 'error' event would end the process.
  pool.on('error', () => {});
  // Fail at open, with the server's own message, rather than at the first request.
  const probe = await pool.connect().catch(async (e: unknown) => {
    await pool.end().catch(() => {});
    throw e;
  });
  probe.release();

  const run = async (client: pg.Pool | pg.PoolClient, text: string, params: readonly unknown[]) =>
    (await client.query<Row>(text, params as unknown[])).rows;
  return {
    backend: 'postgres',
    location,
    query: (text, params) => run(pool, text, params),
    exec: async (script) => {
      await pool.query(script); // no parameters: simple protocol, several statements allowed
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out connection has no listener of the pool's: the server ending it between two of
      // this transaction's queries (restarted, killed) would otherwise end the process.
      const onError = (e: Error) => {
        broken = e;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        const result = await fn({
          backend: 'postgres',
          location,
          query: (text, params) => run(client, text, params),
          exec: async (script) => {
            await client.query(script);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError; // the connection is unusable: the pool must not reuse it
        });
        throw e;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** The URL without its password, for messages and status. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}
