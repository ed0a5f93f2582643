// The host's storage on both backends (a PostgreSQL server and embedded PGlite), the same suite:
// repositories, constraints, append-only tables and the refusals that leave nothing changed.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AuditLog, appendThrottledAlert } from '../../issuer-host/db/audit-log.js';
import { CrlVersions } from '../../issuer-host/db/crl-versions.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { RequestNonces } from '../../issuer-host/db/request-nonces.js';
import { StaffTokens } from '../../issuer-host/db/staff-tokens.js';
import { TerminalRegistry } from '../../issuer-host/db/terminal-registry.js';
import { toHex } from '../../protocol/bytes.js';
import { generateP256KeyPair, randomBytes, sha256Digest } from '../../protocol/crypto-suite.js';
import { BACKENDS, expectRefusal, useHostDatabases } from './host-db-fixtures.js';
import { hostSnapshot } from './host-fixtures.js';

const dbs = useHostDatabases();

async function withShopAndTerminal(db: HostDatabase, terminalId = 'T-1') {
  const registry = new TerminalRegistry(db);
  await registry.createShop({ shopId: 'shop-1', name: 'Corner Shop', actor: 'cli' });
  const keys = generateP256KeyPair();
  const terminal = await registry.register({
    terminalId,
    shopId: 'shop-1',
    publicKey: keys.publicKey,
    actor: 'cli',
  });
  return { registry, keys, terminal };
}

