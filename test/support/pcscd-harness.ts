// Starts a private pcscd with vpcd readers for one test file.
//
// Isolation: pcsc-lite 1.9.9's *daemon* always uses /run/pcscd/pcscd.comm (and pcscd.pid next to it);
// only the *client* library honours PCSCLITE_CSOCK_NAME. So each pcscd runs in its own mount
// namespace (`unshare --mount`, plus `--user --map-root-user` when not root) with a temp directory
// bind-mounted over /run: the daemon's /run/pcscd/pcscd.comm is really <tmp>/run/pcscd/pcscd.comm,
// which clients outside the namespace reach through PCSCLITE_CSOCK_NAME. The network namespace is
// shared, so the vpcd TCP ports are reachable as usual. Where namespaces are not allowed (e.g. a
// container without CAP_SYS_ADMIN whose seccomp policy blocks unshare) the harness falls back to
// the real /run/pcscd socket guarded by a machine-wide lock, so test files then run one at a time.
//
// libpcsclite caches the socket path at the first SCardEstablishContext in a process, so one
// process (one vitest test file, as pool 'forks' gives each file its own process) can talk to one
// harness only. startPcscd() sets process.env.PCSCLITE_CSOCK_NAME unless told not to.
//
// vpcd slots: every reader.conf entry of libifdvpcd opens two slots, listening on PORT and PORT+1
// and named "<FRIENDLYNAME> 00 00" and "<FRIENDLYNAME> 00 01". Reader k is slot k%2 of entry k/2;
// with an odd count the last entry's second slot exists too but is not handed out.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StartPcscdOptions {
  /** Number of vpcd readers (1..16); default 1. */
  readers?: number;
  /** 'auto' (default) uses a private mount namespace when possible, else the global lock. */
  isolation?: 'auto' | 'namespace' | 'global-lock';
  /** pcscd log level; default 'info'. The log is kept in <dir>/pcscd.log until stop(). */
  logLevel?: 'error' | 'info' | 'debug';
  /** Log every APDU in the pcscd log (pcscd -a). */
  logApdus?: boolean;
  /** Set process.env.PCSCLITE_CSOCK_NAME to this daemon's socket; default true. */
  setProcessEnv?: boolean;
  /** How long to wait for the daemon and its readers; default 20 s. */
  startTimeoutMs?: number;
}

export interface PcscdHarness {
  /** TCP port of each reader's vpcd slot: a VpcdConnector on ports[k] is a card in readerNames()[k]. */
  ports: number[];
  /** The reader names, in the order of `ports`, once pcscd lists them all. */
  readerNames(): Promise<string[]>;
  /** The pcscd socket, for PCSCLITE_CSOCK_NAME. */
  socketPath: string;
  /** Environment for child processes (scriptor, pcsc_scan, ...) that should use this daemon. */
  env: NodeJS.ProcessEnv;
  isolation: 'namespace' | 'global-lock';
  dir: string;
  logFile: string;
  /** pcscd's pid (a new one after restart()). */
  readonly pid: number;
  /** The pcscd log so far (for assertions and failure messages). */
  log(): string;
  /**
   * Stops pcscd (SIGTERM) and starts a new one with the same config, vpcd ports and socket path;
   * resolves once it lists its readers again. Clients see the service go away and come back; cards
   * connected through a VpcdConnector are dropped and must be inserted again. `whileStopped` runs
   * while no pcscd is running.
   */
  restart(options?: { whileStopped?: () => Promise<void> | void }): Promise<void>;
  stop(): Promise<void>;
}

const PCSCD = '/usr/sbin/pcscd';
const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const DEFAULT_SOCKET = '/run/pcscd/pcscd.comm';
const LOCK_DIR = path.join(os.tmpdir(), 'settlement-terminal-pcscd.lock');
const MAX_READERS = 16; // PCSCLITE_MAX_READERS_CONTEXTS
const SUN_PATH_MAX = 107;

let namespaceSupport: boolean | undefined;

