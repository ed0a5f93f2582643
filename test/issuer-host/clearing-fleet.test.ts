// A small fleet through clearing, with faults (issue 12 §4, the host's side): one PostgreSQL, two host
// instances, three terminals in two shops with real journals and their background uploaders, twelve
// cards. Faults: a host instance stopped while terminals upload (their link fails over to the other),
// PostgreSQL killed and restarted mid-upload, a terminal offline for a week of sales then back, a
// replayed and an edited upload. Invariants: the ledger balances; every card's ledger balance is what
// the journals moved; the host holds each terminal's chain up to its head with the same hash (no
// upload lost, none booked twice); the fleet's totals equal the sum of the terminals' own days.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flows } from '../../db/flows.js';
import { JournalUploader } from '../../electron/services/host-link/journal-uploader.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { isTerminalError } from '../../protocol/errors.js';
import { CLEARING_UPLOAD_PATH } from '../../protocol/host-link/clearing-wire.js';
import type { HostClient } from '../../protocol/host-link/host-client.js';
import { runFleetJournalSoak } from '../campaign/fleet-journal-soak.js';
import {
  cardId,
  editedEntry,
  journalTransfer,
  openTestJournal,
  removeTestJournals,
  type TestJournal,
  type TransferEnd,
} from './clearing-fixtures.js';
import { useHostDatabases } from './host-db-fixtures.js';
import {
  issuerWorld,
  plainClient,
  type RunningHost,
  registeredTerminal,
  startHost,
  type TestTerminal,
} from './host-fixtures.js';

const dbs = useHostDatabases({ embedded: false });
const world = issuerWorld('Clearing Fleet Test');
const RETRYABLE = new Set(['E_TRANSPORT', 'E_TRANSPORT_TIMEOUT', 'E_HOST_DB']);

/** A terminal's link to two instances: on a transport or database failure, the next one. */
function failover(clients: HostClient[]): Pick<HostClient, 'call'> {
  let i = 0;
  return {
    call: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      for (let tries = 1; ; tries++) {
        try {
          return await clients[i]!.call<T>(method, path, body);
        } catch (e) {
          if (!isTerminalError(e) || !RETRYABLE.has(e.code) || tries >= clients.length) throw e;
          i = (i + 1) % clients.length;
        }
      }
    },
  };
}

interface Till {
  id: string;
  shop: string;
  terminal: TestTerminal;
  j: TestJournal;
  uploader: JournalUploader;
}

