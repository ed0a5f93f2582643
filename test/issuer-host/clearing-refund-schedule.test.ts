// The refund-case scan on a schedule (docs/issuer-host.md, "Refund cases"): two host instances on one
// database, each scanning every 100 ms, open exactly one case per transfer in doubt past the age and
// none for younger ones (both backends: on embedded PostgreSQL the two instances share the one
// connection); one scan at a time (the advisory lock: a second scanner skips, or waits when staff
// ask); a failing scan is logged and retried at the next tick; closing the server stops the timer.
import { afterAll, describe, expect, it } from 'vitest';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { openDueCases } from '../../issuer-host/ledger/refund-cases.js';
import { scheduleRefundScan } from '../../issuer-host/ledger/refund-scan-schedule.js';
import { TerminalError } from '../../protocol/errors.js';
import { CLEARING_UPLOAD_PATH, type UploadResponse } from '../../protocol/host-link/clearing-wire.js';
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
} from './host-fixtures.js';

const dbs = useHostDatabases();
const world = issuerWorld('Refund Schedule Test');
afterAll(() => removeTestJournals());
const DAY = 86_400_000;
const AGE = 30 * DAY;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

const caseKeys = async (db: HostDatabase) =>
  (await db.query<{ transfer_key: string }>('SELECT transfer_key FROM refund_cases ORDER BY case_id')).map(
    (r) => r.transfer_key,
  );

/** Journals `n` transfers left in doubt (and one completed) by a new terminal whose day began at `start`. */
async function inDoubt(db: HostDatabase, host: RunningHost, terminalId: string, start: number, n: number) {
  const terminal = await registeredTerminal(db, terminalId, `shop-${terminalId}`);
  const j = openTestJournal(undefined, start);
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const payerId = cardId();
    keys.push(
      `${payerId}:${journalTransfer(j, { payerId, payeeId: cardId(), amount: 10 + i }, 'in-doubt').txRandom}`,
    );
  }
  journalTransfer(j, { payerId: cardId(), payeeId: cardId(), amount: 3 });
  const sent = await upload(host, terminal, j, 0);
  return { keys, terminal, j, sent };
}

/** Uploads the journal's entries after `afterSeq`; returns the host's last seq. */
async function upload(
  host: RunningHost,
  terminal: Awaited<ReturnType<typeof registeredTerminal>>,
  j: TestJournal,
  afterSeq: number,
): Promise<number> {
  const client = plainClient(host, world, terminal);
  try {
    return (await client.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, j.batch(afterSeq))).lastSeq;
  } finally {
    client.close();
  }
}

describe.each(BACKENDS)('the scheduled refund-case scan on %s', (backend) => {
  it('two instances open exactly one case per transfer in doubt past the age, none for younger ones', async () => {
    const a = await dbs.fresh(backend);
    const b = backend === 'postgres' ? await dbs.reopen(a) : a;
    const options = { world, refundAfterMs: AGE, refundScanIntervalMs: 100 };
    const hosts = [await startHost({ ...options, db: a }), await startHost({ ...options, db: b })];
    const journals: TestJournal[] = [];
    try {
      const old = await inDoubt(a, hosts[0]!, 'till-old', Date.now() - 40 * DAY, 3);
      const young = await inDoubt(b, hosts[1]!, 'till-young', Date.now() - DAY, 2);
      journals.push(old.j, young.j);
      await until(
        'the cases',
        () => caseKeys(a),
        (k) => k.length >= 3,
      );
      await sleep(1000); // some ten more ticks of each instance
      expect((await caseKeys(a)).sort()).toEqual([...old.keys].sort());

      // The schedule goes on: a transfer left in doubt long ago, uploaded now, gets its case.
      const payerId = cardId();
      const late = journalTransfer(old.j, { payerId, payeeId: cardId(), amount: 99 }, 'in-doubt');
      await upload(hosts[1]!, old.terminal, old.j, old.sent);
      await until(
        'the late case',
        () => caseKeys(a),
        (k) => k.length >= 4,
      );
      await sleep(500);
      expect((await caseKeys(a)).sort()).toEqual([...old.keys, `${payerId}:${late.txRandom}`].sort());
    } finally {
      for (const h of hosts) await h.close();
      for (const j of journals) j.close();
    }
  }, 90_000);
});

describe('one scan at a time', () => {
  it('a scanner that finds the lock taken skips (scheduled) or waits (staff), and no case is made twice', async () => {
    const a = await dbs.fresh('postgres');
    const b = await dbs.reopen(a);
    const host = await startHost({ db: a, world });
    const old = await inDoubt(a, host, 'till-1', Date.now() - 40 * DAY, 2);
    await host.close();
    old.j.close();
    const scan = { now: new Date(), ageMs: AGE };
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = a.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('issuer-host:refund-scan', 0))`);
      locked();
      await new Promise<void>((r) => {
        release = r;
      });
    });
    await isLocked;
    expect(await openDueCases(b, { ...scan, wait: false })).toBeNull();
    let waited: number | null | undefined;
    const waiting = openDueCases(b, scan).then((n) => {
      waited = n;
    });
    await sleep(300);
    expect(waited).toBeUndefined();
    expect(await caseKeys(a)).toEqual([]);
    release();
    await holder;
    await waiting;
    expect(waited).toBe(2);
    expect(await openDueCases(a, { ...scan, wait: false })).toBe(0);
    expect((await caseKeys(a)).sort()).toEqual([...old.keys].sort());
  }, 60_000);
});

describe('the schedule itself', () => {
  it('logs a failed scan, tries again at the next tick, and stops cleanly', async () => {
    const db = await dbs.fresh('embedded');
    let failures = 2;
    let scans = 0;
    const flaky: HostDatabase = {
      ...db,
      transaction: (fn) => {
        scans++;
        if (failures-- > 0) return Promise.reject(new TerminalError('E_HOST_DB', 'the database went away'));
        return db.transaction(fn);
      },
    };
    const errors: string[] = [];
    const schedule = scheduleRefundScan({
      db: flaky,
      intervalMs: 20,
      ageMs: AGE,
      now: Date.now,
      log: { info: () => {}, error: (_fields, message) => errors.push(message) },
    });
    await until(
      'a good scan after the failures',
      async () => scans,
      (n) => n >= 4,
    );
    await schedule.stop();
    expect(errors).toEqual([
      'refund-case scan failed: the database went away',
      'refund-case scan failed: the database went away',
    ]);
    const stoppedAt = scans;
    await sleep(200);
    expect(scans).toBe(stoppedAt);
  });

  it('is stopped when the server closes', async () => {
    const db = await dbs.fresh('embedded');
    let scans = 0;
    const counted: HostDatabase = {
      ...db,
      transaction: (fn) => {
        scans++;
        return db.transaction(fn);
      },
    };
    const host = await startHost({ db: counted, world, refundScanIntervalMs: 20 });
    await until(
      'some scans',
      async () => scans,
      (n) => n >= 2,
    );
    await host.close();
    const closedAt = scans;
    await sleep(200);
    expect(scans).toBe(closedAt);
  });
});
