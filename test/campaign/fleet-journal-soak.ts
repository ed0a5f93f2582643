// The journal-only fleet tier of the soak command (`npm run soak -- --tier fleet-journals --seed S
// [--rounds N]`), issue 12 §4 on the clearing side, at volume: one PostgreSQL (the test harness's), two host instances, three terminals
// with real journals and their background uploaders (a link that fails over between the instances),
// twelve cards. Each round the terminals sell (seeded: completed, refunded, rolled back, delivered
// but unacknowledged, now and then a transfer left in doubt at one terminal and completed at another)
// and one seeded fault strikes: a host instance stopped mid-upload (and a new one started), PostgreSQL
// killed mid-upload, a terminal offline for the round, a replayed batch, an edited batch. At the end
// every terminal catches up and the invariants are checked: the ledger sums to zero; each card's
// ledger balance is what the journals moved; nothing is left in flight that no journal left in
// doubt; no exception; the host holds each chain up to the terminal's head with its hash and each
// entry once; the posted total equals the terminals' own days. Cards are journaled, not simulated
// (the `fleet` tier, fleet-soak.ts, runs terminal processes with simulated cards): this tier clears
// hundreds of transfers a minute, with PostgreSQL killed mid-upload, where the process tier clears
// tens.
import type { FastifyInstance } from 'fastify';
import { Flows } from '../../db/flows.js';
import { JournalUploader } from '../../electron/services/host-link/journal-uploader.js';
import { type HostDatabase, openHostDatabase } from '../../issuer-host/db/host-database.js';
import { TerminalRegistry } from '../../issuer-host/db/terminal-registry.js';
import { createHostServer } from '../../issuer-host/server/host-server.js';
import { generateP256KeyPair, type KeyPair } from '../../protocol/crypto-suite.js';
import { isTerminalError } from '../../protocol/errors.js';
import { CLEARING_UPLOAD_PATH, type UploadResponse } from '../../protocol/host-link/clearing-wire.js';
import { HostClient } from '../../protocol/host-link/host-client.js';
import {
  cardId,
  editedEntry,
  journalTransfer,
  openTestJournal,
  removeTestJournals,
  type TestJournal,
  type TransferEnd,
} from '../issuer-host/clearing-fixtures.js';
import { issuerWorld } from '../issuer-host/host-fixtures.js';
import { startPostgres } from '../support/postgres-harness.js';
import { fleetSoakArguments } from './fleet-soak.js';
import { SeededRandom } from './seeded-random.js';

export const FLEET_JOURNAL_FAULTS = [
  'instance-stopped',
  'postgres-killed',
  'terminal-offline',
  'replay',
  'edited',
] as const;
type Fault = (typeof FLEET_JOURNAL_FAULTS)[number];
const RETRYABLE = new Set(['E_TRANSPORT', 'E_TRANSPORT_TIMEOUT', 'E_HOST_DB']);
const ENDS: TransferEnd[] = ['completed', 'completed', 'completed', 'refunded', 'rolled-back', 'credited'];

export interface FleetJournalSoakReport {
  seed: number;
  rounds: number;
  entries: number;
  transfers: number;
  faults: Record<string, number>;
  violations: string[];
}

interface Instance {
  app: FastifyInstance;
  url: string;
}

interface Till {
  id: string;
  keys: KeyPair;
  j: TestJournal;
  uploader: JournalUploader;
}