describe('a fleet of three terminals, two host instances, one PostgreSQL, with faults', () => {
  let db: HostDatabase;
  let hosts: RunningHost[];
  const tills: Till[] = [];
  const cards = Array.from({ length: 12 }, cardId);
  /** What the journals moved, per card: the ledger must say the same. */
  const moved = new Map<string, number>();
  const move = (payer: string, payee: string, amount: number) => {
    moved.set(payer, (moved.get(payer) ?? 0) - amount);
    moved.set(payee, (moved.get(payee) ?? 0) + amount);
  };
  let k = 0;
  const sell = (t: Till, end: TransferEnd) => {
    const payer = cards[k % 12]!;
    const payee = cards[(k * 5 + 1) % 12]!;
    const amount = 100 + ((k * 37) % 900);
    k++;
    const r = journalTransfer(t.j, { payerId: payer, payeeId: payee, amount }, end);
    if (end === 'completed' || end === 'credited') move(payer, payee, amount);
    return { ...r, payer, payee, amount };
  };
  const syncAll = async () => {
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all(tills.map((t) => t.uploader.sync()));
      if (results.every((r) => r.ok && r.waiting === 0)) return;
    }
    throw new Error('the fleet did not catch up');
  };

  beforeAll(async () => {
    db = await dbs.fresh('postgres');
    const second = await dbs.reopen(db);
    hosts = [await startHost({ db, world }), await startHost({ db: second, world })];
    for (const [id, shop] of [
      ['till-1', 'shop-north'],
      ['till-2', 'shop-north'],
      ['till-3', 'shop-south'],
    ] as const) {
      const terminal = await registeredTerminal(db, id, shop);
      const j = openTestJournal(undefined, Date.UTC(2026, 11, 6, 8));
      const client = failover(hosts.map((h) => plainClient(h, world, terminal)));
      tills.push({
        id,
        shop,
        terminal,
        j,
        uploader: new JournalUploader({ db: j.db, client, batchSize: 7 }),
      });
    }
  }, 120_000);
  afterAll(async () => {
    for (const t of tills) t.j.close();
    for (const h of hosts) await h.close().catch(() => {});
    removeTestJournals();
  });

  it('clears every sale once through instance and database failures, and reconciles', async () => {
    const ends: TransferEnd[] = [
      'completed',
      'completed',
      'refunded',
      'rolled-back',
      'completed',
      'credited',
    ];
    for (let i = 0; i < 30; i++) sell(tills[i % 3]!, ends[i % ends.length]!);
    // A transfer begun at till 1 and left in doubt, completed at till 3 (the card turned up there).
    const doubt = sell(tills[0]!, 'in-doubt');
    journalTransfer(
      tills[2]!.j,
      { payerId: doubt.payer, payeeId: doubt.payee, amount: doubt.amount, txRandom: doubt.txRandom },
      'completed',
      'found-on-card',
    );
    move(doubt.payer, doubt.payee, doubt.amount);

    // Instance 1 stops while the terminals upload: their links go on at instance 2.
    const first = Promise.all(tills.map((t) => t.uploader.sync()));
    await hosts[0]!.close();
    await first;
    await syncAll();

    // PostgreSQL killed mid-upload and restarted: what committed stays, the rest is sent again.
    for (let i = 0; i < 15; i++) sell(tills[i % 3]!, ends[i % ends.length]!);
    const during = Promise.all(tills.map((t) => t.uploader.sync()));
    await dbs.postgres.restart({ mode: 'kill' });
    const results = await during;
    expect(results.every((r) => r.ok || RETRYABLE.has(r.error!.code))).toBe(true);
    await syncAll();

    // Till 3 offline for a week of sales (its uploader not reaching anyone), then back.
    for (let i = 0; i < 40; i++) sell(tills[2]!, ends[i % ends.length]!);
    expect(tills[2]!.uploader.status().waiting).toBeGreaterThan(100);
    await syncAll();

    // A replayed batch is acknowledged without booking; an edited one is refused.
    const replay = tills[1]!.j.batch(0, 10);
    const client = plainClient(hosts[1]!, world, tills[1]!.terminal);
    expect(await client.call('POST', CLEARING_UPLOAD_PATH, replay)).toMatchObject({
      accepted: 0,
      duplicates: 10,
    });
    replay.entries[3] = editedEntry(replay.entries[3]!, (p) => ({ ...p, amount: 1 }));
    await expect(client.call('POST', CLEARING_UPLOAD_PATH, replay)).rejects.toMatchObject({
      code: 'E_UPLOAD_EDITED',
    });

    // Every chain verifies at the host, up to each terminal's head.
    for (const t of tills) {
      const head = t.j.journal.head();
      const [chain] = await db.query<{ last_seq: bigint; head_hash: Uint8Array }>(
        'SELECT last_seq, head_hash FROM clearing_chains WHERE terminal_id = $1',
        [t.id],
      );
      expect([Number(chain!.last_seq), Buffer.from(chain!.head_hash).toString('hex')]).toEqual([
        head.seq,
        head.hash,
      ]);
      expect(t.j.journal.verify()).toMatchObject({ ok: true });
    }
    const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM clearing_entries')) as [{ n: number }];
    expect(n).toBe(tills.reduce((sum, t) => sum + t.j.journal.head().seq, 0));

    // The ledger balances, and each card's balance is what the journals moved.
    const balances = await db.query<{ kind: string; ref: string; balance: string | bigint }>(
      'SELECT kind, ref, balance::bigint AS balance FROM ledger_balances',
    );
    expect(balances.reduce((s, b) => s + BigInt(b.balance), 0n)).toBe(0n);
    for (const card of cards) {
      const row = balances.find((b) => b.kind === 'card' && b.ref === card);
      expect([card, BigInt(row?.balance ?? 0)]).toEqual([card, BigInt(moved.get(card) ?? 0)]);
    }
    const inFlight = balances
      .filter((b) => b.kind === 'in-flight')
      .reduce((s, b) => s + BigInt(b.balance), 0n);
    expect(inFlight).toBe(0n); // the one transfer in doubt was completed at another terminal
    expect(await db.query('SELECT * FROM ledger_exceptions')).toEqual([]);

    // Fleet totals equal the sum of the terminals' own days.
    const day = { from: new Date('2026-12-06T00:00:00Z'), to: new Date('2026-12-07T00:00:00Z') };
    const [posted] = await db.query<{ amount: string | bigint }>(
      `SELECT COALESCE(sum(amount), 0)::bigint AS amount FROM ledger_transfers
        WHERE phase = 'post' AND entry_at >= $1 AND entry_at < $2`,
      [day.from, day.to],
    );
    const own = tills
      .flatMap((t) => new Flows(t.j.db).summary(day).lines)
      .filter((l) => l.kind === 'value-transfer' && l.outcome === 'completed')
      .reduce((s, l) => s + l.amount, 0);
    // Posted: the terminals' completed transfers and those delivered but not yet acknowledged
    // (open in their day), less the one transfer two terminals journaled (open at till 1, completed at
    // till 3): the ledger has it once.
    expect(BigInt(posted!.amount)).toBe(BigInt(own + openDelivered(tills, day) - doubt.amount));
  }, 240_000);
});

/** Value transfers still open in the terminals' day (delivered but not acknowledged, or in doubt). */
function openDelivered(tills: Till[], day: { from: Date; to: Date }): number {
  return tills
    .flatMap((t) => new Flows(t.j.db).summary(day).lines)
    .filter((l) => l.kind === 'value-transfer' && l.outcome === 'open')
    .reduce((s, l) => s + l.amount, 0);
}

describe('the journal-only fleet tier of the soak command, quick run (npm run soak -- --tier fleet-journals)', () => {
  it('holds every invariant through seeded sales and faults', async () => {
    const report = await runFleetJournalSoak({ seed: 20261206, rounds: 5 });
    expect(report.violations).toEqual([]);
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBe(5);
    expect(report.transfers).toBeGreaterThan(10);
  }, 240_000);
});
