// Journal uploads at the issuer host (docs/issuer-host.md, "Clearing"), on both backends: a real
// terminal log read as uploads; the host continues the chain across uploads, answers a re-sent batch
// without storing it twice, and refuses a gap, an edited entry, a fork, a wrong key, an unknown
// terminal, an oversized or malformed body: each refusal changes nothing but its one alert.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { generateP256KeyPair } from '../../protocol/crypto-suite.js';
import { isTerminalError } from '../../protocol/errors.js';
import {
  CLEARING_CURSOR_PATH,
  CLEARING_UPLOAD_PATH,
  type ClearingCursor,
  type UploadRequest,
  type UploadResponse,
} from '../../protocol/host-link/clearing-wire.js';
import type { HostClient } from '../../protocol/host-link/host-client.js';
import {
  cardId,
  editedEntry,
  journalTransfer,
  openTestJournal,
  removeTestJournals,
  type TestJournal,
} from './clearing-fixtures.js';
import { BACKENDS, useHostDatabases } from './host-db-fixtures.js';
import {
  hostSnapshot,
  issuerWorld,
  plainClient,
  type RunningHost,
  registeredTerminal,
  staffToken,
  startHost,
  type TestTerminal,
} from './host-fixtures.js';

const dbs = useHostDatabases();
const world = issuerWorld('Clearing Upload Test');
afterAll(() => removeTestJournals());

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; status: unknown }> {
  try {
    await p;
  } catch (e) {
    if (isTerminalError(e)) return { code: e.code, message: e.message, status: e.details.status };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe.each(BACKENDS)('clearing uploads on %s', (backend) => {
  let db: HostDatabase;
  let host: RunningHost;
  let terminal: TestTerminal;
  let client: HostClient;
  let admin: string;
  let j: TestJournal;
  const upload = (body: UploadRequest, as: HostClient = client) =>
    as.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, body);

  beforeEach(async () => {
    db = await dbs.fresh(backend);
    host = await startHost({ db, world, uploadBodyBytes: 256 * 1024 });
    terminal = await registeredTerminal(db, 'till-1');
    client = plainClient(host, world, terminal);
    admin = await staffToken(db, 'auditor');
    j = openTestJournal();
    const alice = cardId();
    const shop = cardId();
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 250 });
    journalTransfer(j, { payerId: alice, payeeId: shop, amount: 100 }, 'in-doubt');
  });
  afterEach(async () => {
    j.close();
    await host.close();
  });

  /** The refusal, and that nothing but (at most) alert rows and the request's nonce changed. */
  async function expectRefused(request: () => Promise<unknown>, code: string, alertKind?: string) {
    const before = await hostSnapshot(db, { withNonces: false });
    const answer = await refusal(request());
    expect(answer.code).toBe(code);
    const after = await hostSnapshot(db, { withNonces: false });
    const newAlerts = after.audit_events!.slice(before.audit_events!.length) as { kind: string }[];
    expect({ ...after, audit_events: before.audit_events }).toEqual(before);
    expect(newAlerts.map((a) => a.kind)).toEqual(alertKind ? [alertKind] : []);
    return answer;
  }

  it('continues the chain across uploads and holds each entry once', async () => {
    const all = j.batch();
    expect(all.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(all.head?.seq).toBe(8);
    const first = await upload(j.batch(0, 3));
    expect(first).toMatchObject({ terminalId: 'till-1', lastSeq: 3, accepted: 3, duplicates: 0 });
    const second = await upload(j.batch(3));
    expect(second).toMatchObject({ lastSeq: 8, accepted: 5, duplicates: 0 });
    expect(second.hash).toBe(j.journal.head().hash);
    const cursor = await client.call<ClearingCursor>('GET', CLEARING_CURSOR_PATH);
    expect(cursor).toEqual({ terminalId: 'till-1', lastSeq: 8, hash: second.hash });

    const rows = await db.query<{ seq: bigint; flow_kind: string; step: string }>(
      'SELECT seq, flow_kind, step FROM clearing_entries ORDER BY seq',
    );
    expect(rows.map((r) => [Number(r.seq), r.step])).toEqual([
      [1, 'started'],
      [2, 'credit-initiated'],
      [3, 'debited'],
      [4, 'credited'],
      [5, 'completed'],
      [6, 'started'],
      [7, 'credit-initiated'],
      [8, 'debited'],
    ]);
    expect(new Set(rows.map((r) => r.flow_kind))).toEqual(new Set(['value-transfer']));

    const staff = plainClient(host, world);
    const chains = await fetch(`${host.url}/admin/clearing/chains`, {
      headers: { authorization: `Bearer ${admin}` },
    }).then((r) => r.json());
    expect(chains).toMatchObject([{ terminalId: 'till-1', shopId: 'shop-1', lastSeq: 8, hash: second.hash }]);
    void staff;
  });

  it('answers a re-sent batch, and one that overlaps, without storing anything twice', async () => {
    await upload(j.batch(0, 5));
    const before = await hostSnapshot(db, { withNonces: false });
    const again = await upload(j.batch(0, 5));
    expect(again).toMatchObject({ lastSeq: 5, accepted: 0, duplicates: 5 });
    expect(await hostSnapshot(db, { withNonces: false })).toEqual(before);
    const overlap = await upload(j.batch(2));
    expect(overlap).toMatchObject({ lastSeq: 8, accepted: 3, duplicates: 3 });
    const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM clearing_entries')) as [{ n: number }];
    expect(n).toBe(8);
  });

  it('refuses a gap, changing nothing, and raises an alert staff can list', async () => {
    await upload(j.batch(0, 2));
    const answer = await expectRefused(() => upload(j.batch(3)), 'E_UPLOAD_GAP', 'clearing.gap');
    expect(answer.status).toBe(409);
    expect(answer.message).toMatch(/starts at entry 4 .* up to 2: send from 3/);
    const alerts = await fetch(`${host.url}/admin/clearing/alerts`, {
      headers: { authorization: `Bearer ${admin}` },
    }).then((r) => r.json());
    expect(alerts).toMatchObject([
      { kind: 'clearing.gap', terminalId: 'till-1', detail: { code: 'E_UPLOAD_GAP', seq: 3, firstSeq: 4 } },
    ]);
    // A first upload that does not start at 1 is a gap too.
    const other = await registeredTerminal(db, 'till-2');
    await expectRefused(
      () => upload(j.batch(1), plainClient(host, world, other)),
      'E_UPLOAD_GAP',
      'clearing.gap',
    );
  });

  it('refuses an entry edited after it was written (new or already held), changing nothing', async () => {
    await upload(j.batch(0, 4));
    // A new entry whose record changed but whose tag did not (edited in the file).
    const tampered = j.batch(4);
    tampered.entries[1] = editedEntry(tampered.entries[1]!, (p) => ({ ...p, amount: 1 }));
    const answer = await expectRefused(() => upload(tampered), 'E_UPLOAD_EDITED', 'clearing.edited');
    expect(answer.message).toMatch(/entry 6 /);
    // An entry the host holds, sent again with other bytes.
    const resent = j.batch(0, 4);
    resent.entries[2] = editedEntry(resent.entries[2]!, (p) => ({ ...p, receptionChallenge: '00' }));
    const second = await refusal(upload(resent));
    expect(second.code).toBe('E_UPLOAD_EDITED');
    expect(second.message).toMatch(/entry 3 differs/);
    // A head whose hash is not the recomputed one.
    const head = j.batch(4);
    head.head = { seq: head.head!.seq, hash: '00'.repeat(32) };
    expect((await refusal(upload(head))).code).toBe('E_UPLOAD_EDITED');
    // Nothing of it was stored: the honest batch still continues the chain.
    expect(await upload(j.batch(4))).toMatchObject({ lastSeq: 8, accepted: 4 });
  });

  it('refuses a fork: a copy of the log that went on with another history', async () => {
    await upload(j.batch(0, 5));
    const restored = j.copy(); // a backup taken at seq 8 …
    try {
      journalTransfer(j, { payerId: cardId(), payeeId: cardId(), amount: 7 });
      await upload(j.batch(5));
      // … then run on its own: seqs 9.. carry another history.
      journalTransfer(restored, { payerId: cardId(), payeeId: cardId(), amount: 9 });
      const answer = await expectRefused(() => upload(restored.batch(5)), 'E_UPLOAD_FORK', 'clearing.fork');
      expect(answer.message).toMatch(/entry 9 differs from the one the host holds, with a chain of its own/);
    } finally {
      restored.close();
    }
  });

  it('refuses a wrong key, an unknown terminal, a staff token, an oversized and a malformed body', async () => {
    const impostor = plainClient(host, world, { terminalId: 'till-1', keys: generateP256KeyPair() });
    await expectRefused(() => upload(j.batch(), impostor), 'E_AUTH_INVALID', 'auth.bad-signature');
    const stranger = plainClient(host, world, { terminalId: 'till-9', keys: generateP256KeyPair() });
    await expectRefused(() => upload(j.batch(), stranger), 'E_AUTH_UNKNOWN_TERMINAL');
    const staff = await fetch(host.url + CLEARING_UPLOAD_PATH, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(j.batch()),
    });
    expect(staff.status).toBe(403);

    const big = j.batch();
    big.entries[0] = { ...big.entries[0]!, record: 'A'.repeat(80_000) };
    const huge = { ...big, entries: Array.from({ length: 4 }, () => big.entries[0]!) };
    const tooLarge = await expectRefused(() => upload(huge as UploadRequest), 'E_REQUEST_TOO_LARGE');
    expect(tooLarge.status).toBe(413);

    const notCbor = j.batch(0, 1);
    notCbor.entries[0] = {
      ...notCbor.entries[0]!,
      record: Buffer.from([0xff, 0xff, 0xff]).toString('base64'),
    };
    expect((await expectRefused(() => upload(notCbor), 'E_INPUT_INVALID')).message).toMatch(
      /entry 1 is not readable/,
    );
    const unordered = j.batch(0, 3);
    unordered.entries.reverse();
    await expectRefused(() => upload(unordered), 'E_INPUT_INVALID');
    const orphan = j.batch(1, 1); // entry 2 continues flow 1, which the host does not hold
    expect((await expectRefused(() => upload(orphan), 'E_UPLOAD_GAP', 'clearing.gap')).code).toBe(
      'E_UPLOAD_GAP',
    );
    const extra = { ...j.batch(0, 1), extra: true };
    await expectRefused(() => upload(extra as UploadRequest), 'E_INPUT_INVALID');
    expect(await upload(j.batch())).toMatchObject({ lastSeq: 8, accepted: 8 });
  });
});
