// The command-generating server's storage (migration 002) on both backends: the log and the
// commands cannot be rewritten, a wrong row cannot be written, the database serves one authority;
// and on a PostgreSQL server shared by two host instances, the issuance limit and the one-right-per-
// request rule hold when requests race.
import { afterEach, describe, expect, it } from 'vitest';
import { HostAuthority } from '../../electron/services/issuing/host-authority.js';
import { CommandAuthority } from '../../issuer-host/authority/command-authority.js';
import { HOST_SQLSTATE } from '../../issuer-host/db/host-database.js';
import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { type AuthorityScene, authorityScene } from './authority-fixtures.js';
import { BACKENDS, expectRefusal, useHostDatabases } from './host-db-fixtures.js';
import { issuerWorld, plainClient, startHost } from './host-fixtures.js';

const dbs = useHostDatabases();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function expectSqlState(promise: Promise<unknown>, sqlstate: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code: 'E_HOST_DB', details: { sqlstate } });
}

/** A scene where shop-1 registered and got one right. */
async function withOneRight(s: AuthorityScene) {
  const t = await s.terminal('shop-1');
  await s.allow('shop-1');
  const ack = await t.port.register(t.registration());
  if (ack.result !== 'ok') throw new Error('registration rejected');
  expect((await t.port.authorize(t.authorization(ack.commandId))).result).toBe('ok');
  return { t, commandId: ack.commandId };
}

describe.each(BACKENDS)('command-generating server storage on %s', (backend) => {
  it('refuses to rewrite the log, the identity, the registrations and the commands', async () => {
    const s = await authorityScene(await dbs.fresh(backend));
    cleanups.push(() => s.close());
    await withOneRight(s);
    const before = await s.rows();
    await expectSqlState(
      s.db.query("UPDATE authority_log SET result = 'reject', reason = 'replayed'"),
      'HS001',
    );
    await expectSqlState(s.db.query('DELETE FROM authority_log'), 'HS001');
    await expectSqlState(s.db.query("UPDATE authority_identity SET issuer_id = repeat('A', 32)"), 'HS001');
    await expectSqlState(s.db.query('DELETE FROM authority_identity'), 'HS001');
    await expectSqlState(s.db.query('DELETE FROM authority_servers'), 'HS001');
    await expectSqlState(s.db.query('UPDATE authority_commands SET not_after = not_after + 1'), 'HS003');
    await expectSqlState(s.db.query('DELETE FROM authority_commands'), 'HS001');
    for (const table of ['authority_log', 'authority_identity', 'authority_commands', 'authority_servers']) {
      await expectSqlState(s.db.query(`TRUNCATE ${table} CASCADE`), 'HS001');
    }
    // A superseded command stays superseded.
    await s.db.query('UPDATE authority_commands SET superseded_at = created_at');
    await expectSqlState(s.db.query('UPDATE authority_commands SET superseded_at = NULL'), 'HS003');
    const after = await s.rows();
    expect(after.authority_log).toEqual(before.authority_log);
    expect(after.authority_identity).toEqual(before.authority_identity);
  });

  it('makes a wrong row impossible: a right without what it was granted for, two rights for one request', async () => {
    const s = await authorityScene(await dbs.fresh(backend));
    cleanups.push(() => s.close());
    const { commandId } = await withOneRight(s);
    const [granted] = await s.db.query<Record<string, unknown>>(
      'SELECT * FROM authority_log WHERE grant_id IS NOT NULL',
    );
    const copy = (overrides: Record<string, unknown>) => {
      const row = { ...granted, ...overrides };
      delete row.entry_id;
      const columns = Object.keys(row);
      return s.db.query(
        `INSERT INTO authority_log (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
    };
    const before = await s.rows();
    await expectSqlState(copy({ grant_id: toHex(randomBytes(16)) }), HOST_SQLSTATE.uniqueViolation);
    await expectSqlState(
      copy({ grant_id: toHex(randomBytes(16)), nonce: null }),
      HOST_SQLSTATE.checkViolation,
    );
    await expectSqlState(copy({ result: 'reject', reason: 'replayed' }), HOST_SQLSTATE.checkViolation);
    await expectSqlState(copy({ reason: 'replayed' }), HOST_SQLSTATE.checkViolation);
    await expectSqlState(
      copy({ sender_terminal_id: 'nobody', grant_id: toHex(randomBytes(16)), nonce: toHex(randomBytes(16)) }),
      HOST_SQLSTATE.foreignKeyViolation,
    );
    await expectSqlState(
      s.db.query(
        `INSERT INTO authority_commands (command_id, terminal_id, server_public_key, issuer_id, content_types,
           not_after, created_at) SELECT $1, terminal_id, server_public_key, issuer_id, ARRAY['gold'], not_after,
           created_at FROM authority_commands WHERE command_id = $2`,
        [toHex(randomBytes(16)), commandId],
      ),
      HOST_SQLSTATE.checkViolation,
    );
    expect(await s.rows()).toEqual(before);
  });

  it('serves one authority: a host started with another issuer’s key is refused and changes nothing', async () => {
    const s = await authorityScene(await dbs.fresh(backend));
    cleanups.push(() => s.close());
    const before = await s.rows();
    const other = issuerWorld('Another Issuer');
    await expectRefusal(CommandAuthority.open({ db: s.db, issuer: other.issuer }), 'E_INPUT_INVALID');
    await expect(
      startHost({ db: s.db, world: s.world, authority: { issuer: other.issuer } }),
    ).rejects.toMatchObject({
      code: 'E_INPUT_INVALID',
    });
    expect(await s.rows()).toEqual(before);
  });
});

describe('two host instances racing for rights on one PostgreSQL database', () => {
  it('grants exactly the command’s limit, and one right per request, whichever instance answers', async () => {
    const db = await dbs.fresh('postgres');
    const s = await authorityScene(db);
    cleanups.push(() => s.close());
    const now = () => s.clock.now;
    const second = await startHost({
      db: await dbs.reopen(db),
      world: s.world,
      now,
      authority: { issuer: s.world.issuer },
    });
    cleanups.push(() => second.close());
    const t = await s.terminal('shop-1');
    await s.allow('shop-1', { maxIssuances: 3 });
    const ack = await t.port.register(t.registration());
    if (ack.result !== 'ok') throw new Error('registration rejected');
    const viaSecond = new HostAuthority(plainClient(second, s.world, t, now));
    const ports = [t.port, viaSecond];

    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ports[i % 2]!.authorize(t.authorization(ack.commandId))),
    );
    expect(answers.filter((a) => a.result === 'ok')).toHaveLength(3);
    expect(
      answers.filter((a) => a.result === 'reject').map((a) => a.result === 'reject' && a.reason),
    ).toEqual(Array(5).fill('limit-reached'));

    // A second command; the same authentication request sent to both instances at once.
    await s.allow('shop-1', { maxIssuances: null });
    const again = await t.port.register(t.registration());
    if (again.result !== 'ok') throw new Error('registration rejected');
    const request = t.authorization(again.commandId);
    const both = await Promise.all([t.port.authorize(request), viaSecond.authorize(request)]);
    expect(both.map((a) => a.result).sort()).toEqual(['ok', 'reject']);
    expect(both.find((a) => a.result === 'reject')).toMatchObject({ reason: 'replayed' });
    const [row] = await db.query<{ n: bigint }>(
      'SELECT count(*) AS n FROM authority_log WHERE command_id = $1 AND grant_id IS NOT NULL',
      [again.commandId],
    );
    expect(row?.n).toBe(1n);
  });
});
