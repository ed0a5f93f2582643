// Runs this process again inside a network namespace of its own whose loopback route has quickack
// set. The installed vpcd writes each message to the card as two send() calls with Nagle on, so
// every APDU otherwise waits ~40 ms for a delayed ACK (see bench/README.md); with quickack an APDU
// through pcscd takes about a millisecond, which is what makes a campaign of hundreds of cases on
// the real PC/SC stack fit in a test run.
import { spawn, spawnSync } from 'node:child_process';

const MARK = 'SETTLEMENT_QUICKACK_NETNS';
const SETUP =
  'ip link set lo up && ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 quickack 1';

function unshareArgs(): string[] {
  return [...(process.getuid?.() === 0 ? [] : ['--user', '--map-root-user']), '--net', '--'];
}

/** True inside the namespace made by reexecInQuickackNetwork(). */
export function inQuickackNetwork(): boolean {
  return process.env[MARK] === '1';
}

/** Whether a network namespace with quickack can be made here. */
export function canMakeQuickackNetwork(): boolean {
  return (
    spawnSync('unshare', [...unshareArgs(), 'sh', '-c', SETUP], { stdio: 'ignore', timeout: 10_000 })
      .status === 0
  );
}

/** The command (argv) that runs `command` in a fresh namespace with quickack on loopback. */
export function quickackCommand(command: string[]): string[] {
  return ['unshare', ...unshareArgs(), 'sh', '-c', `${SETUP} && exec "$@"`, 'sh', ...command];
}

/**
 * Runs this very script again (same node flags and arguments) in the namespace and resolves with its
 * exit code; its output is inherited.
 */
export function reexecInQuickackNetwork(): Promise<number> {
  const [cmd, ...args] = quickackCommand([process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  const child = spawn(cmd!, args, { stdio: 'inherit', env: { ...process.env, [MARK]: '1' } });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.once('error', () => resolve(1));
  });
}
