// Fleet end of day from the ledger (GET /admin/reports/end-of-day), on both backends: three terminals
// in two shops journal transfers (completed, refunded, rolled back before DEBIT, in doubt, and one
// begun at one terminal and completed at another); the report's line of each terminal reconciles to
// the cent with that terminal's own summary of the day (Flows.summary), the shops' with their
// terminals', the issuer's with the shops'.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Flows } from '../../db/flows.js';
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
  staffToken,
  startHost,
} from './host-fixtures.js';

const dbs = useHostDatabases();
const world = issuerWorld('Clearing Reports Test');
afterAll(() => removeTestJournals());

interface Totals {
  count: number;
  amount: string;
}
interface Line {
  currency: number;
  posted: Totals;
  voided: Totals;
  pending: Totals;
}
interface Report {
  terminals: (Line & { terminalId: string; shopId: string })[];
  shops: (Line & { shopId: string; inFlight: string })[];
  issuer: (Line & { inFlight: string })[];
}

describe.each(BACKENDS)('fleet reports on %s', (backend) => {
  let db: HostDatabase;
  let host: RunningHost;
  const tills: Record<string, { client: HostClient; j: TestJournal; shop: string }> = {};
  let auditor: string;
  const day = { from: new Date('2026-12-06T00:00:00Z'), to: new Date('2026-12-07T00:00:00Z') };

  beforeEach(async () => {
    db = await dbs.fresh(backend);
    host = await startHost({ db, world });
    for (const [id, shop, start] of [
      ['till-a', 'shop-a', Date.UTC(2026, 11, 6, 9)],
      ['till-b', 'shop-a', Date.UTC(2026, 11, 6, 10)],
      ['till-c', 'shop-b', Date.UTC(2026, 11, 6, 11)],
    ] as const) {
      const t = await registeredTerminal(db, id, shop);
      tills[id] = { client: plainClient(host, world, t), j: openTestJournal(undefined, start), shop };
    }
    auditor = await staffToken(db, 'auditor');
  });
  afterEach(async () => {
    for (const t of Object.values(tills)) t.j.close();
    await host.close();
  });

  it('reconciles each terminal, shop and the issuer to the cent with the terminals’ own day', async () => {
    const cards = Array.from({ length: 6 }, cardId);
    const ends = ['completed', 'completed', 'refunded', 'rolled-back', 'in-doubt', 'completed'] as const;
    let k = 0;
    for (const id of Object.keys(tills)) {
      for (let i = 0; i < 9; i++, k++) {
        journalTransfer(
          tills[id]!.j,
          { payerId: cards[k % 6]!, payeeId: cards[(k + 1) % 6]!, amount: 101 + 37 * k },
          ends[k % ends.length],
        );
      }
    }
    // Begun at till A (in doubt), completed at till C in the other shop.
    const { txRandom } = journalTransfer(
      tills['till-a']!.j,
      { payerId: cards[0]!, payeeId: cards[3]!, amount: 999 },
      'in-doubt',
    );
    journalTransfer(
      tills['till-c']!.j,
      { payerId: cards[0]!, payeeId: cards[3]!, amount: 999, txRandom },
      'completed',
      'found-on-card',
    );
    for (const t of Object.values(tills))
      await t.client.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, t.j.batch(0));

    const response = await fetch(
      `${host.url}/admin/reports/end-of-day?from=${day.from.toISOString()}&to=${day.to.toISOString()}`,
      { headers: { authorization: `Bearer ${auditor}` } },
    );
    expect(response.status).toBe(200);
    const report = (await response.json()) as Report;

    const sum = (xs: Totals[]) => ({
      count: xs.reduce((n, x) => n + x.count, 0),
      amount: xs.reduce((n, x) => n + BigInt(x.amount), 0n).toString(),
    });
    for (const [id, t] of Object.entries(tills)) {
      const own = new Flows(t.j.db).summary(day).lines.filter((l) => l.kind === 'value-transfer');
      const of = (outcome: string) => {
        const ls = own.filter((l) => l.outcome === outcome);
        return {
          count: ls.reduce((n, l) => n + l.count, 0),
          amount: ls.reduce((n, l) => n + l.amount, 0).toString(),
        };
      };
      const line = report.terminals.find((l) => l.terminalId === id)!;
      expect({ id, posted: line.posted, voided: line.voided }).toEqual({
        id,
        posted: of('completed'),
        voided: of('refunded'),
      });
      expect(line.shopId).toBe(t.shop);
    }
    for (const shop of report.shops) {
      const mine = report.terminals.filter((t) => t.shopId === shop.shopId);
      expect(shop.posted).toEqual(sum(mine.map((t) => t.posted)));
      expect(shop.voided).toEqual(sum(mine.map((t) => t.voided)));
      expect(shop.pending).toEqual(sum(mine.map((t) => t.pending)));
    }
    const [issuer] = report.issuer;
    expect(issuer!.posted).toEqual(sum(report.shops.map((s) => s.posted)));
    expect(issuer!.voided).toEqual(sum(report.shops.map((s) => s.voided)));
    // In flight at the day's end: the transfers still in doubt, nothing else.
    const amountOf = (k: number) => 101 + 37 * k;
    const inDoubt = [4, 10, 16, 22].map(amountOf).reduce((a, b) => a + b, 0);
    expect(issuer!.inFlight).toBe(String(inDoubt));
    expect(report.shops.find((s) => s.shopId === 'shop-a')!.inFlight).toBe(
      String(amountOf(4) + amountOf(10) + amountOf(16)),
    );
    // The cross-terminal transfer: pending at till A, posted by till C, once.
    const rows = await db.query<{ phase: string; terminal_id: string }>(
      'SELECT phase, terminal_id FROM ledger_transfers WHERE transfer_key = $1 ORDER BY transfer_id',
      [`${cards[0]}:${txRandom}`],
    );
    expect(rows).toEqual([
      { phase: 'pending', terminal_id: 'till-a' },
      { phase: 'post', terminal_id: 'till-c' },
    ]);

    const bad = await fetch(
      `${host.url}/admin/reports/end-of-day?from=${day.to.toISOString()}&to=${day.from.toISOString()}`,
      {
        headers: { authorization: `Bearer ${auditor}` },
      },
    );
    expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([400, 'E_INPUT_INVALID']);
  });
});