/** Whether this process may run pcscd in a private mount namespace (probed once). */
export function canUsePrivateNamespace(): boolean {
  if (namespaceSupport !== undefined) return namespaceSupport;
  const probeDir = path.join(os.tmpdir(), `pcscd-ns-probe-${process.pid}`);
  mkdirSync(probeDir, { recursive: true });
  try {
    const r = spawnSync('unshare', [...unshareArgs(), 'sh', '-c', 'mount --bind "$0" /run', probeDir], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    namespaceSupport = r.status === 0;
  } catch {
    namespaceSupport = false;
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
  return namespaceSupport;
}

function unshareArgs(): string[] {
  const asRoot = process.getuid?.() === 0;
  return [...(asRoot ? [] : ['--user', '--map-root-user']), '--mount', '--propagation', 'private', '--'];
}

export async function startPcscd(options: StartPcscdOptions = {}): Promise<PcscdHarness> {
  const count = options.readers ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_READERS) {
    throw new RangeError(`readers must be 1..${MAX_READERS}`);
  }
  if (!existsSync(PCSCD) || !existsSync(VPCD_DRIVER)) {
    throw new Error(`pcscd (${PCSCD}) and vsmartcard-vpcd (${VPCD_DRIVER}) must be installed`);
  }
  let isolation: 'namespace' | 'global-lock';
  if (options.isolation === 'namespace' || options.isolation === 'global-lock') isolation = options.isolation;
  else isolation = canUsePrivateNamespace() ? 'namespace' : 'global-lock';

  const releaseLock = isolation === 'global-lock' ? await acquireGlobalLock() : () => {};
  let lastError: unknown;
  // A port found free can be taken again before pcscd binds it; then try other ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(count, isolation, options, releaseLock);
    } catch (e) {
      lastError = e;
      if (!(e instanceof PortClash)) break;
    }
  }
  releaseLock();
  throw lastError;
}

class PortClash extends Error {}

async function startOnce(
  count: number,
  isolation: 'namespace' | 'global-lock',
  options: StartPcscdOptions,
  releaseLock: () => void,
): Promise<PcscdHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pcscd-harness-'));
  const runDir = path.join(dir, 'run');
  mkdirSync(runDir);
  const socketPath = isolation === 'namespace' ? path.join(runDir, 'pcscd', 'pcscd.comm') : DEFAULT_SOCKET;
  if (socketPath.length > SUN_PATH_MAX) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`socket path too long for AF_UNIX: ${socketPath}`);
  }

  const entries = Math.ceil(count / 2);
  const bases = await findFreePortPairs(entries).catch(async (e: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw e;
  });
  const ports: number[] = [];
  const names: string[] = [];
  let conf = '';
  for (let e = 0; e < entries; e++) {
    const friendly = `Virtual PCD ${String.fromCharCode(65 + e)}`; // distinct names: pcscd would repeat "00 00"
    conf += `FRIENDLYNAME "${friendly}"\nDEVICENAME /dev/null:${bases[e]}\nLIBPATH ${VPCD_DRIVER}\nCHANNELID ${bases[e]}\n\n`;
    for (let slot = 0; slot < 2 && ports.length < count; slot++) {
      ports.push(bases[e]! + slot);
      names.push(`${friendly} 00 0${slot}`);
    }
  }
  const confFile = path.join(dir, 'reader.conf');
  writeFileSync(confFile, conf);
  const logFile = path.join(dir, 'pcscd.log');

  const level = options.logLevel ?? 'info';
  const pcscdArgs = [
    PCSCD,
    '--foreground',
    level === 'debug' ? '--debug' : level === 'info' ? '--info' : '--error',
    ...(options.logApdus ? ['--apdu'] : []),
    '--config',
    confFile,
  ];
  // setpriv --pdeathsig: pcscd gets SIGTERM if this process dies without calling stop(). unshare
  // and sh exec in place, so the spawned pid is pcscd's own.
  const argv =
    isolation === 'namespace'
      ? [...unshareArgs(), 'sh', '-c', 'mount --bind "$0" /run && exec "$@"', runDir, ...pcscdArgs]
      : pcscdArgs;
  const env = { ...process.env };
  delete env.PCSCLITE_CSOCK_NAME;
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let running = false;
  /** Spawns pcscd; restart() calls it again (same config, ports and socket path; the log is appended). */
  const launch = () => {
    const logFd = openSync(logFile, 'a');
    const spawned = spawn(
      'setpriv',
      ['--pdeathsig', 'TERM', '--', ...(isolation === 'namespace' ? ['unshare'] : []), ...argv],
      { stdio: ['ignore', logFd, logFd], env, detached: false },
    );
    closeSync(logFd);
    child = spawned;
    exited = new Promise<number | null>((resolve) => {
      spawned.once('exit', (code) => resolve(code));
      spawned.once('error', () => resolve(null)); // e.g. setpriv missing: no 'exit' follows
    });
    running = true;
    void exited.then(() => {
      if (child === spawned) running = false;
    });
  };
  launch();
  const killOnExit = () => {
    if (running) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const killDaemon = async () => {
    if (running) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!done && running) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  };

  const clientEnv: NodeJS.ProcessEnv = { ...process.env, PCSCLITE_CSOCK_NAME: socketPath };
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  let stopped = false;
  /** Kills pcscd and removes the temp dir; the global lock stays with the caller. */
  const shutdown = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    await killDaemon();
    await rm(dir, { recursive: true, force: true });
  };
  const stop = async () => {
    await shutdown();
    releaseLock();
  };

  const listed = async (): Promise<string[] | undefined> => {
    if (!running || !existsSync(socketPath)) return undefined;
    const all = await listReaders(clientEnv);
    return all && names.every((n) => all.includes(n)) ? names : undefined;
  };

  /** Waits for pcscd to list every reader; on failure runs `cleanUp` and throws. */
  const waitForReaders = async (logFrom: number, cleanUp: () => Promise<void>) => {
    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
    for (;;) {
      if (await listed()) break;
      const log = readLog().slice(logFrom);
      if (/Address already in use|Could not initialize connection to virtual ICC/.test(log)) {
        await cleanUp();
        throw new PortClash(`a vpcd port was taken before pcscd could bind it:\n${tail(log)}`);
      }
      if (!running || Date.now() > deadline) {
        const why = running ? 'did not list its readers in time' : `exited with code ${await exited}`;
        await cleanUp();
        throw new Error(`pcscd ${why} (${isolation})\n${tail(log)}`);
      }
      await sleep(50);
    }
  };
  await waitForReaders(0, shutdown);

  if (options.setProcessEnv ?? true) process.env.PCSCLITE_CSOCK_NAME = socketPath;

  return {
    ports,
    readerNames: async () => {
      const deadlineNames = Date.now() + 5_000;
      for (;;) {
        const got = await listed();
        if (got) return [...got];
        if (!running || Date.now() > deadlineNames) {
          throw new Error(`pcscd does not list the expected readers ${names.join(', ')}\n${tail(readLog())}`);
        }
        await sleep(50);
      }
    },
    socketPath,
    env: clientEnv,
    isolation,
    dir,
    logFile,
    get pid() {
      return child.pid ?? -1;
    },
    log: readLog,
    restart: async ({ whileStopped } = {}) => {
      if (stopped) throw new Error('the pcscd harness has been stopped');
      await killDaemon();
      await whileStopped?.();
      if (stopped) throw new Error('the pcscd harness has been stopped');
      const logFrom = readLog().length;
      launch();
      await waitForReaders(logFrom, killDaemon);
    },
    stop,
  };
}

