// The double-entry ledger the uploads are booked into (docs/issuer-host.md, "Ledger"), on both
// backends: pending / post / void per transfer named by payer and Rt, one transfer across
// terminals, nothing booked twice, disagreements kept as exceptions; constraints that refuse an
// unbalanced or second resolution whatever writes it; two host instances racing (PostgreSQL).
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { CLEARING_UPLOAD_PATH, type UploadResponse } from '../../protocol/host-link/clearing-wire.js';
import type { HostClient } from '../../protocol/host-link/host-client.js';
import {
  cardId,
  journalTransfer,
  openTestJournal,
  removeTestJournals,
  type TestJournal,
} from './clearing-fixtures.js';
import { BACKENDS, useHostDatabases } from './host-db-fixtures.js';
import {
  issuerWorld,
  plainClient,
  type RunningHost,
  registeredTerminal,
  startHost,
  type TestTerminal,
} from './host-fixtures.js';

const dbs = useHostDatabases();

async function expectHostDbError(promise: Promise<unknown>, sqlstate: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code: 'E_HOST_DB', details: { sqlstate } });
}
const world = issuerWorld('Clearing Ledger Test');
afterAll(() => removeTestJournals());

interface Till {
  client: HostClient;
  j: TestJournal;
  sent: number;
}

async function sync(till: Till, client = till.client): Promise<UploadResponse> {
  const answer = await client.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, till.j.batch(till.sent));
  till.sent = answer.lastSeq;
  return answer;
}

async function balanceOf(db: HostDatabase, kind: string, ref: string): Promise<bigint> {
  const rows = await db.query<{ balance: string | bigint }>(
    'SELECT balance::bigint AS balance FROM ledger_balances WHERE kind = $1 AND ref = $2',
    [kind, ref],
  );
  return rows.length === 0 ? 0n : BigInt(rows[0]!.balance);
}

async function phases(db: HostDatabase): Promise<string[]> {
  const rows = await db.query<{ transfer_key: string; phase: string }>(
    'SELECT transfer_key, phase FROM ledger_transfers ORDER BY transfer_id',
  );
  return rows.map((r) => r.phase);
}

async function total(db: HostDatabase): Promise<bigint> {
  const [row] = await db.query<{ s: string | bigint }>(
    'SELECT COALESCE(sum(balance), 0)::bigint AS s FROM ledger_balances',
  );
  return BigInt(row!.s);
}

