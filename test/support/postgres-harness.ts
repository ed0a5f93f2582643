// Starts a private PostgreSQL server (Debian's postgresql 15) for one test file.
//
// initdb and postgres run in a fresh temporary folder, listening on 127.0.0.1 only, on a free port
// and without a Unix socket, so several test files (or helpers) can each run their own at once.
// PostgreSQL refuses to run as root: as root the server runs as the `postgres` system user (or
// `nobody` where there is none) through `setpriv`, which also gives it a parent-death signal so it
// is shut down if the test process dies without calling stop(). fsync is off (a throw-away database
// need not survive the machine crashing), but commits are synchronous, so a committed transaction
// survives the server being killed (restart({ mode: 'kill' })), as the fault tests need.
// Authentication is `trust` on loopback.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
const SUPERUSER = 'postgres';

export interface StartPostgresOptions {
  /** How long to wait for the server to accept connections; default 30 s. */
  startTimeoutMs?: number;
}

export interface PostgresHarness {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** The server's pid (a new one after restart()). */
  readonly pid: number;
  /** Connection URL of `database` (default: the `postgres` maintenance database). */
  url(database?: string): string;
  /** Creates an empty database with a unique name and returns its URL. */
  createDatabase(): Promise<string>;
  /** The server log so far. */
  log(): string;
  /**
   * Stops the server (fast shutdown, or `mode: 'kill'` for SIGKILL, as a crash) and starts it again
   * on the same folder and port; resolves once it accepts connections. Clients see their
   * connections dropped.
   */
  restart(options?: { mode?: 'fast' | 'kill'; whileStopped?: () => Promise<void> | void }): Promise<void>;
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** Who runs initdb and postgres: this process's user, or an unprivileged system user as root. */
function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && uid > 0) return { uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('running as root, but neither a postgres nor a nobody user exists to run PostgreSQL');
}

/** argv prefix that drops to `user` (when set) and signals the child when this process dies. */
function asUser(user: RunAs | undefined, signal: 'INT' | 'TERM'): string[] {
  const drop = user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'] : [];
  return ['setpriv', ...drop, '--pdeathsig', signal, '--'];
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresHarness> {
  for (const tool of ['initdb', 'postgres']) {
    if (!existsSync(path.join(POSTGRES_BIN, tool))) {
      throw new Error(`${POSTGRES_BIN}/${tool} is missing: install Debian's postgresql package`);
    }
  }
  const user = runAs();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pg-harness-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  if (user) chownSync(dir, user.uid, user.gid);
  try {
    const [cmd, ...args] = asUser(user, 'TERM');
    execFileSync(
      cmd!,
      [
        ...args,
        path.join(POSTGRES_BIN, 'initdb'),
        ...['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--no-sync', '--no-instructions'],
        ...['-E', 'UTF8', '--locale=C'],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
    );
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? String(e)}`);
  }

  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);
  let port = 0;
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const launch = () => {
    const logFd = openSync(logFile, 'a');
    if (user) chownSync(logFile, user.uid, user.gid);
    const [cmd, ...args] = asUser(user, 'INT'); // SIGINT: fast shutdown
    const spawned = spawn(
      cmd!,
      [
        ...args,
        path.join(POSTGRES_BIN, 'postgres'),
        ...['-D', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', `port=${port}`],
        ...['-c', 'unix_socket_directories=', '-c', 'fsync=off'],
        ...['-c', 'full_page_writes=off', '-c', 'max_connections=100', '-c', 'shared_buffers=32MB'],
        ...['-c', 'timezone=UTC', '-c', 'log_min_messages=warning'],
      ],
      { stdio: ['ignore', logFd, logFd] },
    );
    closeSync(logFd);
    child = spawned;
    exited = new Promise((resolve) => {
      spawned.once('exit', (code) => resolve(code));
      spawned.once('error', () => resolve(null));
    });
  };
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (!running()) return;
    child!.kill(signal);
    const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done && running()) {
      child!.kill('SIGKILL');
      await exited;
    }
  };
  const waitReady = async (logFrom: number) => {
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (;;) {
      if (await accepts(port)) return;
      const log = readLog().slice(logFrom);
      if (/could not bind|Address already in use/.test(log)) throw new PortClash(log);
      if (!running() || Date.now() > deadline) {
        const why = running() ? 'did not accept connections in time' : `exited with code ${await exited}`;
        throw new Error(`postgres ${why}\n${tail(log)}`);
      }
      await sleep(50);
    }
  };

  const killOnExit = () => {
    if (running()) child!.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    await shutdown('SIGINT');
    await rm(dir, { recursive: true, force: true });
  };

  // A port found free can be taken again before postgres binds it; then try another.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    const logFrom = readLog().length;
    launch();
    try {
      await waitReady(logFrom);
      break;
    } catch (e) {
      await shutdown('SIGKILL');
      if (!(e instanceof PortClash) || attempt >= 4) {
        await stop();
        throw e;
      }
    }
  }

  let databases = 0;
  const url = (database = 'postgres') => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    url,
    createDatabase: async () => {
      const name = `test_${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE template0`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    log: readLog,
    restart: async ({ mode = 'fast', whileStopped } = {}) => {
      if (stopped) throw new Error('the postgres harness has been stopped');
      await shutdown(mode === 'kill' ? 'SIGKILL' : 'SIGINT');
      await whileStopped?.();
      // After a kill, the old server's backends notice their postmaster is gone and exit within
      // moments; until then a new server refuses the still-attached shared memory. Try again.
      for (let attempt = 0; ; attempt++) {
        const logFrom = readLog().length;
        launch();
        try {
          await waitReady(logFrom);
          return;
        } catch (e) {
          const busy = /pre-existing shared memory block|already running/.test(readLog().slice(logFrom));
          if (!busy || attempt >= 20) throw e;
          await sleep(250);
        }
      }
    },
    stop,
  };
}

class PortClash extends Error {}

async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: SUPERUSER,
    database: 'postgres',
    connectionTimeoutMillis: 1000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}
