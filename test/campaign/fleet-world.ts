// The fleet tier's world (fleet-soak.ts), every part a process of its own: one PostgreSQL (the test
// harness's), issuer host instances (`npm run host -- serve` on a host.json with TLS from the issuer's
// CA and the database's URL), terminals (fleet-terminal.ts, forked through tsx, each with its own data
// folder, log and identity key, registered at the host), and a dozen simulated card files of one
// issuer with one transfer key, so any two cards can pay each other. Everything lives in one
// temporary folder (mkdtemp) on free loopback ports: runs are parallel-safe.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type SettlementState, settlementStateCodec } from '../../card-sim/applets/settlement/state.js';
import { openCard } from '../../card-sim/card-files.js';
import { createIssuer, personalizeCard, publishCrl } from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { FileBackend } from '../../card-sim/os/persistence-backend.js';
import { InProcessChannel } from '../../card-sim/transport/in-process-channel.js';
import type { TerminalConfigFile } from '../../electron/services/config.js';
import { hostIdentity } from '../../electron/services/issuing/server-identity.js';
import { CLEARING_KEY_FILE } from '../../issuer-host/clearing/clearing-keys.js';
import { type HostDatabase, openHostDatabase } from '../../issuer-host/db/host-database.js';
import { TerminalRegistry } from '../../issuer-host/db/terminal-registry.js';
import { writeClearingKeys } from '../../issuer-host/host-folder.js';
import { recordIssuance } from '../../issuer-host/ledger/issuance.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { DEFAULT_NO_PIN_LIMITS } from '../../protocol/settlement/cardholder-policy.js';
import type { ContentItem } from '../../protocol/settlement/contents-codec.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { issuerWorld } from '../issuer-host/host-fixtures.js';
import { createUnderRight } from '../support/content-fixtures.js';
import { type PostgresHarness, startPostgres } from '../support/postgres-harness.js';
import type { FleetCommand, FleetTerminalEnv } from './fleet-terminal.js';

