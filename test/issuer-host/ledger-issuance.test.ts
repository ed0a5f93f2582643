// Issuance at the issuer host (docs/issuer-host.md, "Issuance"), on both backends: a card's issuance
// moves its value from the issuer account to the card's, once per card; the same request again is
// answered as a replay; every refusal (credentials, role, body, currency, amount, certificate, a
// second different issuance) changes nothing; the schema refuses a wrong row whoever writes it; the
// card view and the fleet report show issued value and the e-money outstanding, and the ledger sums
// to zero with journal bookings beside the issuances.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { personalizeCard } from '../../card-sim/issuer/issuer.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { recordIssuance } from '../../issuer-host/ledger/issuance.js';
import { CLEARING_UPLOAD_PATH, type UploadResponse } from '../../protocol/host-link/clearing-wire.js';
import { ISSUANCES_PATH } from '../../protocol/host-link/issuance-wire.js';
import { journalTransfer, openTestJournal, removeTestJournals } from './clearing-fixtures.js';
import { BACKENDS, expectRefusal, useHostDatabases } from './host-db-fixtures.js';
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
const world = issuerWorld('Issuance Test');
const stranger = issuerWorld('Another Issuer');
afterAll(() => removeTestJournals());

const CARD = {
  validity: '20301231',
  maxBalance: 1_000_000,
  transferKeyId: 1,
  transferKeyIdLimit: 4,
  updateKeyId: 1,
  updateKeyIdLimit: 2,
};
const newCard = (balance = 150_00, w = world) => personalizeCard(w.issuer, { ...CARD, balance });

