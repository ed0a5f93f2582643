// The terminal's outbox and background uploader (electron/services/host-link/journal-uploader.ts,
// db/upload-cursor.ts) against a real host, on both backends: a sync uploads what follows the
// cursor in batches; a host that is down is an error recorded, never a journal that stops; the
// terminal catches up when the host is back; a host that lost its rows is sent everything again; a
// fork is reported, not retried in a loop; the background loop uploads without anyone waiting.
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UploadCursor } from '../../db/upload-cursor.js';
import { createHandlers, type HandlerServices } from '../../electron/ipc/handlers.js';
import { JournalUploader } from '../../electron/services/host-link/journal-uploader.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { createHostServer } from '../../issuer-host/server/host-server.js';
import { CLEARING_CURSOR_PATH, type ClearingCursor } from '../../protocol/host-link/clearing-wire.js';
import { fakeServices } from '../ipc/fake-services.js';
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
const world = issuerWorld('Clearing Outbox Test');
afterAll(() => removeTestJournals());

describe.each(BACKENDS)('the terminal outbox against a host on %s', (backend) => {
  let db: HostDatabase;
  let host: RunningHost;
  let terminal: TestTerminal;
  let j: TestJournal;
  let uploader: JournalUploader | undefined;
  const alice = cardId();
  const shop = cardId();

  beforeEach(async () => {
    db = await dbs.fresh(backend);
    host = await startHost({ db, world });
    terminal = await registeredTerminal(db, 'till-1');
    j = openTestJournal();
  });
  afterEach(async () => {
    uploader?.stop();
    uploader = undefined;
    j.close();
    await host.close();
  });

  const make = (o: Partial<ConstructorParameters<typeof JournalUploader>[0]> = {}) => {
    uploader = new JournalUploader({
      db: j.db,
      client: plainClient(host, world, terminal),
      batchSize: 3,
      ...o,
    });
    return uploader;
  };

  it('uploads what follows the cursor, in batches, and only that', async () => {
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 250 });
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 5 });
    const u = make();
    expect(u.status()).toMatchObject({ ackedSeq: 0, waiting: 10, ackedAt: null, lastError: null });
    expect(await u.sync()).toEqual({ ok: true, uploaded: 10, ackedSeq: 10, waiting: 0 });
    const cursor = await plainClient(host, world, terminal).call<ClearingCursor>('GET', CLEARING_CURSOR_PATH);
    expect(cursor).toMatchObject({ lastSeq: 10, hash: j.journal.head().hash });
    expect(u.status().ackedAt).not.toBeNull();
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 7 }, 'in-doubt');
    expect(u.status().waiting).toBe(3);
    expect(await u.sync()).toEqual({ ok: true, uploaded: 3, ackedSeq: 13, waiting: 0 });
    expect(await u.sync()).toEqual({ ok: true, uploaded: 0, ackedSeq: 13, waiting: 0 });
  });

  it('records a host that is down, keeps journaling, and catches up when it is back', async () => {
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 1 });
    const url = host.url;
    await host.close();
    const u = make();
    const down = await u.sync();
    expect(down).toMatchObject({
      ok: false,
      uploaded: 0,
      ackedSeq: 0,
      waiting: 5,
      error: { code: 'E_TRANSPORT' },
    });
    expect(u.status().lastError?.code).toBe('E_TRANSPORT');
    // The terminal sells on: the journal does not wait for the host.
    for (let i = 0; i < 20; i++) journalTransfer(j, { payerId: alice, payeeId: shop, amount: 2 + i });
    expect(u.status().waiting).toBe(105);
    // The host comes back on the same address.
    const port = Number(new URL(url).port);
    const app = await createHostServer({ db, caCertificateDer: world.caDer });
    await app.listen({ host: '127.0.0.1', port });
    host = { app, url, close: () => app.close() };
    const back = await u.sync();
    expect(back).toEqual({ ok: true, uploaded: 105, ackedSeq: 105, waiting: 0 });
    expect(u.status().lastError).toBeNull();
    const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM ledger_transfers')) as [{ n: number }];
    expect(n).toBe(42);
  });

  it('sends everything again to a host that lost its rows (its cursor is behind ours)', async () => {
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 3 });
    const u = make();
    await u.sync();
    // The cursor says 5; a host whose database was restored from before knows nothing.
    await host.close();
    db = await dbs.fresh(backend);
    host = await startHost({ db, world });
    await db.query("INSERT INTO shops (shop_id, name, created_by) VALUES ('shop-1', 'Shop', 'cli')");
    await db.query(
      "INSERT INTO terminals (terminal_id, shop_id, public_key, registered_by) VALUES ('till-1', 'shop-1', $1, 'cli')",
      [terminal.keys.publicKey],
    );
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 4 });
    const again = new JournalUploader({ db: j.db, client: plainClient(host, world, terminal), batchSize: 3 });
    expect(await again.sync()).toEqual({ ok: true, uploaded: 10, ackedSeq: 10, waiting: 0 });
  });

  it('reports a fork and does not move the cursor', async () => {
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 3 });
    const backup = j.copy();
    try {
      journalTransfer(j, { payerId: alice, payeeId: shop, amount: 4 });
      await make().sync();
      // The terminal restored from the backup (log and cursor) sells on.
      journalTransfer(backup, { payerId: alice, payeeId: shop, amount: 99 });
      const restored = new JournalUploader({ db: backup.db, client: plainClient(host, world, terminal) });
      const result = await restored.sync();
      expect(result).toMatchObject({ ok: false, ackedSeq: 0, error: { code: 'E_UPLOAD_FORK' } });
      expect(new UploadCursor(backup.db).state().lastError?.code).toBe('E_UPLOAD_FORK');
    } finally {
      backup.close();
    }
  });

  it('never moves the cursor past its own head when the host holds more (a log restored from a copy)', async () => {
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 3 });
    const older = j.copy(); // a backup at entry 5
    try {
      journalTransfer(j, { payerId: alice, payeeId: shop, amount: 4 });
      await make().sync(); // the host holds 1..10
      const restored = new JournalUploader({ db: older.db, client: plainClient(host, world, terminal) });
      expect(await restored.sync()).toMatchObject({
        ok: false,
        ackedSeq: 5,
        error: { code: 'E_UPLOAD_FORK' },
      });
      // The restored terminal sells on: its entries 6.. are refused as the fork they are, not skipped.
      journalTransfer(older, { payerId: alice, payeeId: shop, amount: 8 });
      expect(await restored.sync()).toMatchObject({
        ok: false,
        ackedSeq: 5,
        waiting: 5,
        error: { code: 'E_UPLOAD_FORK' },
      });
      const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM clearing_entries')) as [{ n: number }];
      expect(n).toBe(10);
    } finally {
      older.close();
    }
  });

  it('tells the screen the host status through its one IPC channel (host:status)', async () => {
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 250 });
    const u = make();
    const now = new Date('2026-12-06T12:00:00Z');
    const crl = { status: () => ({ thisUpdate: '2026-12-06T09:00:00.000Z' }) };
    const base = fakeServices().services;
    const services = { ...base, crl, uploader: u, host: { url: host.url } } as unknown as HandlerServices;
    const handlers = createHandlers(services, { now: () => now });
    expect(await handlers['host:status']({}, { screen: 'test' })).toEqual({
      configured: true,
      url: host.url,
      waiting: 5,
      crlAgeSeconds: 3 * 3600,
    });
    await host.close();
    await u.sync();
    expect(await handlers['host:status']({}, { screen: 'test' })).toMatchObject({
      waiting: 5,
      lastError: { code: 'E_TRANSPORT' },
    });
    const none = createHandlers({ ...base, crl } as unknown as HandlerServices, { now: () => now });
    expect(await none['host:status']({}, { screen: 'test' })).toEqual({
      configured: false,
      waiting: 0,
      crlAgeSeconds: 10800,
    });
    host = { ...host, close: async () => {} };
  });

  it('uploads in the background, and backs off with full jitter, capped', async () => {
    const u = make({ intervalMs: 20, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });
    expect([1, 2, 3, 4, 5, 9].map((n) => u.backoffMs(n))).toEqual([99, 199, 399, 799, 999, 999]);
    const low = make({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    expect(low.backoffMs(3)).toBe(50);
    uploader = u;
    u.start();
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 11 });
    await vi.waitFor(() => expect(u.status()).toMatchObject({ ackedSeq: 5, waiting: 0 }), { timeout: 5000 });
  });
});