const ROOT = join(import.meta.dirname, '../..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
export const FLEET_PIN = '1234';
export const FLEET_CURRENCY = 978;
/** A process's start, generous: on a loaded 2-core machine a tsx start alone can take a minute. */
const START_TIMEOUT_MS = 300_000;

/** A line of a child's output kept for the report of a failure. */
function tail(buffer: string[], chunk: string): void {
  buffer.push(...chunk.split('\n').filter(Boolean));
  if (buffer.length > 40) buffer.splice(0, buffer.length - 40);
}

/** `npm run host -- serve` in a process of its own. */
export class HostInstance {
  private readonly output: string[] = [];
  private uploadWatchers: (() => void)[] = [];
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.once('exit', () => {
      this.exited = true;
    });
  }

  static start(configPath: string): Promise<HostInstance> {
    const child = spawn(
      process.execPath,
      ['--import', TSX, join(ROOT, 'issuer-host/main.ts'), 'serve', '--config', configPath],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new Promise((resolve, reject) => {
      const output: string[] = [];
      let instance: HostInstance | undefined;
      let partial = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the host instance did not start:\n${output.join('\n')}`));
      }, START_TIMEOUT_MS);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => tail(instance?.output ?? output, d));
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        const lines = (partial + d).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (instance) {
            // Fastify logs each request: a clearing upload arriving is a moment to strike.
            if (line.includes('"incoming request"') && line.includes('/terminal/clearing/upload'))
              for (const w of instance.uploadWatchers.splice(0)) w();
            continue;
          }
          tail(output, line);
          const m = /issuer host listening on (https:\/\/\S+)/.exec(line);
          if (m) {
            clearTimeout(timer);
            instance = new HostInstance(child, m[1]!);
            instance.output.push(...output);
            resolve(instance);
          }
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!instance)
          reject(new Error(`the host instance exited (${code ?? signal}):\n${output.join('\n')}`));
      });
    });
  }

  /** Resolves when the next clearing upload reaches this instance (or after `ms`, whichever first). */
  nextUpload(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.uploadWatchers = this.uploadWatchers.filter((w) => w !== done);
        resolve(false);
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.uploadWatchers.push(done);
    });
  }

  /** SIGKILL: whatever the instance was doing is cut off where it stood. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: string; message: string } };

/** Thrown to a command's caller when the terminal process died before answering. */
export class TerminalGone extends Error {
  constructor(
    readonly terminalId: string,
    readonly signal: string | null,
  ) {
    super(`terminal ${terminalId} died (${signal ?? 'exit'})`);
  }
}

/** A fleet terminal process (fleet-terminal.ts) and its command channel. */
export class TerminalProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  readonly output: string[] = [];
  exit: { code: number | null; signal: string | null } | undefined;

  private constructor(
    readonly terminalId: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    });
    child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const w of this.waiting.values()) w.reject(new TerminalGone(terminalId, signal));
      this.waiting.clear();
    });
  }

  static start(terminalId: string, env: FleetTerminalEnv): Promise<TerminalProcess> {
    const child = fork(join(ROOT, 'test/campaign/fleet-terminal.ts'), [], {
      execArgv: ['--import', TSX],
      env: { ...process.env, FLEET_TERMINAL: JSON.stringify(env) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output: string[] = [];
    child.stdout!.setEncoding('utf8').on('data', (d: string) => tail(output, d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => tail(output, d));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`terminal ${terminalId} did not start:\n${output.join('\n')}`));
      }, START_TIMEOUT_MS);
      child.once('message', (m: { ready: boolean; error?: { code: string; message: string } }) => {
        clearTimeout(timer);
        if (!m.ready) {
          reject(new Error(`terminal ${terminalId} did not start: ${m.error?.code} ${m.error?.message}`));
          return;
        }
        const t = new TerminalProcess(terminalId, child);
        t.output.push(...output);
        child.stdout!.removeAllListeners('data').on('data', (d: string) => tail(t.output, d));
        child.stderr!.removeAllListeners('data').on('data', (d: string) => tail(t.output, d));
        resolve(t);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`terminal ${terminalId} exited at start (${code ?? signal}):\n${output.join('\n')}`),
        );
      });
    });
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  call<T>(command: FleetCommand): Promise<T> {
    if (!this.alive) return Promise.reject(new TerminalGone(this.terminalId, this.exit!.signal));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, ...command });
    });
  }

  /** Resolves when the process has exited (after a kill it armed, or stop). */
  async exited(): Promise<void> {
    if (!this.alive) return;
    await new Promise((r) => this.child.once('exit', r));
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const gone = this.exited();
    await this.call({ cmd: 'stop' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}

export interface FleetCard {
  label: string;
  file: string;
  holderId: string;
  /** Its balance when it was personalized: issuance is not booked at the host (yet). */
  issued: number;
}

export interface TerminalSetup {
  terminalId: string;
  shopId: string;
  dataDir: string;
  configPath: string;
}

export interface FleetWorld {
  dir: string;
  issuer: IssuerState;
  caDer: Uint8Array;
  pin: string;
  pg: PostgresHarness;
  db: HostDatabase;
  hostConfig: string;
  cards: FleetCard[];
  /** Every ticket issued, by ID. */
  items: string[];
  terminals: TerminalSetup[];
  env(t: TerminalSetup, hosts: string[], batchSize: number): FleetTerminalEnv;
  close(): Promise<void>;
}

/** Folders, issuer, cards with their tickets, PostgreSQL, the host's configuration, registered terminals. */
export async function createFleetWorld(o: {
  cards: number;
  balance: number;
  tickets: number;
  shops: { shopId: string; terminals: string[] }[];
}): Promise<FleetWorld> {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'fleet-soak-'));
  const issuer = createIssuer({
    name: 'Fleet Issuer',
    currency: FLEET_CURRENCY,
    updateKeys: 1,
    transferKeys: 1,
  });
  const caDer = fromHex(issuer.caCertificate);
  const caPath = join(dir, 'ca.der');
  const crlPath = join(dir, 'builtin.crl');
  writeFileSync(caPath, caDer);
  writeFileSync(crlPath, publishCrl(issuer, { now: new Date(Date.now() - 60_000), validityDays: 30 }));

  const cards: FleetCard[] = [];
  mkdirSync(join(dir, 'cards'));
  const validity = new Date(Date.now() + 3 * 365 * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  for (let i = 1; i <= o.cards; i++) {
    const label = `card-${String(i).padStart(2, '0')}`;
    const state: SettlementState = personalizeCard(issuer, {
      label,
      validity,
      balance: o.balance,
      maxBalance: 10_000_000,
      transferKeyId: 1,
      transferKeyIdLimit: 1,
      updateKeyId: 1,
      updateKeyIdLimit: 1,
      pin: FLEET_PIN,
      noPinLimits: DEFAULT_NO_PIN_LIMITS,
    });
    const file = join(dir, 'cards', `${label}.json`);
    new FileBackend(file).store(settlementStateCodec.encode(state));
    cards.push({ label, file, holderId: state.holderId.toUpperCase(), issued: o.balance });
  }
  // Tickets on the first cards, each under a create right of the issuer's authority.
  const items: string[] = [];
  for (let i = 0; i < o.tickets; i++) {
    const card = cards[i % Math.max(1, Math.floor(o.cards / 3))]!;
    const held = openCard(card.file);
    try {
      const client = new SettlementClient(await InProcessChannel.connect(held.card.os));
      await client.select();
      const item: ContentItem = {
        id: toHex(randomBytes(16)),
        type: 'ticket',
        issuerId: issuer.issuerId,
        policy: 'issuer-alterable',
        label: `Fleet ticket ${i + 1}`,
        body: toHex(new TextEncoder().encode(`seat ${i + 1}`)),
      };
      await createUnderRight(issuer, client, fromHex(card.holderId), Math.floor(Date.now() / 1000), item);
      items.push(item.id.toUpperCase());
    } finally {
      held.release();
    }
  }

  // The host: TLS from the issuer's CA, one database for every instance.
  const tls = issuerWorld('Fleet Issuer', issuer).hostTls({ ip: ['127.0.0.1'] });
  writeFileSync(join(dir, 'host-cert.pem'), tls.certificatePem);
  writeFileSync(join(dir, 'host-key.pem'), tls.privateKeyPem, { mode: 0o600 });
  const pg = await startPostgres();
  let db: HostDatabase | undefined;
  try {
    const url = await pg.createDatabase();
    db = await openHostDatabase({ url });
    const hostConfig = join(dir, 'host.json');
    writeFileSync(
      hostConfig,
      JSON.stringify({
        caCertificate: 'ca.der',
        tls: { certificate: 'host-cert.pem', privateKey: 'host-key.pem' },
        listen: { host: '127.0.0.1', port: 0 },
        database: { url, poolSize: 4 },
        // The cards' proofs checked before anything is booked (docs/issuer-host.md, "Proofs at clearing").
        clearing: { keySet: CLEARING_KEY_FILE },
        issuance: { currencies: [FLEET_CURRENCY] },
      }),
    );
    writeClearingKeys(join(dir, CLEARING_KEY_FILE), issuer);
    // Each card's issuance booked as the staff tools book it: the ledger then holds whole balances.
    for (const card of cards) {
      if (card.issued > 0)
        await recordIssuance(db, {
          holderId: card.holderId,
          currency: FLEET_CURRENCY,
          amount: card.issued,
          actor: 'fleet-soak',
        });
    }

    // Terminals: configuration, identity key (what `npm run terminal -- host-key` makes), registration.
    const registry = new TerminalRegistry(db);
    const terminals: TerminalSetup[] = [];
    for (const shop of o.shops) {
      await registry.createShop({ shopId: shop.shopId, name: shop.shopId, actor: 'cli' });
      for (const terminalId of shop.terminals) {
        const tdir = join(dir, terminalId);
        const dataDir = join(tdir, 'data');
        mkdirSync(dataDir, { recursive: true });
        const configPath = join(tdir, 'terminal.json');
        const config: TerminalConfigFile = {
          dataDir,
          currency: FLEET_CURRENCY,
          caCertificate: caPath,
          builtinCrl: crlPath,
          // The slots are the process's own simulated readers (fleet-terminal.ts), not these.
          slots: { backend: 'pcsc', readers: { payer: 'fleet payer', payee: 'fleet payee' } },
          shop: { name: shop.shopId, terminalId: terminalId.slice(0, 16), timeZone: 'UTC' },
          host: { url: 'https://127.0.0.1:8443', pins: [tls.pin], terminalId, timeoutMs: 20_000 },
        };
        writeFileSync(configPath, JSON.stringify(config));
        const identity = hostIdentity(dataDir, terminalId);
        await registry.register({
          terminalId,
          shopId: shop.shopId,
          publicKey: identity.publicKey,
          actor: 'cli',
        });
        terminals.push({ terminalId, shopId: shop.shopId, dataDir, configPath });
      }
    }
    const opened = db;
    return {
      dir,
      issuer,
      caDer,
      pin: FLEET_PIN,
      pg,
      db: opened,
      hostConfig,
      cards,
      items,
      terminals,
      env(t, hosts, batchSize) {
        // The configuration names the instance the terminal starts with (its CRL distribution point);
        // its uploads follow the instances the soak names (fleet-terminal.ts).
        const config = JSON.parse(readFileSync(t.configPath, 'utf8')) as TerminalConfigFile;
        writeFileSync(t.configPath, JSON.stringify({ ...config, host: { ...config.host!, url: hosts[0]! } }));
        const firstHost = terminals.indexOf(t) % hosts.length;
        return { config: t.configPath, pin: FLEET_PIN, hosts, firstHost, batchSize, intervalMs: 400 };
      },
      async close() {
        await opened.close().catch(() => undefined);
        await pg.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await db?.close().catch(() => undefined);
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A card's state as its file holds it (a file is replaced whole: never half a state). */
export function cardState(card: FleetCard): SettlementState {
  return settlementStateCodec.decode(new FileBackend(card.file).load()!);
}