describe.each(BACKENDS)('the ledger on %s', (backend) => {
  let db: HostDatabase;
  let host: RunningHost;
  let a: Till;
  let b: Till;
  let tillA: TestTerminal;
  let tillB: TestTerminal;
  const alice = cardId();
  const bob = cardId();
  const shopCard = cardId();

  beforeEach(async () => {
    db = await dbs.fresh(backend);
    host = await startHost({ db, world });
    tillA = await registeredTerminal(db, 'till-a', 'shop-a');
    tillB = await registeredTerminal(db, 'till-b', 'shop-b');
    a = { client: plainClient(host, world, tillA), j: openTestJournal(), sent: 0 };
    b = { client: plainClient(host, world, tillB), j: openTestJournal(), sent: 0 };
  });
  afterEach(async () => {
    a.j.close();
    b.j.close();
    await host.close();
  });

  it('books a completed transfer pending then posted, a refund voided, a roll-back before DEBIT not at all', async () => {
    journalTransfer(a.j, { payerId: alice, payeeId: shopCard, amount: 250 });
    journalTransfer(a.j, { payerId: bob, payeeId: shopCard, amount: 40 }, 'refunded');
    journalTransfer(a.j, { payerId: bob, payeeId: shopCard, amount: 99 }, 'rolled-back');
    await sync(a);
    expect(await phases(db)).toEqual(['pending', 'post', 'pending', 'void']);
    expect(await balanceOf(db, 'card', alice)).toBe(-250n);
    expect(await balanceOf(db, 'card', shopCard)).toBe(250n);
    expect(await balanceOf(db, 'card', bob)).toBe(0n);
    expect(await balanceOf(db, 'in-flight', 'shop-a')).toBe(0n);
    expect(await total(db)).toBe(0n);
    const [row] = await db.query<{ amount: bigint }>(
      "SELECT amount FROM ledger_transfers WHERE phase = 'post'",
    );
    expect(typeof row!.amount).toBe('bigint');
  });

  it('keeps value in doubt in flight, and one transfer when another terminal recovers it', async () => {
    const { txRandom } = journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: 100 }, 'in-doubt');
    await sync(a);
    expect(await phases(db)).toEqual(['pending']);
    expect(await balanceOf(db, 'in-flight', 'shop-a')).toBe(100n);
    expect(await balanceOf(db, 'card', alice)).toBe(-100n);

    // Bob's card shows at till B with the pending credit: B adopts it and completes it.
    journalTransfer(
      b.j,
      { payerId: alice, payeeId: bob, amount: 100, txRandom },
      'completed',
      'found-on-card',
    );
    await sync(b);
    expect(await phases(db)).toEqual(['pending', 'post']);
    expect(await balanceOf(db, 'in-flight', 'shop-a')).toBe(0n);
    expect(await balanceOf(db, 'card', bob)).toBe(100n);

    // Till A later finishes its own flow too: the same transfer, nothing booked again.
    const flowId = (
      await db.query<{ flow_id: string }>(
        "SELECT flow_id FROM clearing_entries WHERE terminal_id = 'till-a' LIMIT 1",
      )
    )[0]!.flow_id;
    a.j.journal.append({
      flowId,
      flowKind: 'value-transfer',
      step: 'credited',
      payload: { ack: 'AB', payeeSettled: true },
    });
    a.j.journal.append({
      flowId,
      flowKind: 'value-transfer',
      step: 'completed',
      payload: { payerSettled: true },
    });
    await sync(a);
    expect(await phases(db)).toEqual(['pending', 'post']);
    const keys = await db.query<{ transfer_key: string }>(
      'SELECT DISTINCT transfer_key FROM ledger_transfers',
    );
    expect(keys.map((k) => k.transfer_key)).toEqual([`${alice}:${txRandom}`]);
    expect(await total(db)).toBe(0n);
  });

  it('keeps a contradiction between terminals as an exception, booking nothing for it', async () => {
    const { txRandom } = journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: 70 });
    await sync(a);
    journalTransfer(b.j, { payerId: alice, payeeId: bob, amount: 70, txRandom }, 'refunded', 'delivered');
    journalTransfer(b.j, { payerId: alice, payeeId: bob, amount: 71, txRandom }, 'in-doubt', 'found-on-card');
    await sync(b);
    expect(await phases(db)).toEqual(['pending', 'post']);
    const ex = await db.query<{ kind: string; terminal_id: string }>(
      'SELECT kind, terminal_id FROM ledger_exceptions ORDER BY 1',
    );
    expect(ex).toEqual([
      { kind: 'conflicting-resolution', terminal_id: 'till-b' },
      { kind: 'terms-differ', terminal_id: 'till-b' },
    ]);
    expect(await balanceOf(db, 'card', bob)).toBe(70n);
  });

  it('holds, but does not book, terms no card could have written (a hostile or broken terminal)', async () => {
    journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: 10, txRandom: 'AB'.repeat(40) });
    journalTransfer(a.j, { payerId: 'not-a-card', payeeId: bob, amount: 10 });
    journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: -10 });
    journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: 10.5 });
    const flowId = '0b6c6f5e-0000-4000-8000-00000000abcd';
    a.j.journal.append({
      flowId,
      flowKind: 'value-transfer',
      step: 'started',
      payload: { payerId: alice, payeeId: bob, amount: 5, currency: 5000, date: 1 },
    });
    a.j.journal.append({
      flowId,
      flowKind: 'value-transfer',
      step: 'credit-initiated',
      payload: { txRandom: 'CD'.repeat(16) },
    });
    const answer = await sync(a);
    expect(answer.accepted).toBe(22);
    expect(await phases(db)).toEqual([]);
    // The terminal's clearing goes on: the next honest transfer books.
    journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: 10 });
    await sync(a);
    expect(await phases(db)).toEqual(['pending', 'post']);
  });

  it('refuses, whoever writes them, an unbalanced row, a second resolution, a wrong amount, any change', async () => {
    journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: 30 });
    await sync(a);
    const [pending] = await db.query<Record<string, unknown>>(
      "SELECT * FROM ledger_transfers WHERE phase = 'pending'",
    );
    const p = pending!;
    const insert = (over: Record<string, unknown>) => {
      const row = { ...p, ...over };
      return db.query(
        `INSERT INTO ledger_transfers (transfer_key, phase, pending_id, debit_account, credit_account, amount,
           currency, terminal_id, shop_id, seq, flow_id, entry_at, booked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [
          row.transfer_key,
          row.phase,
          row.pending_id,
          row.debit_account,
          row.credit_account,
          row.amount,
          row.currency,
          row.terminal_id,
          row.shop_id,
          row.seq,
          row.flow_id,
          row.entry_at,
          row.booked_at,
        ],
      );
    };
    const key2 = `${bob}:0102030405060708`;
    await expectHostDbError(insert({ transfer_key: key2, credit_account: p.debit_account }), '23514');
    await expectHostDbError(insert({ transfer_key: key2, amount: 0n }), '23514');
    await expectHostDbError(insert({ transfer_key: key2, amount: -5n }), '23514');
    await expectHostDbError(insert({}), '23505'); // a second pending for the transfer
    // A second resolution, one of another amount, one that sends the value elsewhere.
    const resolution = {
      phase: 'void',
      pending_id: p.transfer_id,
      debit_account: p.credit_account,
      credit_account: p.debit_account,
    };
    await expectHostDbError(insert(resolution), '23505');
    await expectHostDbError(insert({ ...resolution, transfer_key: key2 }), 'HS004');
    await expectHostDbError(db.query('UPDATE ledger_transfers SET amount = amount + 1'), 'HS001');
    await expectHostDbError(db.query('DELETE FROM ledger_transfers'), 'HS001');
    await expectHostDbError(db.query('TRUNCATE ledger_transfers CASCADE'), 'HS001');
    expect(await phases(db)).toEqual(['pending', 'post']);
    expect(await total(db)).toBe(0n);
  });

  // Several instances need a server (embedded PostgreSQL is one process's).
  if (backend === 'postgres')
    it('books once when two host instances race on one transfer', async () => {
      const second = await dbs.reopen(db);
      const host2 = await startHost({ db: second, world });
      try {
        const { txRandom } = journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: 500 }, 'credited');
        journalTransfer(
          b.j,
          { payerId: alice, payeeId: bob, amount: 500, txRandom },
          'completed',
          'found-on-card',
        );
        for (let i = 0; i < 5; i++) journalTransfer(a.j, { payerId: bob, payeeId: shopCard, amount: 10 + i });
        // Till A's batch to both instances at once, and till B's at the same time.
        const batchA = a.j.batch(0);
        const results = await Promise.allSettled([
          a.client.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, batchA),
          plainClient(host2, world, tillA).call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, batchA),
          plainClient(host2, world, tillB).call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, b.j.batch(0)),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
        const [r1, r2] = results.map((r) => (r as PromiseFulfilledResult<UploadResponse>).value);
        expect([r1!.accepted + r2!.accepted, r1!.lastSeq, r2!.lastSeq]).toEqual([
          batchA.entries.length,
          batchA.entries.length,
          batchA.entries.length,
        ]);
        const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM clearing_entries')) as [
          { n: number },
        ];
        expect(n).toBe(batchA.entries.length + b.j.batch(0).entries.length);
        const rows = await db.query<{ transfer_key: string; phase: string }>(
          'SELECT transfer_key, phase FROM ledger_transfers ORDER BY transfer_key, phase',
        );
        expect(rows.filter((r) => r.transfer_key === `${alice}:${txRandom}`).map((r) => r.phase)).toEqual([
          'pending',
          'post',
        ]);
        expect(rows.length).toBe(12);
        expect(await db.query('SELECT * FROM ledger_exceptions')).toEqual([]);
        expect(await total(db)).toBe(0n);
      } finally {
        await host2.close();
      }
    });
});
