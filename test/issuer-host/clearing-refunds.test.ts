// Refund cases and release proofs at the issuer host (docs/issuer-host.md), on both backends: value in
// flight past the configured age becomes a case carrying the journal's proofs; staff settle it, which
// books the refund; a card settling the transfer first wins; release proofs one terminal uploaded are
// served to another for the payer card, until the payer took its refund.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { releaseDeliverySchema } from '../../electron/services/recovery/terminal-recovery.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import {
  CLEARING_UPLOAD_PATH,
  RELEASE_PROOFS_PATH,
  type ReleaseProof,
  type UploadResponse,
} from '../../protocol/host-link/clearing-wire.js';
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
  hostSnapshot,
  issuerWorld,
  plainClient,
  type RunningHost,
  registeredTerminal,
  staffToken,
  startHost,
} from './host-fixtures.js';

const dbs = useHostDatabases();
const world = issuerWorld('Clearing Refunds Test');
afterAll(() => removeTestJournals());
const DAY = 86_400_000;

describe.each(BACKENDS)('refund cases and release proofs on %s', (backend) => {
  let db: HostDatabase;
  let host: RunningHost;
  let a: { client: HostClient; j: TestJournal; sent: number };
  let b: { client: HostClient; j: TestJournal; sent: number };
  let admin: string;
  let auditor: string;
  const clock = { now: Date.now() };
  const alice = cardId();
  const bob = cardId();

  const sync = async (t: typeof a) => {
    const r = await t.client.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, t.j.batch(t.sent));
    t.sent = r.lastSeq;
  };
  const staff = async (method: string, path: string, token = admin, body?: unknown) => {
    const response = await fetch(host.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes, asserted field by field
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeEach(async () => {
    clock.now = Date.now();
    db = await dbs.fresh(backend);
    host = await startHost({ db, world, now: () => clock.now, refundAfterMs: 30 * DAY });
    const ta = await registeredTerminal(db, 'till-a', 'shop-a');
    const tb = await registeredTerminal(db, 'till-b', 'shop-b');
    const past = Date.now() - 40 * DAY;
    a = {
      client: plainClient(host, world, ta, () => clock.now),
      j: openTestJournal(undefined, past),
      sent: 0,
    };
    b = {
      client: plainClient(host, world, tb, () => clock.now),
      j: openTestJournal(undefined, past),
      sent: 0,
    };
    admin = await staffToken(db, 'issuer-admin');
    auditor = await staffToken(db, 'auditor');
  });
  afterEach(async () => {
    a.j.close();
    b.j.close();
    await host.close();
  });

  it('opens a case for value in flight too long, with the proofs, and settles it by booking the refund', async () => {
    const { txRandom } = journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: 120 }, 'in-doubt');
    journalTransfer(a.j, { payerId: bob, payeeId: alice, amount: 5 }); // completed: no case
    await sync(a);
    expect((await staff('POST', '/admin/refund-cases/scan', auditor)).status).toBe(403);
    expect((await staff('POST', '/admin/refund-cases/scan')).body).toEqual({ opened: 1 });
    expect((await staff('POST', '/admin/refund-cases/scan')).body).toEqual({ opened: 0 });
    const listed = await staff('GET', '/admin/refund-cases?status=open', auditor);
    expect(listed.body).toMatchObject([
      { caseId: '1', transferKey: `${alice}:${txRandom}`, payerId: alice, amount: '120', status: 'open' },
    ]);
    const proofs = listed.body[0].proofs as {
      step: string;
      terminalId: string;
      payload: Record<string, unknown>;
    }[];
    expect(proofs.map((p) => p.step)).toEqual(['started', 'credit-initiated', 'debited']);
    expect(proofs[0]!.payload).toMatchObject({ payerId: alice, payeeId: bob, amount: 120 });
    expect(proofs[1]!.payload).toMatchObject({ txRandom });
    expect(proofs[1]!.payload.challenge).toMatch(/^[0-9A-F]{32}$/);

    expect((await staff('POST', '/admin/refund-cases/1/settle', auditor, {})).status).toBe(403);
    const settled = await staff('POST', '/admin/refund-cases/1/settle', admin, {
      note: 'refunded at the counter',
    });
    expect(settled.body).toMatchObject({ status: 'settled', note: 'refunded at the counter' });
    const balances = await staff('GET', '/admin/ledger/balances', auditor);
    expect(balances.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'card', ref: alice, balance: '5' }),
        expect.objectContaining({ kind: 'in-flight', ref: 'shop-a', balance: '0' }),
      ]),
    );
    const before = await hostSnapshot(db, { withNonces: false });
    const again = await staff('POST', '/admin/refund-cases/1/settle', admin, {});
    expect([again.status, again.body.code]).toEqual([409, 'E_CONFLICT']);
    expect(await hostSnapshot(db, { withNonces: false })).toEqual(before);

    // The customer's card turns up at till B after all: B completes it; the ledger keeps the refund
    // and records the exception for the issuer.
    journalTransfer(
      b.j,
      { payerId: alice, payeeId: bob, amount: 120, txRandom },
      'completed',
      'found-on-card',
    );
    await sync(b);
    const ex = await staff('GET', '/admin/ledger/exceptions', auditor);
    expect(ex.body).toMatchObject([
      { kind: 'after-refund-case', terminalId: 'till-b', transferKey: `${alice}:${txRandom}` },
    ]);
  });

  it('refuses to settle a case a card settled meanwhile, changing nothing', async () => {
    const { txRandom } = journalTransfer(a.j, { payerId: alice, payeeId: bob, amount: 60 }, 'in-doubt');
    await sync(a);
    await staff('POST', '/admin/refund-cases/scan');
    journalTransfer(
      b.j,
      { payerId: alice, payeeId: bob, amount: 60, txRandom },
      'completed',
      'found-on-card',
    );
    await sync(b);
    const before = await hostSnapshot(db, { withNonces: false });
    const refused = await staff('POST', '/admin/refund-cases/1/settle', admin, {});
    expect([refused.status, refused.body.code]).toEqual([409, 'E_CONFLICT']);
    expect(refused.body.message).toMatch(/delivered by a card/);
    expect(await hostSnapshot(db, { withNonces: false })).toEqual(before);
    expect((await staff('POST', '/admin/refund-cases/99/settle', admin, {})).status).toBe(404);
  });

  it('serves a release proof one terminal uploaded to another, for the payer card, until it is used', async () => {
    // Till A released the payee's pending credit (RELEASE CREDIT) but the payer card was gone.
    const flowId = 'f1a2b3c4-0000-4000-8000-000000000001';
    const { txRandom } = journalTransfer(
      a.j,
      { payerId: alice, payeeId: bob, amount: 80, flowId },
      'in-doubt',
    );
    a.j.journal.append({
      flowId,
      flowKind: 'value-transfer',
      step: 'released',
      payload: { txRandom, rxRandom: 'AA'.repeat(16), releaseProof: 'BB'.repeat(16), payeeSettled: true },
    });
    await sync(a);
    const none = await b.client.call<ReleaseProof[]>('GET', `${RELEASE_PROOFS_PATH}?card=${bob}`);
    expect(none).toEqual([]);
    const proofs = await b.client.call<ReleaseProof[]>(
      'GET',
      `${RELEASE_PROOFS_PATH}?card=${alice.toLowerCase()}`,
    );
    expect(proofs).toHaveLength(1);
    // Exactly what the terminal's deliver() takes.
    expect(releaseDeliverySchema.parse(proofs[0])).toMatchObject({
      payerId: alice,
      payeeId: bob,
      amount: 80,
      txRandom,
      rxRandom: 'AA'.repeat(16),
      releaseProof: 'BB'.repeat(16),
    });
    // Till B delivers it and the payer takes its refund: the proof is no longer served.
    journalTransfer(b.j, { payerId: alice, payeeId: bob, amount: 80, txRandom }, 'refunded', 'delivered');
    await sync(b);
    expect(await b.client.call<ReleaseProof[]>('GET', `${RELEASE_PROOFS_PATH}?card=${alice}`)).toEqual([]);
    await expect(b.client.call('GET', `${RELEASE_PROOFS_PATH}?card=nothex`)).rejects.toMatchObject({
      code: 'E_INPUT_INVALID',
    });
  });
});