describe.each(BACKENDS)('issuance on %s', (backend) => {
  let db: HostDatabase;
  let host: RunningHost;
  let admin: string;
  let auditor: string;
  let publisher: string;

  const call = async (
    method: string,
    path: string,
    o: { token?: string | null; body?: unknown; raw?: string; type?: string } = {},
  ) => {
    const token = o.token === undefined ? admin : o.token;
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const response = await fetch(host.url + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': o.type ?? 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes, asserted field by field
    return { status: response.status, body: (await response.json()) as any };
  };
  const issue = (body: unknown, token?: string | null) => call('POST', ISSUANCES_PATH, { body, token });
  const ledgerRows = async () =>
    Object.fromEntries(
      await Promise.all(
        ['ledger_accounts', 'ledger_issuances', 'ledger_transfers'].map(async (t) => [
          t,
          ((await db.query(`SELECT count(*)::int AS n FROM ${t}`)) as [{ n: number }])[0].n,
        ]),
      ),
    );
  const sumOfBalances = async () => {
    const rows = await db.query<{ balance: string | bigint }>('SELECT balance FROM ledger_balances');
    return rows.reduce((s, r) => s + BigInt(r.balance), 0n);
  };

  beforeEach(async () => {
    db = await dbs.fresh(backend);
    host = await startHost({ db, world, issuanceCurrencies: [978, 840] });
    admin = await staffToken(db, 'issuer-admin');
    auditor = await staffToken(db, 'auditor');
    publisher = await staffToken(db, 'crl-publisher');
  });
  afterEach(async () => {
    await host.close();
  });

  it('books the value from the issuer account to the card once; the same request again is a replay', async () => {
    const card = newCard(150_00);
    const request = { certificate: card.certificate, currency: 978, amount: 150_00 };
    const first = await issue(request);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      holderId: card.holderId,
      currency: 978,
      amount: '15000',
      certificateSerial: String(world.issuer.issued.at(-1)!.serial),
      replayed: false,
    });
    expect(first.body.notAfter).toBe(world.issuer.issued.at(-1)!.notAfter);
    const rows = await ledgerRows();
    const again = await issue(request);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(await ledgerRows()).toEqual(rows);

    const balances = await call('GET', '/admin/ledger/balances', { token: auditor });
    expect(balances.body).toEqual([
      expect.objectContaining({ kind: 'card', ref: card.holderId, currency: 978, balance: '15000' }),
      expect.objectContaining({ kind: 'issuer', ref: 'e-money', currency: 978, balance: '-15000' }),
    ]);
    expect(await sumOfBalances()).toBe(0n);
    const issuer = await call('GET', '/admin/ledger/balances?kind=issuer&ref=e-money', { token: auditor });
    expect(issuer.body).toEqual([expect.objectContaining({ balance: '-15000' })]);
    const view = await call('GET', `/admin/ledger/cards/${card.holderId.toLowerCase()}`, { token: auditor });
    expect(view.body).toEqual({
      holderId: card.holderId,
      issuance: { ...first.body, replayed: undefined },
      accounts: [{ currency: 978, issued: '15000', moved: '0', balance: '15000' }],
    });
    const listed = await call('GET', `${ISSUANCES_PATH}?card=${card.holderId}`, { token: auditor });
    expect(listed.body).toHaveLength(1);
    const audit = await db.query<{ kind: string; subject: string }>(
      `SELECT kind, subject FROM audit_events WHERE kind = 'ledger.issued'`,
    );
    expect(audit).toEqual([{ kind: 'ledger.issued', subject: card.holderId }]);
  });

  it('refuses every bad request with its code and writes nothing', async () => {
    const card = newCard(80_00);
    const good = { certificate: card.certificate, currency: 978, amount: 80_00 };
    const before = await hostSnapshot(db, { withNonces: false });
    const cases: [string, () => ReturnType<typeof call>, number, string][] = [
      ['no token', () => issue(good, null), 401, 'E_AUTH_MISSING'],
      ['unknown token', () => issue(good, `stlh_${'A'.repeat(43)}`), 401, 'E_AUTH_INVALID'],
      [
        'malformed JSON',
        () => call('POST', ISSUANCES_PATH, { raw: '{"certificate":' }),
        400,
        'E_INPUT_INVALID',
      ],
      [
        'not JSON',
        () => call('POST', ISSUANCES_PATH, { raw: 'x', type: 'text/plain' }),
        415,
        'E_INPUT_INVALID',
      ],
      ['no body', () => call('POST', ISSUANCES_PATH, { raw: '' }), 400, 'E_INPUT_INVALID'],
      [
        'oversized body',
        () => issue({ ...good, certificate: 'AB'.repeat(40_000) }),
        413,
        'E_REQUEST_TOO_LARGE',
      ],
      ['an unknown field', () => issue({ ...good, holderId: card.holderId }), 400, 'E_INPUT_INVALID'],
      ['an unknown currency', () => issue({ ...good, currency: 826 }), 400, 'E_INPUT_INVALID'],
      ['currency 0', () => issue({ ...good, currency: 0 }), 400, 'E_INPUT_INVALID'],
      ['amount zero', () => issue({ ...good, amount: 0 }), 400, 'E_INPUT_INVALID'],
      ['a negative amount', () => issue({ ...good, amount: -8000 }), 400, 'E_INPUT_INVALID'],
      ['a fractional amount', () => issue({ ...good, amount: 80.5 }), 400, 'E_INPUT_INVALID'],
      ['an amount as text', () => issue({ ...good, amount: '8000' }), 400, 'E_INPUT_INVALID'],
      ['an amount above a card’s', () => issue({ ...good, amount: 2 ** 32 }), 400, 'E_INPUT_INVALID'],
      ['no certificate', () => issue({ currency: 978, amount: 1 }), 400, 'E_INPUT_INVALID'],
      [
        'a certificate not DER',
        () => issue({ ...good, certificate: 'AB'.repeat(40) }),
        400,
        'E_PKI_MALFORMED',
      ],
      [
        'another issuer’s card',
        () => issue({ ...good, certificate: newCard(1, stranger).certificate }),
        400,
        'E_PKI_SIGNATURE',
      ],
      [
        'the CA certificate',
        () => issue({ ...good, certificate: world.issuer.caCertificate }),
        400,
        'E_PKI_UNSUPPORTED',
      ],
    ];
    for (const [what, send, status, code] of cases) {
      const r = await send();
      expect([what, r.status, r.body.code]).toEqual([what, status, code]);
    }
    expect(await hostSnapshot(db, { withNonces: false })).toEqual(before);

    // A role without ledger:issue: refused, and only the security alert is written.
    const rows = await ledgerRows();
    for (const token of [auditor, publisher]) {
      const r = await issue(good, token);
      expect([r.status, r.body.code]).toEqual([403, 'E_AUTH_FORBIDDEN']);
    }
    expect(await ledgerRows()).toEqual(rows);
    const alerts = await db.query<{ kind: string }>(`SELECT kind FROM audit_events WHERE severity = 'alert'`);
    expect(alerts.map((a) => a.kind)).toEqual(['auth.forbidden', 'auth.forbidden']);
  });

  it('refuses a second, different issuance of a card and keeps the first', async () => {
    const card = newCard(50_00);
    expect((await issue({ certificate: card.certificate, currency: 978, amount: 50_00 })).status).toBe(201);
    const before = await hostSnapshot(db, { withNonces: false });
    for (const other of [
      { amount: 50_01, currency: 978 },
      { amount: 50_00, currency: 840 },
    ]) {
      const r = await issue({ certificate: card.certificate, ...other });
      expect([r.status, r.body.code]).toEqual([409, 'E_ISSUANCE_CONFLICT']);
      expect(r.body.message).toContain(card.holderId);
    }
    // The same card in-process, without its certificate: other terms, refused too.
    await expectRefusal(
      recordIssuance(db, { holderId: card.holderId, currency: 978, amount: 50_00, actor: 'test' }),
      'E_ISSUANCE_CONFLICT',
    );
    expect(await hostSnapshot(db, { withNonces: false })).toEqual(before);
  });

  it('validates in-process issuances too', async () => {
    const holderId = newCard().holderId;
    const before = await hostSnapshot(db, { withNonces: false });
    for (const bad of [
      { holderId: 'XYZ', currency: 978, amount: 1 },
      { holderId, currency: 0, amount: 1 },
      { holderId, currency: 978, amount: 0 },
      { holderId, currency: 978, amount: -1 },
      { holderId, currency: 978, amount: 1.5 },
      { holderId, currency: 978, amount: 2 ** 32 },
      { holderId, currency: 978, amount: 1, certificateSerial: -1n },
    ]) {
      await expectRefusal(recordIssuance(db, { ...bad, actor: 'test' }), 'E_INPUT_INVALID');
    }
    expect(await hostSnapshot(db, { withNonces: false })).toEqual(before);
    const made = await recordIssuance(db, {
      holderId: holderId.toLowerCase(),
      currency: 978,
      amount: 7n,
      actor: 'test',
    });
    expect(made).toMatchObject({
      replayed: false,
      issuance: { holderId, amount: 7n, certificateSerial: null },
    });
  });

  it('makes a wrong row impossible whoever writes it', async () => {
    const { issuance } = await recordIssuance(db, {
      holderId: newCard().holderId,
      currency: 978,
      amount: 100,
      actor: 'test',
    });
    const accounts = await db.query<{ account_id: bigint; kind: string; currency: number }>(
      'SELECT account_id, kind, currency FROM ledger_accounts ORDER BY account_id',
    );
    const issuerAccount = accounts.find((a) => a.kind === 'issuer')!.account_id;
    const cardAccount = accounts.find((a) => a.kind === 'card')!.account_id;
    const [usd] = await db.query<{ account_id: bigint }>(
      `INSERT INTO ledger_accounts (kind, ref, currency) VALUES ('issuer', 'e-money', 840) RETURNING account_id`,
    );
    const other = newCard().holderId;
    const [otherCard] = await db.query<{ account_id: bigint }>(
      `INSERT INTO ledger_accounts (kind, ref, currency) VALUES ('card', $1, 978) RETURNING account_id`,
      [other],
    );
    const insert = (o: {
      holder?: string;
      amount?: number;
      debit?: bigint;
      credit?: bigint;
      currency?: number;
    }) =>
      db.query(
        `INSERT INTO ledger_issuances (holder_id, currency, amount, issuer_account, card_account, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, 'test', now())`,
        [
          o.holder ?? other,
          o.currency ?? 978,
          o.amount ?? 5,
          o.debit ?? issuerAccount,
          o.credit ?? otherCard!.account_id,
        ],
      );
    const sqlstate = async (p: Promise<unknown>) => (await expectRefusal(p, 'E_HOST_DB')).details.sqlstate;
    const before = await hostSnapshot(db, { withNonces: false });
    expect(await sqlstate(insert({ amount: 0 }))).toBe('23514');
    expect(await sqlstate(insert({ amount: -5 }))).toBe('23514');
    expect(await sqlstate(insert({ debit: usd!.account_id }))).toBe('HS004'); // another currency
    expect(await sqlstate(insert({ debit: cardAccount }))).toBe('HS004'); // not the issuer account
    expect(await sqlstate(insert({ credit: cardAccount }))).toBe('HS004'); // another card's account
    expect(await sqlstate(insert({ currency: 840, debit: usd!.account_id }))).toBe('HS004'); // card account in EUR
    expect(await sqlstate(insert({ holder: issuance.holderId, credit: cardAccount }))).toBe('23505'); // issued once
    expect(
      await sqlstate(
        db.query(`INSERT INTO ledger_accounts (kind, ref, currency) VALUES ('issuer', 'float', 978)`),
      ),
    ).toBe('23514');
    expect(await sqlstate(db.query('UPDATE ledger_issuances SET amount = 1'))).toBe('HS001');
    expect(await sqlstate(db.query('DELETE FROM ledger_issuances'))).toBe('HS001');
    expect(await sqlstate(db.query('TRUNCATE ledger_issuances'))).toBe('HS001');
    expect(await hostSnapshot(db, { withNonces: false })).toEqual(before);
  });

  it('adds issued value to the journals’ moves: card view, fleet report, a ledger that sums to zero', async () => {
    const alice = newCard(200_00);
    const bob = newCard(50_00);
    for (const c of [alice, bob]) {
      await issue({ certificate: c.certificate, currency: 978, amount: c.balance });
    }
    const till = await registeredTerminal(db, 'till-1', 'shop-1');
    const j = openTestJournal(undefined, Date.now() - 3_600_000);
    try {
      journalTransfer(j, { payerId: alice.holderId, payeeId: bob.holderId, amount: 25_00 });
      journalTransfer(j, { payerId: alice.holderId, payeeId: bob.holderId, amount: 4_00 }, 'in-doubt');
      const client = plainClient(host, world, till);
      await client.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, j.batch(0));
      client.close();
    } finally {
      j.close();
    }
    const view = async (id: string) =>
      (await call('GET', `/admin/ledger/cards/${id}`, { token: auditor })).body.accounts;
    expect(await view(alice.holderId)).toEqual([
      { currency: 978, issued: '20000', moved: '-2900', balance: '17100' },
    ]);
    expect(await view(bob.holderId)).toEqual([
      { currency: 978, issued: '5000', moved: '2500', balance: '7500' },
    ]);
    expect(await sumOfBalances()).toBe(0n);

    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const report = await call('GET', `/admin/reports/end-of-day?from=${from}&to=${to}`, { token: auditor });
    expect(report.body.issuer).toEqual([
      expect.objectContaining({
        currency: 978,
        issued: { count: 2, amount: '25000' },
        outstanding: '25000',
        inFlight: '400',
      }),
    ]);
    // A day before: nothing issued in it, nothing outstanding at its end.
    const earlier = await call(
      'GET',
      `/admin/reports/end-of-day?from=${new Date(Date.now() - 3 * 86_400_000).toISOString()}&to=${from}`,
      { token: auditor },
    );
    expect(earlier.body.issuer).toEqual([
      expect.objectContaining({ issued: { count: 0, amount: '0' }, outstanding: '0' }),
    ]);
    const unknown = await call('GET', `/admin/ledger/cards/${newCard().holderId}`, { token: auditor });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'E_NOT_FOUND']);
  });
});

describe('issuance with two host instances on one PostgreSQL database', () => {
  it('records a card once when both record it at once; other terms lose', async () => {
    const a = await dbs.fresh('postgres');
    const b = await dbs.reopen(a);
    const card = newCard(30_00);
    const same = { holderId: card.holderId, currency: 978, amount: 30_00, actor: 'test' };
    const results = await Promise.all([recordIssuance(a, same), recordIssuance(b, same)]);
    expect(results.map((r) => r.replayed).sort()).toEqual([false, true]);
    const other = newCard(10_00);
    const outcomes = await Promise.allSettled([
      recordIssuance(a, { ...same, holderId: other.holderId, amount: 10_00 }),
      recordIssuance(b, { ...same, holderId: other.holderId, amount: 10_01 }),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason.code).toBe('E_ISSUANCE_CONFLICT');
    const rows = await a.query<{ holder_id: string }>('SELECT holder_id FROM ledger_issuances ORDER BY 1');
    expect(rows.map((r) => r.holder_id)).toEqual([card.holderId, other.holderId].sort());
  });
});
