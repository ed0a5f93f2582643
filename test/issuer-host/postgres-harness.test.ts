// The PostgreSQL test harness: two servers at once in one process (as two test files would run
// them), each on its own loopback port and folder, run by an unprivileged user, restartable after a
// crash with its data, and gone (process and folder) after stop().
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type PostgresHarness, startPostgres } from '../support/postgres-harness.js';

const started: PostgresHarness[] = [];
afterAll(async () => {
  await Promise.allSettled(started.map((h) => h.stop()));
});

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('PostgreSQL test harness', () => {
  it('runs two private servers at once, unprivileged, on loopback only, and removes them on stop', async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    started.push(a!, b!);
    expect(a!.port).not.toBe(b!.port);
    expect(a!.dir).not.toBe(b!.dir);
    const [settings] = await query<{ listen: string; fsync: string; sockets: string }>(
      a!.url(),
      `SELECT current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync,
              current_setting('unix_socket_directories') AS sockets`,
    );
    expect(settings).toEqual({ listen: '127.0.0.1', fsync: 'off', sockets: '' });
    // The server process does not run as root (PostgreSQL would refuse to).
    const { stdout } = await import('node:child_process').then((cp) =>
      cp.spawnSync('ps', ['-o', 'user=', '-p', String(a!.pid)], { encoding: 'utf8' }),
    );
    expect(stdout.trim()).not.toBe('root');
    expect(stdout.trim()).not.toBe('');

    const first = await a!.createDatabase();
    const second = await a!.createDatabase();
    expect(first).not.toBe(second);
    await query(first, 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
    expect(await query(second, `SELECT to_regclass('t') AS t`)).toEqual([{ t: null }]);

    const { pid, dir } = b!;
    await b!.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  it('restarts after a crash on the same port, keeping committed data', async () => {
    const h = await startPostgres();
    started.push(h);
    const url = await h.createDatabase();
    await query(url, 'CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)');
    const before = h.pid;
    let stoppedWhileDown = false;
    await h.restart({
      mode: 'kill',
      whileStopped: async () => {
        stoppedWhileDown = !isAlive(before);
      },
    });
    expect(stoppedWhileDown).toBe(true);
    expect(h.pid).not.toBe(before);
    expect(await query(url, 'SELECT x FROM kept')).toEqual([{ x: 42 }]);
  }, 60_000);
});
