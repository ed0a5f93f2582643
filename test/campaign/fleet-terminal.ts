// One terminal of the fleet tier (fleet-soak.ts), as a process of its own: started by the soak with
// child_process.fork (through tsx), it builds the real terminal services from its configuration the
// way the hosts do (its own data folder, SQLite log and identity key; start-up recovery, then a pass
// on every card insertion; the journal's upload in the background), and takes commands from the
// soak over the IPC channel.
//
// Its reader slots are simulated; each card in them is a card file held by this process while it is
// in a slot (card-sim/card-files.ts: the one-program lock, so a card must leave one terminal before
// another can open it: E_CARD_IN_USE otherwise). The host link fails over between the host instances
// the soak names (they stand where a load balancer would), and goes "offline" on command. A kill
// armed on command SIGKILLs this process right after the k-th APDU a card answered (the card acted,
// its answer never reaches the terminal) or the k-th journal write of the next operation.
//
// Messages in:  { id, cmd, ...args }; out: { id, ok: true, result } or { id, ok: false, error }.
// First message out: { ready: true, terminalId, publicKey }.

import { readFileSync } from 'node:fs';
import { loadCardState, openCard } from '../../card-sim/card-files.js';
import { loadConfig } from '../../electron/services/config.js';
import { JournalUploader } from '../../electron/services/host-link/journal-uploader.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { createSimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import { startTerminalServices } from '../../electron/services/terminal-services.js';
import { toHex } from '../../protocol/bytes.js';
import { isTerminalError, TerminalError, toTerminalError } from '../../protocol/errors.js';
import { HostClient } from '../../protocol/host-link/host-client.js';
import { fromPem } from '../../protocol/pki/index.js';
import { setProgramLabel } from '../../tooling/process-lock.js';
import { type Operation, runOperation } from './operations.js';

/** What the soak gives a terminal process (FLEET_TERMINAL, JSON). */
export interface FleetTerminalEnv {
  config: string;
  pin: string;
  /** Host instance URLs to start with, and which one to try first (terminals spread over them). */
  hosts: string[];
  firstHost: number;
  /** Entries per upload; the background upload's pace. */
  batchSize: number;
  intervalMs: number;
}

export type KillArm = { unit: 'apdu' | 'journal'; at: number };

export type FleetCommand =
  | { cmd: 'insert'; slot: SlotName; file: string }
  | { cmd: 'remove'; slot: SlotName }
  | { cmd: 'operate'; op: Operation; kill?: KillArm }
  | { cmd: 'recover' }
  | { cmd: 'sync' }
  | { cmd: 'offline'; offline: boolean }
  | { cmd: 'hosts'; urls: string[] }
  | { cmd: 'stop' };

const RETRYABLE = new Set(['E_TRANSPORT', 'E_TRANSPORT_TIMEOUT', 'E_HOST_DB']);
const SLOTS: SlotName[] = ['payer', 'payee'];