export async function runFleetJournalSoak(o: {
  seed: number;
  rounds: number;
  log?: (line: string) => void;
}): Promise<FleetJournalSoakReport> {
  const random = new SeededRandom(o.seed);
  /** Uniform in [0, n). */
  const below = (n: number) => random.int(0, n - 1);
  const log = o.log ?? (() => {});
  const world = issuerWorld('Fleet Soak');
  const pg = await startPostgres();
  const dbs: HostDatabase[] = [];
  const instances: (Instance | undefined)[] = [];
  const tills: Till[] = [];
  const faults: Record<string, number> = {};
  const violations: string[] = [];
  try {
    const url = await pg.createDatabase();
    dbs.push(await openHostDatabase({ url }), await openHostDatabase({ url }));
    const startInstance = async (i: number) => {
      const app = await createHostServer({ db: dbs[i]!, caCertificateDer: world.caDer });
      await app.listen({ host: '127.0.0.1', port: 0 });
      instances[i] = { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
    };
    await startInstance(0);
    await startInstance(1);
    const registry = new TerminalRegistry(dbs[0]!);
    for (const shop of ['shop-north', 'shop-south'])
      await registry.createShop({ shopId: shop, name: shop, actor: 'cli' });
    const clientOf = (keys: KeyPair, id: string, i: number) =>
      new HostClient({
        baseUrl: instances[i]!.url,
        caCertificateDer: world.caDer,
        pins: [],
        allowPlainHttp: true,
        timeoutMs: 60_000,
        terminal: { terminalId: id, privateKey: keys.privateKey },
      });
    for (const [n, shop] of [
      [1, 'shop-north'],
      [2, 'shop-north'],
      [3, 'shop-south'],
    ] as const) {
      const id = `till-${n}`;
      const keys = generateP256KeyPair();
      await registry.register({ terminalId: id, shopId: shop, publicKey: keys.publicKey, actor: 'cli' });
      const j = openTestJournal(undefined, Date.UTC(2026, 11, 6, 6));
      // The link follows the instances as they are now (one may be stopped, or replaced).
      let at = n % 2;
      const client = {
        call: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
          for (let tries = 1; ; tries++) {
            try {
              if (!instances[at]) throw Object.assign(new Error('stopped'), { code: 'E_TRANSPORT' });
              const c = clientOf(keys, id, at);
              try {
                return await c.call<T>(method, path, body);
              } finally {
                c.close();
              }
            } catch (e) {
              const code = isTerminalError(e) ? e.code : (e as { code?: string }).code;
              at = (at + 1) % 2;
              if (!RETRYABLE.has(code ?? '') || tries >= 4) throw e;
            }
          }
        },
      };
      tills.push({
        id,
        keys,
        j,
        uploader: new JournalUploader({ db: j.db, client, batchSize: 1 + below(20) }),
      });
    }

    const cards = Array.from({ length: 12 }, cardId);
    const moved = new Map<string, number>();
    let transfers = 0;
    let twice = 0; // amounts of transfers journaled open at one terminal and completed at another
    const sell = (t: Till) => {
      const payer = cards[below(12)]!;
      let payee = cards[below(12)]!;
      if (payee === payer) payee = cards[(cards.indexOf(payer) + 1) % 12]!;
      const amount = 1 + below(5000);
      const end = ENDS[below(ENDS.length)]!;
      transfers++;
      if (below(10) === 0) {
        const r = journalTransfer(t.j, { payerId: payer, payeeId: payee, amount }, 'in-doubt');
        const other = tills[(tills.indexOf(t) + 1 + below(2)) % 3]!;
        journalTransfer(
          other.j,
          { payerId: payer, payeeId: payee, amount, txRandom: r.txRandom },
          'completed',
          'found-on-card',
        );
        twice += amount;
      } else {
        journalTransfer(t.j, { payerId: payer, payeeId: payee, amount }, end);
        if (end !== 'completed' && end !== 'credited') return;
      }
      moved.set(payer, (moved.get(payer) ?? 0) - amount);
      moved.set(payee, (moved.get(payee) ?? 0) + amount);
    };

    for (let round = 0; round < o.rounds; round++) {
      for (const t of tills) for (let i = below(12); i >= 0; i--) sell(t);
      const fault = FLEET_JOURNAL_FAULTS[below(FLEET_JOURNAL_FAULTS.length)]! as Fault;
      faults[fault] = (faults[fault] ?? 0) + 1;
      const offline = fault === 'terminal-offline' ? tills[below(3)] : undefined;
      const syncing = Promise.all(tills.filter((t) => t !== offline).map((t) => t.uploader.sync()));
      if (fault === 'instance-stopped') {
        const i = below(2);
        const stopping = instances[i]!;
        instances[i] = undefined;
        await stopping.app.close();
        await syncing;
        await startInstance(i);
      } else if (fault === 'postgres-killed') {
        await pg.restart({ mode: 'kill' });
        await syncing;
      } else {
        await syncing;
      }
      if (fault === 'replay' || fault === 'edited') {
        const t = tills[below(3)]!;
        const acked = t.uploader.status().ackedSeq;
        if (acked > 0) {
          const batch = t.j.batch(below(acked), 1 + below(5));
          const c = clientOf(t.keys, t.id, below(2));
          try {
            if (fault === 'replay') {
              const held = batch.entries.filter((e) => e.seq <= acked).length;
              const r = await c.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, batch);
              if (r.duplicates !== held)
                violations.push(`round ${round}: a replayed batch booked ${r.accepted} entries again`);
            } else {
              batch.entries[0] = editedEntry(batch.entries[0]!, (p) => ({ ...p, tampered: true }));
              const refused = await c.call('POST', CLEARING_UPLOAD_PATH, batch).then(
                () => undefined,
                (e: unknown) => (isTerminalError(e) ? e.code : String(e)),
              );
              if (refused !== 'E_UPLOAD_EDITED')
                violations.push(`round ${round}: an edited batch was answered ${refused ?? 'ok'}`);
            }
          } finally {
            c.close();
          }
        }
      }
      log(`round ${round + 1}/${o.rounds}: ${fault}`);
    }

    // Everyone back: catch up.
    for (let pass = 0; ; pass++) {
      const results = await Promise.all(tills.map((t) => t.uploader.sync()));
      if (results.every((r) => r.ok && r.waiting === 0)) break;
      if (pass > 30) {
        violations.push(`the fleet did not catch up: ${JSON.stringify(results.map((r) => r.error))}`);
        break;
      }
    }
    const db = dbs[0]!;
    let entries = 0;
    for (const t of tills) {
      const head = t.j.journal.head();
      entries += head.seq;
      const [chain] = await db.query<{ last_seq: bigint; head_hash: Uint8Array }>(
        'SELECT last_seq, head_hash FROM clearing_chains WHERE terminal_id = $1',
        [t.id],
      );
      const held = chain ? [Number(chain.last_seq), Buffer.from(chain.head_hash).toString('hex')] : [0, ''];
      if (held[0] !== head.seq || held[1] !== head.hash)
        violations.push(
          `${t.id}: the host holds its chain to ${held[0]}, the terminal's head is ${head.seq}`,
        );
      if (!t.j.journal.verify().ok) violations.push(`${t.id}: its journal does not verify`);
    }
    const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM clearing_entries')) as [{ n: number }];
    if (n !== entries) violations.push(`the host holds ${n} entries, the terminals wrote ${entries}`);
    const balances = await db.query<{ kind: string; ref: string; balance: string | bigint }>(
      'SELECT kind, ref, balance::bigint AS balance FROM ledger_balances',
    );
    const sum = balances.reduce((s, b) => s + BigInt(b.balance), 0n);
    if (sum !== 0n) violations.push(`the ledger sums to ${sum}, not 0`);
    for (const card of cards) {
      const booked = BigInt(balances.find((b) => b.kind === 'card' && b.ref === card)?.balance ?? 0);
      if (booked !== BigInt(moved.get(card) ?? 0))
        violations.push(`card ${card}: ledger ${booked}, journals moved ${moved.get(card) ?? 0}`);
    }
    const inFlight = balances
      .filter((b) => b.kind === 'in-flight')
      .reduce((s, b) => s + BigInt(b.balance), 0n);
    if (inFlight !== 0n) violations.push(`${inFlight} left in flight`);
    const exceptions = await db.query('SELECT kind FROM ledger_exceptions');
    if (exceptions.length > 0) violations.push(`${exceptions.length} ledger exceptions`);
    const day = { from: new Date('2026-12-06T00:00:00Z'), to: new Date('2026-12-07T00:00:00Z') };
    const [posted] = await db.query<{ amount: string | bigint }>(
      `SELECT COALESCE(sum(amount), 0)::bigint AS amount FROM ledger_transfers
        WHERE phase = 'post' AND entry_at >= $1 AND entry_at < $2`,
      [day.from, day.to],
    );
    const own = tills
      .flatMap((t) => new Flows(t.j.db).summary(day).lines)
      .filter((l) => l.kind === 'value-transfer' && (l.outcome === 'completed' || l.outcome === 'open'))
      .reduce((s, l) => s + l.amount, 0);
    if (BigInt(posted!.amount) !== BigInt(own - twice))
      violations.push(`posted ${posted!.amount}, the terminals' days ${own - twice}`);
    return { seed: o.seed, rounds: o.rounds, entries, transfers, faults, violations };
  } finally {
    for (const t of tills) t.j.close();
    for (const i of instances) await i?.app.close();
    for (const db of dbs) await db.close().catch(() => {});
    await pg.stop();
    removeTestJournals();
  }
}

/** `npm run soak -- --tier fleet-journals --seed S [--rounds N]`: exit code 0 when no invariant broke. */
export async function fleetJournalSoakMain(argv: string[]): Promise<number> {
  const { seed, rounds } = fleetSoakArguments(argv);
  const started = Date.now();
  const report = await runFleetJournalSoak({ seed, rounds, log: (line) => console.error(line) });
  console.log(
    [
      `fleet soak (journals), seed ${seed}: ${rounds} rounds, ${report.transfers} transfers, ${report.entries} entries in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  faults: ${Object.entries(report.faults)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      `  violations: ${report.violations.length}`,
      ...report.violations.map((v) => `    ${v}`),
      ...(report.violations.length > 0
        ? [`    replay: npm run soak -- --tier fleet-journals --seed ${seed} --rounds ${rounds}`]
        : []),
    ].join('\n'),
  );
  return report.violations.length === 0 ? 0 : 1;
}