describe.each(BACKENDS)('host storage on %s', (backend) => {
  it('registers shops and terminals, and records each as a staff action', async () => {
    const db = await dbs.fresh(backend);
    const { registry, keys, terminal } = await withShopAndTerminal(db);
    expect(terminal).toMatchObject({
      terminalId: 'T-1',
      shopId: 'shop-1',
      status: 'active',
      revokedAt: null,
    });
    expect(terminal.publicKey).toEqual(keys.publicKey);
    expect(terminal.registeredAt).toBeInstanceOf(Date);
    expect(await registry.find('T-1')).toEqual(terminal);
    expect(await registry.find('T-2')).toBeUndefined();
    expect(await registry.find("x' OR '1'='1")).toBeUndefined();
    expect((await registry.list({ shopId: 'shop-1' })).map((t) => t.terminalId)).toEqual(['T-1']);
    expect(await registry.listShops()).toMatchObject([{ shopId: 'shop-1', name: 'Corner Shop' }]);
    const events = await new AuditLog(db).list();
    expect(events.map((e) => [e.kind, e.subject, e.actor])).toEqual([
      ['shop.created', 'shop-1', 'cli'],
      ['terminal.registered', 'T-1', 'cli'],
    ]);
    expect(events[1]!.detail).toEqual({ shopId: 'shop-1', publicKey: toHex(keys.publicKey) });
    expect(typeof events[0]!.eventId).toBe('bigint');
  });

  it('refuses a duplicate terminal, a reused key, an unknown shop and a bad key, changing nothing', async () => {
    const db = await dbs.fresh(backend);
    const { registry, keys } = await withShopAndTerminal(db);
    const before = await hostSnapshot(db);
    const other = generateP256KeyPair().publicKey;
    const actor = 'cli';
    await expectRefusal(
      registry.register({ terminalId: 'T-1', shopId: 'shop-1', publicKey: other, actor }),
      'E_CONFLICT',
    );
    await expectRefusal(
      registry.register({ terminalId: 'T-2', shopId: 'shop-1', publicKey: keys.publicKey, actor }),
      'E_CONFLICT',
    );
    await expectRefusal(
      registry.register({ terminalId: 'T-3', shopId: 'nowhere', publicKey: other, actor }),
      'E_NOT_FOUND',
    );
    const offCurve = other.slice();
    offCurve[64]! ^= 1;
    await expectRefusal(
      registry.register({ terminalId: 'T-4', shopId: 'shop-1', publicKey: offCurve, actor }),
      'E_INPUT_INVALID',
    );
    await expectRefusal(
      registry.register({ terminalId: 'bad id', shopId: 'shop-1', publicKey: other, actor }),
      'E_INPUT_INVALID',
    );
    await expectRefusal(registry.createShop({ shopId: 'shop-1', name: 'Again', actor }), 'E_CONFLICT');
    expect(await hostSnapshot(db)).toEqual(before);
  });

  it('revokes a terminal for good: once, never back to active, never deleted', async () => {
    const db = await dbs.fresh(backend);
    const { registry } = await withShopAndTerminal(db);
    const revoked = await registry.revoke({ terminalId: 'T-1', actor: 'staff:tok-1', reason: 'stolen' });
    expect(revoked).toMatchObject({ status: 'revoked', revokedBy: 'staff:tok-1' });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    const before = await hostSnapshot(db);
    await expectRefusal(registry.revoke({ terminalId: 'T-1', actor: 'cli' }), 'E_CONFLICT');
    await expectRefusal(registry.revoke({ terminalId: 'T-9', actor: 'cli' }), 'E_NOT_FOUND');
    await expectSqlState(
      db.query(`UPDATE terminals SET status = 'active', revoked_at = NULL, revoked_by = NULL`),
      'HS003',
    );
    await expectSqlState(db.query('DELETE FROM terminals'), 'HS001');
    expect(await hostSnapshot(db)).toEqual(before);
    expect((await new AuditLog(db).list({ kind: 'terminal.revoked' }))[0]!.detail).toEqual({
      reason: 'stolen',
    });
  });

  it('refuses UPDATE, DELETE and TRUNCATE of every table that records facts', async () => {
    const db = await dbs.fresh(backend);
    await withShopAndTerminal(db);
    await new StaffTokens(db).create({ role: 'auditor', label: 'a', actor: 'cli' });
    await new CrlVersions(db).publish(crlInput(1n));
    const before = await hostSnapshot(db);
    for (const [table, column] of [
      ['shops', 'name'],
      ['crl_versions', 'revoked_count'],
      ['audit_events', 'actor'],
    ] as const) {
      const value = column === 'revoked_count' ? '0' : "'x'";
      await expectSqlState(db.query(`UPDATE ${table} SET ${column} = ${value}`), 'HS001');
      await expectSqlState(db.query(`DELETE FROM ${table}`), 'HS001');
    }
    await expectSqlState(db.query(`UPDATE terminals SET public_key = public_key || ''::bytea`), 'HS003');
    await expectSqlState(db.query(`UPDATE staff_tokens SET role = 'issuer-admin'`), 'HS003');
    await expectSqlState(db.query('DELETE FROM staff_tokens'), 'HS001');
    for (const table of ['shops', 'terminals', 'staff_tokens', 'crl_versions', 'audit_events']) {
      await expectSqlState(db.query(`TRUNCATE ${table} CASCADE`), 'HS001');
    }
    expect(await hostSnapshot(db)).toEqual(before);
  });

  it('keeps staff tokens only as hashes, finds them by the token, revokes them once', async () => {
    const db = await dbs.fresh(backend);
    const tokens = new StaffTokens(db);
    const created = await tokens.create({ role: 'issuer-admin', label: 'Alice', actor: 'cli' });
    expect(created.token).toMatch(/^stlh_[A-Za-z0-9_-]{43}$/);
    expect(created.tokenId).toMatch(/^tok-[0-9a-f]{12}$/);
    const stored = JSON.stringify(await hostSnapshot(db), (_k, v) =>
      typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v,
    );
    expect(stored).not.toContain(created.token.slice(5));
    const [row] = await db.query<{ token_hash: Uint8Array }>('SELECT token_hash FROM staff_tokens');
    expect(row!.token_hash).toEqual(sha256Digest(new TextEncoder().encode(created.token)));

    expect(await tokens.findByToken(created.token)).toMatchObject({
      tokenId: created.tokenId,
      role: 'issuer-admin',
    });
    expect(await tokens.findByToken(`stlh_${'A'.repeat(43)}`)).toBeUndefined();
    expect(await tokens.findByToken('not a token')).toBeUndefined();

    const revoked = await tokens.revoke({ tokenId: created.tokenId, actor: 'cli' });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect((await tokens.findByToken(created.token))?.revokedAt).toBeInstanceOf(Date);
    await expectRefusal(tokens.revoke({ tokenId: created.tokenId, actor: 'cli' }), 'E_CONFLICT');
    await expectRefusal(tokens.revoke({ tokenId: 'tok-000000000000', actor: 'cli' }), 'E_NOT_FOUND');
    await expectRefusal(
      tokens.create({ role: 'root' as 'auditor', label: 'x', actor: 'cli' }),
      'E_INPUT_INVALID',
    );
    await expectRefusal(
      tokens.create({ role: 'auditor', label: 'x', actor: 'cli', expiresAt: new Date(Date.now() - 1000) }),
      'E_INPUT_INVALID',
    );
  });

  it('stores CRL versions append-only with strictly increasing numbers per CA', async () => {
    const db = await dbs.fresh(backend);
    const crls = new CrlVersions(db);
    expect(await crls.current('AA')).toBeUndefined();
    const first = await crls.publish(crlInput(5n));
    expect(first).toMatchObject({
      issuerKeyId: 'AA',
      crlNumber: 5n,
      revokedCount: 2,
      size: 3,
      publishedBy: 'cli',
    });
    expect(first.derSha256).toEqual(sha256Digest(Uint8Array.of(1, 2, 3)));
    const before = await hostSnapshot(db);
    await expectRefusal(crls.publish(crlInput(5n)), 'E_CRL_NOT_NEWER');
    await expectRefusal(crls.publish(crlInput(4n)), 'E_CRL_NOT_NEWER');
    expect(await hostSnapshot(db)).toEqual(before);

    const big = 2n ** 159n + 1n; // a 20-octet cRLNumber
    await crls.publish({ ...crlInput(big), der: Uint8Array.of(9) });
    expect((await crls.current('AA'))!.crlNumber).toBe(big);
    expect(await crls.der('AA', big)).toEqual(Uint8Array.of(9));
    expect(await crls.der('AA', 5n)).toEqual(Uint8Array.of(1, 2, 3));
    expect((await crls.history('AA')).map((h) => h.crlNumber)).toEqual([big, 5n]);
    // Another CA's numbering is its own.
    await crls.publish({ ...crlInput(1n), issuerKeyId: 'BB' });
    expect((await crls.current('BB'))!.crlNumber).toBe(1n);
  });

  it('claims a request nonce once per terminal and prunes the expired ones', async () => {
    const db = await dbs.fresh(backend);
    await withShopAndTerminal(db, 'T-1');
    await new TerminalRegistry(db).register({
      terminalId: 'T-2',
      shopId: 'shop-1',
      publicKey: generateP256KeyPair().publicKey,
      actor: 'cli',
    });
    const nonces = new RequestNonces(db);
    const now = new Date();
    const old = new Date(now.getTime() - 3_600_000);
    const nonce = randomBytes(16);
    const pruneBefore = new Date(now.getTime() - 600_000);
    expect(await nonces.claim({ terminalId: 'T-1', nonce, requestAt: now, pruneBefore })).toBe(true);
    expect(await nonces.claim({ terminalId: 'T-1', nonce, requestAt: now, pruneBefore })).toBe(false);
    expect(await nonces.claim({ terminalId: 'T-2', nonce, requestAt: now, pruneBefore })).toBe(true);
    const stale = randomBytes(16);
    expect(await nonces.claim({ terminalId: 'T-1', nonce: stale, requestAt: old, pruneBefore: old })).toBe(
      true,
    );
    expect(
      await nonces.claim({ terminalId: 'T-1', nonce: randomBytes(16), requestAt: now, pruneBefore }),
    ).toBe(true);
    const left = await db.query<{ nonce: Uint8Array }>(
      `SELECT nonce FROM request_nonces WHERE terminal_id = 'T-1'`,
    );
    expect(left.map((r) => toHex(r.nonce))).not.toContain(toHex(stale));
    expect(left).toHaveLength(2);
    await expectSqlState(
      nonces.claim({ terminalId: 'T-unknown', nonce, requestAt: now, pruneBefore }),
      '23503',
    );
  });

  it('throttles alerts per kind and subject', async () => {
    const db = await dbs.fresh(backend);
    const alert = { kind: 'auth.bad-signature', actor: 'terminal:T-1', subject: 'T-1', detail: { n: 1 } };
    expect(await appendThrottledAlert(db, alert)).toBe(true);
    expect(await appendThrottledAlert(db, alert)).toBe(false);
    expect(await appendThrottledAlert(db, { ...alert, subject: 'T-2' })).toBe(true);
    expect(await appendThrottledAlert(db, { ...alert, kind: 'auth.replay' })).toBe(true);
    expect(await appendThrottledAlert(db, alert, 0)).toBe(true);
    const events = await new AuditLog(db).list();
    expect(events.map((e) => [e.kind, e.subject, e.severity])).toEqual([
      ['auth.bad-signature', 'T-1', 'alert'],
      ['auth.bad-signature', 'T-2', 'alert'],
      ['auth.replay', 'T-1', 'alert'],
      ['auth.bad-signature', 'T-1', 'alert'],
    ]);
    expect(await new AuditLog(db).list({ afterId: events[2]!.eventId })).toHaveLength(1);
  });

  it('rolls a failed transaction back whole', async () => {
    const db = await dbs.fresh(backend);
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO shops (shop_id, name, created_by) VALUES ('s', 'S', 'cli')`);
        await tx.query('SELECT * FROM no_such_table');
      }),
    ).rejects.toMatchObject({ code: 'E_HOST_DB', details: { sqlstate: '42P01' } });
    expect(await db.query('SELECT * FROM shops')).toEqual([]);
  });
});

describe('host storage on a PostgreSQL server shared by two host instances', () => {
  it('serializes CRL publication per CA: a lower number waiting on a higher one is refused', async () => {
    const a = await dbs.fresh('postgres');
    const b = await dbs.reopen(a);
    let later: Promise<unknown> | undefined;
    await a.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO crl_versions (issuer_key_id, crl_number, this_update, next_update, revoked_count, der, published_by)
         VALUES ('AA', 7, now(), now(), 0, '\\x01', 'a')`,
      );
      later = new CrlVersions(b).publish(crlInput(6n)).then(
        () => 'stored',
        (e: unknown) => e,
      );
      await sleep(300); // b waits on the CA's lock held by this uncommitted transaction
    });
    expect(await later).toMatchObject({ code: 'E_CRL_NOT_NEWER' });
    expect((await new CrlVersions(b).history('AA')).map((h) => h.crlNumber)).toEqual([7n]);
  });

  it('sees one instance’s writes from the other', async () => {
    const a = await dbs.fresh('postgres');
    const b = await dbs.reopen(a);
    await withShopAndTerminal(a);
    expect((await new TerminalRegistry(b).find('T-1'))?.status).toBe('active');
  });
});

function crlInput(crlNumber: bigint) {
  const thisUpdate = new Date('2026-01-01T00:00:00Z');
  return {
    issuerKeyId: 'AA',
    crlNumber,
    thisUpdate,
    nextUpdate: new Date('2026-01-08T00:00:00Z'),
    revokedCount: 2,
    der: Uint8Array.of(1, 2, 3),
    actor: 'cli',
  };
}

async function expectSqlState(promise: Promise<unknown>, sqlstate: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code: 'E_HOST_DB', details: { sqlstate } });
}