async function main(): Promise<void> {
  const env = JSON.parse(process.env.FLEET_TERMINAL ?? '') as FleetTerminalEnv;
  const config = loadConfig(env.config);
  const host = config.host;
  if (!host) throw new Error('a fleet terminal needs a host section');
  setProgramLabel(`fleet terminal ${host.terminalId}`);

  // Kill points: counted from the arming of an operation on.
  let armed: KillArm | undefined;
  let count = 0;
  let apdus = 0;
  let journalWrites = 0;
  const tick = (unit: KillArm['unit']) => {
    if (unit === 'apdu') apdus++;
    else journalWrites++;
    if (armed?.unit === unit && ++count === armed.at) process.kill(process.pid, 'SIGKILL');
  };

  // The link to the host instances: the next one on a transport or database failure. The terminal
  // services' own requests (the release-proof fetch after each recovery pass) go through it too.
  let urls = env.hosts;
  let at = env.firstHost;
  let offline = false;
  let clients: HostClient[] = [];
  const link = {
    call: async <T>(
      method: string,
      path: string,
      body?: unknown,
      init?: { maxResponseBytes?: number },
    ): Promise<T> => {
      for (let tries = 1; ; tries++) {
        if (offline) throw new TerminalError('E_TRANSPORT', 'the terminal is offline (fleet soak)');
        const i = at % clients.length;
        try {
          return await clients[i]!.call<T>(method, path, body, init);
        } catch (e) {
          if (!isTerminalError(e) || !RETRYABLE.has(e.code) || tries >= clients.length) throw e;
          at = i + 1;
        }
      }
    },
  };

  const slots = createSimulatedSlots({ waitingTimeMs: config.waitingTimeMs });
  const services = await startTerminalServices(config, {
    slots,
    afterJournalAppend: () => tick('journal'),
    hostClient: link,
  });
  const identity = services.host!.identity;
  const caCertificateDer = readCa(config.caCertificate);
  const clientOf = (url: string) =>
    new HostClient({
      baseUrl: url,
      caCertificateDer,
      pins: host.pins,
      terminal: { terminalId: host.terminalId, privateKey: identity.privateKey },
      timeoutMs: host.timeoutMs,
    });
  clients = urls.map(clientOf);
  const uploader = new JournalUploader({
    db: services.db,
    client: link,
    batchSize: env.batchSize,
    intervalMs: env.intervalMs,
    baseDelayMs: env.intervalMs,
    maxDelayMs: env.intervalMs * 4,
  });
  // What recovery did since the soak last asked: foreign records adopted, flows settled, failures,
  // and the release proofs the terminal services fetched from the host and the payer card took.
  let recovered = { adopted: 0, settled: 0, failed: 0, refunded: 0 };
  let delivered = 0;
  services.recovery.on((e) => {
    // A fetch from a host that cannot be reached (offline, an instance killed) is retried at the
    // next insertion: not a failed pass.
    if (e.type === 'error') {
      if (e.trigger !== 'delivery') recovered.failed++;
    } else {
      recovered.adopted += e.run.adopted;
      recovered.settled += e.run.transfers.length + e.run.contents.length;
      // A payer card that took a release proof (here, whichever terminal released it).
      recovered.refunded += e.run.transfers.filter(
        (t) => services.journal.entriesForFlow(t.flowId).at(-1)?.step === 'refunded',
      ).length;
      if (e.trigger === 'delivery')
        delivered += e.run.transfers.filter(
          (t) => services.journal.entriesForFlow(t.flowId)[0]?.payload.origin === 'delivered',
        ).length;
    }
  });
  const takeRecovered = () => {
    const r = recovered;
    recovered = { adopted: 0, settled: 0, failed: 0, refunded: 0 };
    return r;
  };
  await services.recovery.start();
  uploader.start();

  const held = new Map<SlotName, { release(): void; holderId: string; file: string }>();
  const remove = async (slot: SlotName) => {
    const h = held.get(slot);
    if (!h) return;
    await services.recovery.settled();
    slots.remove(slot);
    held.delete(slot);
    h.release();
  };

  const handlers = {
    async insert(c: Extract<FleetCommand, { cmd: 'insert' }>) {
      await remove(c.slot);
      const h = openCard(c.file); // E_CARD_IN_USE while another terminal holds it
      const holderId = loadCardState(c.file).holderId.toUpperCase();
      const os = h.card.os;
      const transmit = os.transmit.bind(os);
      os.transmit = (apdu) => {
        const answer = transmit(apdu);
        tick('apdu');
        return answer;
      };
      held.set(c.slot, { release: h.release, holderId, file: c.file });
      slots.insert(c.slot, os);
      await new Promise((r) => setImmediate(r));
      // The insertion's recovery pass, then the release proofs it fetched from the host (the product's
      // own path: terminal-services.ts), delivered.
      await services.recovery.settled();
      await services.releaseProofs!.settled();
      const proofs = delivered;
      delivered = 0;
      return { holderId, delivered: proofs, recovered: takeRecovered() };
    },
    async remove(c: Extract<FleetCommand, { cmd: 'remove' }>) {
      await remove(c.slot);
      return {};
    },
    async operate(c: Extract<FleetCommand, { cmd: 'operate' }>) {
      await services.recovery.settled();
      apdus = 0;
      journalWrites = 0;
      count = 0;
      armed = c.kill;
      try {
        const outcome = (await runOperation(services, c.op, env.pin)) as {
          status?: string;
          error?: unknown;
        };
        return {
          status: outcome.status ?? 'unknown',
          ...(outcome.error ? { code: toTerminalError(outcome.error).code } : {}),
          apdus,
          journalWrites,
        };
      } catch (e) {
        return { status: 'threw', code: toTerminalError(e).code, apdus, journalWrites };
      } finally {
        armed = undefined;
      }
    },
    async recover() {
      await services.recovery.settled();
      await services.recovery.run('on-demand');
      await services.releaseProofs!.settled();
      const open = services.recovery.inDoubt();
      return {
        recovered: takeRecovered(),
        open: open.transfers.length + open.deliveries.length + open.contents.length,
      };
    },
    sync: () => uploader.sync(),
    async offline(c: Extract<FleetCommand, { cmd: 'offline' }>) {
      offline = c.offline;
      return {};
    },
    async hosts(c: Extract<FleetCommand, { cmd: 'hosts' }>) {
      for (const client of clients) client.close();
      urls = c.urls;
      clients = urls.map(clientOf);
      return {};
    },
    async stop() {
      uploader.stop();
      for (const slot of SLOTS) await remove(slot);
      await services.close();
      for (const client of clients) client.close();
      setImmediate(() => process.exit(0));
      return {};
    },
  } as const;

  // One command at a time, in order: the soak never sends two at once, but a queue keeps it so.
  let queue: Promise<unknown> = Promise.resolve();
  process.on('message', (m: { id: number } & FleetCommand) => {
    queue = queue.then(async () => {
      try {
        const handler = handlers[m.cmd] as (c: FleetCommand) => Promise<unknown>;
        const result = await handler(m);
        process.send?.({ id: m.id, ok: true, result });
      } catch (e) {
        const error = toTerminalError(e);
        process.send?.({ id: m.id, ok: false, error: { code: error.code, message: error.message } });
      }
    });
  });
  process.on('disconnect', () => process.exit(0)); // the soak is gone: so is this terminal
  process.send?.({ ready: true, terminalId: host.terminalId, publicKey: toHex(identity.publicKey) });
}

function readCa(path: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(path));
  return bytes[0] === 0x30 ? bytes : fromPem(new TextDecoder().decode(bytes));
}

main().catch((e: unknown) => {
  const error = toTerminalError(e);
  process.send?.({ ready: false, error: { code: error.code, message: error.message } });
  setImmediate(() => process.exit(1));
});
