// Embedded PostgreSQL backend (@electric-sql/pglite): the zero-set-up default, used only by
// host-database.ts. PGlite is one single-user PostgreSQL in this process: queries and transactions
// are serialized by PGlite itself, and the data folder must never be opened by two processes, so a
// lock file beside it (`<dataDir>.lock`, holding the owner's pid) refuses a second one.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { TerminalError } from '../../protocol/errors.js';
import type { Backend, Row } from './host-database.js';

/** Same as the server backend: int8 → bigint (PGlite's default gives a number when it fits). */
const parsers = { [types.INT8]: (value: string) => BigInt(value) };

export async function openEmbeddedBackend(target: { dataDir: string } | { memory: true }): Promise<Backend> {
  const dataDir = 'dataDir' in target ? resolve(target.dataDir) : undefined;
  const unlock = dataDir === undefined ? () => {} : lockDataDir(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir, { parsers });
  } catch (e) {
    unlock();
    throw e;
  }
  const location = dataDir ?? 'memory';
  const rows = async (text: string, params: readonly unknown[], q: Pick<PGlite, 'query'>) =>
    (await q.query<Row>(text, params as unknown[])).rows;
  return {
    backend: 'embedded',
    location,
    query: (text, params) => rows(text, params, db),
    exec: async (script) => {
      await db.exec(script);
    },
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          backend: 'embedded',
          location,
          query: (text, params) => rows(text, params, tx),
          exec: async (script) => {
            await tx.exec(script);
          },
        }),
      ),
    close: async () => {
      try {
        if (!db.closed) await db.close();
      } finally {
        unlock();
      }
    },
  };
}

/** Takes `<dataDir>.lock` (a stale lock whose process is gone is taken over); returns its release. */
function lockDataDir(dataDir: string): () => void {
  const lockFile = `${dataDir}.lock`;
  mkdirSync(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockFile, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number.parseInt(readText(lockFile), 10);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new TerminalError(
          'E_HOST_DB',
          `the embedded database ${dataDir} is in use by process ${owner}; embedded PostgreSQL serves one host process only (configure a PostgreSQL server for several)`,
          { dataDir, pid: owner },
        );
      }
      rmSync(lockFile, { force: true });
      continue;
    }
    writeSync(fd, String(process.pid));
    closeSync(fd);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      rmSync(lockFile, { force: true });
    };
  }
  throw new TerminalError('E_HOST_DB', `cannot take the lock ${lockFile}`, { dataDir });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
