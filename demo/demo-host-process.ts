// Starts the demo's issuer host beside the demo terminal, as its own process (demo/demo-host.ts):
// the host is another party, its embedded PostgreSQL takes seconds to create on first start, and a
// host that fails or dies must not take the terminal with it. The terminal never waits for it: it
// sells from the start, its CRL refresh and issuing fail with a clear error until the host is ready,
// and when the host says it is ready the terminal fetches the host's CRL.
//
// The host process reads its orders from nothing and writes one JSON line on stdout (DemoHostEvent);
// its own log goes to stderr and is passed on with a prefix. It ends when asked (SIGTERM) or when
// its stdin closes, so it never outlives the terminal that started it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TerminalServices } from '../electron/services/terminal-services.js';
import type { DemoHostEvent } from './demo-host.js';

const HOST_SCRIPT = join(fileURLToPath(new URL('.', import.meta.url)), 'demo-host.ts');
const STOP_GRACE_MS = 5000;

export interface DemoHostProcess {
  /** Resolves with the host's address once it serves; rejects if it fails or exits first. */
  ready: Promise<{ url: string; pin: string }>;
  /** Stops the host (SIGTERM, then SIGKILL after a grace period); resolves when it has exited. */
  stop(): Promise<void>;
  readonly pid: number | undefined;
}

export function startDemoHost(o: { dir: string; log?: (line: string) => void }): DemoHostProcess {
  const log = o.log ?? ((line: string) => console.log(line));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', tsx, HOST_SCRIPT, '--dir', resolve(o.dir)],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
  );
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const ready = new Promise<{ url: string; pin: string }>((resolveReady, rejectReady) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let event: DemoHostEvent;
      try {
        event = JSON.parse(line) as DemoHostEvent;
      } catch {
        log(`[demo host] ${line}`);
        return;
      }
      if (event.event === 'ready') resolveReady({ url: event.url, pin: event.pin });
      else rejectReady(new Error(`${event.code}: ${event.message}`));
    });
    child.once('error', rejectReady);
    void exited.then((code) =>
      rejectReady(new Error(`the demo host exited (code ${code}) before it was ready`)),
    );
  });
  ready.catch(() => {}); // whoever awaits it sees the failure; nobody must
  createInterface({ input: child.stderr! }).on('line', (line) => log(`[demo host] ${line}`));
  return {
    ready,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The demo host beside a running demo terminal: started, and when ready the terminal's CRL is
 * fetched from it and its journal uploaded (not waiting for the uploader's next turn). Every outcome
 * is one line in the log; nothing here ever throws at the terminal.
 */
export function startDemoHostBeside(
  terminal: Pick<TerminalServices, 'crl'> & Partial<Pick<TerminalServices, 'uploader'>>,
  o: { dir: string; log?: (line: string) => void },
): DemoHostProcess {
  const log = o.log ?? ((line: string) => console.log(line));
  log(
    'Starting the demo issuer host (the first start creates its database: a few seconds; the terminal works meanwhile)',
  );
  const host = startDemoHost({ dir: o.dir, log });
  host.ready.then(
    async ({ url }) => {
      const status = await terminal.crl.refresh().catch(() => undefined);
      const refresh = status?.lastRefresh;
      log(
        `Demo issuer host ready at ${url}; ${refresh?.ok ? 'CRL fetched from it' : `CRL refresh failed (${refresh?.error?.code ?? 'unknown'})`}`,
      );
      const sync = await terminal.uploader?.sync();
      if (sync) {
        log(
          sync.ok
            ? `Journal uploaded to it up to entry ${sync.ackedSeq}`
            : `Journal upload failed (${sync.error?.code ?? 'unknown'}); the terminal tries again later`,
        );
      }
    },
    (e: unknown) =>
      log(
        `The demo issuer host did not start (${e instanceof Error ? e.message : String(e)}): the terminal goes on without it (its stored CRL; no issuing)`,
      ),
  );
  return host;
}