/** The readers pcscd lists, via pcsc_scan in a child process (it never binds this process's libpcsclite). */
function listReaders(env: NodeJS.ProcessEnv): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    execFile('pcsc_scan', ['-r'], { env, timeout: 5_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      const names: string[] = [];
      for (const line of stdout.split('\n')) {
        const m = /^\d+: (.+)$/.exec(line.trimEnd());
        if (m) names.push(m[1]!);
      }
      resolve(names);
    });
  });
}

/** `count` base ports B such that B and B+1 are both free (vpcd binds every slot of an entry). */
async function findFreePortPairs(count: number): Promise<number[]> {
  const held: net.Server[] = [];
  const bases: number[] = [];
  try {
    for (let tries = 0; bases.length < count; tries++) {
      if (tries > 200) throw new Error('could not find free TCP port pairs for vpcd');
      const first = await listen(0);
      if (!first) continue;
      const base = (first.address() as net.AddressInfo).port;
      const second = base < 0xffff ? await listen(base + 1) : undefined;
      if (!second) {
        first.close();
        continue;
      }
      held.push(first, second);
      bases.push(base);
    }
    return bases;
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

function listen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    // vpcd binds INADDR_ANY, so check the same address.
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => resolve(server));
  });
}

/** Machine-wide lock for the shared /run/pcscd socket; returns its release function. */
async function acquireGlobalLock(timeoutMs = 180_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  const owner = path.join(LOCK_DIR, 'owner');
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(owner, String(process.pid));
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(LOCK_DIR, { recursive: true, force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // A lock whose owner process is gone is stale.
    let ownerPid = Number.NaN;
    try {
      ownerPid = Number(readFileSync(owner, 'utf8'));
    } catch {
      // being written or removed right now
    }
    if (Number.isInteger(ownerPid) && ownerPid > 0 && !isAlive(ownerPid)) {
      rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the pcscd lock ${LOCK_DIR}`);
    await sleep(100);
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

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}
