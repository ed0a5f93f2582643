// The command-generating server over HTTP (seed 000, S1101–S1109, modification 1) on both backends:
// registration → create command, authentication request → ack(ok) with a create right the card
// would accept, every reject reason with nothing changed but its log line, and the requests the host
// refuses before the authority sees them (replay, a wrong terminal key, a revoked terminal).
import { afterEach, describe, expect, it } from 'vitest';
import { TerminalRegistry } from '../../issuer-host/db/terminal-registry.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { ecdsaVerify, generateP256KeyPair, randomBytes } from '../../protocol/crypto-suite.js';
import { signRequest } from '../../protocol/host-link/signed-request.js';
import { encodeItem, payloadDigest } from '../../protocol/settlement/contents-codec.js';
import { createRightMessage } from '../../protocol/settlement/create-right.js';
import { type AuthorityScene, authorityScene, T0 } from './authority-fixtures.js';
import { BACKENDS, expectRefusal, useHostDatabases } from './host-db-fixtures.js';
import { staffToken } from './host-fixtures.js';

const dbs = useHostDatabases();
const scenes: AuthorityScene[] = [];
afterEach(async () => {
  for (const s of scenes.splice(0)) await s.close();
});

const T0_S = T0 / 1000;
const DAY = 86_400;

describe.each(BACKENDS)('the command-generating server over HTTP on %s', (backend) => {
  async function scene(o: Parameters<typeof authorityScene>[1] = {}) {
    const s = await authorityScene(await dbs.fresh(backend), o);
    scenes.push(s);
    return s;
  }

  /** A scene with terminal shop-1 allow-listed and registered: its create command. */
  async function registered(grant: Parameters<AuthorityScene['allow']>[1] = {}) {
    const s = await scene();
    const t = await s.terminal('shop-1');
    await s.allow('shop-1', grant);
    const ack = await t.port.register(t.registration());
    if (ack.result !== 'ok') throw new Error(`registration rejected: ${ack.reason}`);
    return { s, t, command: ack.createCommand };
  }

  it('registers an allow-listed terminal with its server information and signature, and answers with a create command', async () => {
    const s = await scene();
    const t = await s.terminal('shop-1');
    await s.allow('shop-1', { maxIssuances: 5, validitySeconds: 7 * DAY });
    const ack = await t.port.register(t.registration());
    expect(ack).toMatchObject({
      result: 'ok',
      createCommand: {
        terminalId: 'shop-1',
        issuerId: s.world.issuer.issuerId,
        contentTypes: ['ticket', 'coupon'],
        maxIssuances: 5,
        notAfter: T0_S + 7 * DAY,
      },
    });
    // Registering again while the command holds gives the same command (no fresh quota).
    const again = await t.port.register(t.registration());
    expect(again.result === 'ok' && again.commandId).toBe(ack.result === 'ok' && ack.commandId);
    expect(await s.log()).toEqual([
      { kind: 'register', result: 'ok', reason: 'ok', sender_terminal_id: 'shop-1', terminal_id: 'shop-1' },
      { kind: 'register', result: 'ok', reason: 'ok', sender_terminal_id: 'shop-1', terminal_id: 'shop-1' },
    ]);
    const status = await t.port.status();
    expect(status).toMatchObject({
      issuerId: s.world.issuer.issuerId,
      allowed: { contentTypes: ['ticket', 'coupon'], maxIssuances: 5 },
      registration: { serverInfo: t.info, command: { granted: 0, expired: false } },
    });
    expect(status.log).toHaveLength(2);
  });

  it('grants a create right bound to the card and the exact item, signed by the authority key the cards hold', async () => {
    const { s, t, command } = await registered();
    const item = s.item();
    const request = t.authorization(command.commandId, { item });
    const ack = await t.port.authorize(request);
    expect(ack.result).toBe('ok');
    if (ack.result !== 'ok') return;
    expect(ack.right.notAfter).toBe(T0_S + 600);
    const message = createRightMessage({
      grantId: fromHex(ack.right.grantId),
      cardHolderId: fromHex(request.request.cardHolderId),
      itemDigest: payloadDigest(encodeItem(item)),
      notAfter: ack.right.notAfter,
    });
    const cardsKey = (await s.staff(s.admin).call<{ publicKey: string }>('GET', '/admin/authority'))
      .publicKey;
    expect(ecdsaVerify(fromHex(cardsKey), message, fromHex(ack.right.signature))).toBe(true);
    // Another card or another item: the same right does not verify.
    const otherCard = createRightMessage({
      grantId: fromHex(ack.right.grantId),
      cardHolderId: randomBytes(16),
      itemDigest: payloadDigest(encodeItem(item)),
      notAfter: ack.right.notAfter,
    });
    expect(ecdsaVerify(fromHex(cardsKey), otherCard, fromHex(ack.right.signature))).toBe(false);
    const [line] = await s.db.query<{ grant_id: string; item_id: string; right_not_after: bigint }>(
      "SELECT grant_id, item_id, right_not_after FROM authority_log WHERE kind = 'authorize'",
    );
    expect(line).toEqual({
      grant_id: ack.right.grantId,
      item_id: item.id,
      right_not_after: BigInt(T0_S + 600),
    });
    expect((await t.port.status()).registration?.command?.granted).toBe(1);
  });

  type Scene = Awaited<ReturnType<typeof registered>>;
  type Ack = { result: string; reason?: string; error?: unknown };
  type Case = {
    reason: string;
    code: string;
    grant?: Parameters<AuthorityScene['allow']>[1];
    /** Brings the scene to where the request is refused (may change state); returns what act needs. */
    arrange?(x: Scene): Promise<unknown>;
    /** Sends the one request that must be rejected. */
    act(x: Scene, arranged: unknown): Promise<Ack>;
  };
  const boxOffice = { name: 'Box Office', terminalId: 'box-1' };
  const cases: Case[] = [
    {
      reason: 'bad-request',
      code: 'E_INPUT_INVALID',
      act: ({ t }) =>
        t.client.call('POST', '/terminal/authority/register', { serverInfo: { terminalId: 'shop-1' } }),
    },
    {
      reason: 'bad-request',
      code: 'E_INPUT_INVALID',
      act: ({ t, command }) =>
        t.client.call('POST', '/terminal/authority/authorize', {
          ...t.authorization(command.commandId),
          extra: true,
        }),
    },
    {
      reason: 'bad-signature',
      code: 'E_PKI_SIGNATURE',
      act: ({ t }) => t.port.register(t.registration({ signer: generateP256KeyPair().privateKey })),
    },
    {
      reason: 'bad-signature',
      code: 'E_PKI_SIGNATURE',
      act: ({ t, command }) =>
        t.port.authorize(t.authorization(command.commandId, { signer: generateP256KeyPair().privateKey })),
    },
    {
      // A self-consistent registration with a key other than the one the host knows the terminal by.
      reason: 'key-mismatch',
      code: 'E_PKI_SIGNATURE',
      act: ({ t }) => t.port.register(t.registration({ keys: generateP256KeyPair() })),
    },
    {
      reason: 'wrong-sender',
      code: 'E_AUTH_FORBIDDEN',
      act: ({ t }) => t.port.register(t.registration({ info: boxOffice })),
    },
    {
      reason: 'wrong-sender',
      code: 'E_AUTH_FORBIDDEN',
      act: ({ t, command }) => t.port.authorize(t.authorization(command.commandId, { info: boxOffice })),
    },
    {
      reason: 'unknown-command',
      code: 'E_INPUT_INVALID',
      act: ({ t }) => t.port.authorize(t.authorization(toHex(randomBytes(16)))),
    },
    {
      reason: 'unregistered-server',
      code: 'E_PKI_SIGNATURE',
      act: ({ t, command }) =>
        t.port.authorize(t.authorization(command.commandId, { info: { ...t.info, name: 'Renamed' } })),
    },
    {
      reason: 'not-eligible',
      code: 'E_INPUT_INVALID',
      arrange: ({ s }) => s.staff(s.admin).call('DELETE', '/admin/authority/allow-list/shop-1'),
      act: ({ t, command }) => t.port.authorize(t.authorization(command.commandId)),
    },
    {
      reason: 'not-eligible',
      code: 'E_INPUT_INVALID',
      arrange: ({ s }) => s.staff(s.admin).call('DELETE', '/admin/authority/allow-list/shop-1'),
      act: ({ t }) => t.port.register(t.registration()),
    },
    {
      reason: 'command-expired',
      code: 'E_PKI_EXPIRED',
      arrange: async ({ s, command }) => {
        s.clock.now = (command.notAfter + 1) * 1000;
      },
      act: ({ t, command }) => t.port.authorize(t.authorization(command.commandId)),
    },
    {
      reason: 'limit-reached',
      code: 'E_INPUT_INVALID',
      grant: { maxIssuances: 1 },
      arrange: async ({ t, command }) =>
        expect((await t.port.authorize(t.authorization(command.commandId))).result).toBe('ok'),
      act: ({ t, command }) => t.port.authorize(t.authorization(command.commandId)),
    },
    {
      reason: 'foreign-issuer',
      code: 'E_INPUT_INVALID',
      act: ({ s, t, command }) =>
        t.port.authorize(
          t.authorization(command.commandId, { item: s.item({ issuerId: toHex(randomBytes(16)) }) }),
        ),
    },
    {
      reason: 'type-not-allowed',
      code: 'E_INPUT_INVALID',
      grant: { contentTypes: ['coupon'] },
      act: ({ s, t, command }) =>
        t.port.authorize(t.authorization(command.commandId, { item: s.item({ type: 'ticket' }) })),
    },
    {
      reason: 'replayed',
      code: 'E_INPUT_INVALID',
      async arrange({ t, command }) {
        const request = t.authorization(command.commandId);
        expect((await t.port.authorize(request)).result).toBe('ok');
        return request;
      },
      // The same signed authentication request again, in a new (freshly signed) HTTP request.
      act: ({ t }, request) => t.port.authorize(request as ReturnType<typeof t.authorization>),
    },
    {
      reason: 'command-superseded',
      code: 'E_PKI_REVOKED',
      async arrange({ s, t, command }) {
        await s.allow('shop-1', { maxIssuances: 3 }); // a new grant: the next registration replaces the command
        const again = await t.port.register(t.registration());
        expect(again.result === 'ok' && again.commandId).not.toBe(command.commandId);
      },
      act: ({ t, command }) => t.port.authorize(t.authorization(command.commandId)),
    },
  ];

  for (const c of cases) {
    it(`rejects with ${c.reason}: only a log line with its reason and sender, nothing else changes`, async () => {
      const x = await registered(c.grant);
      const arranged = await c.arrange?.(x);
      const before = await x.s.rows({ withoutLog: true });
      const logBefore = await x.s.log();
      const ack = await c.act(x, arranged);
      expect(ack).toMatchObject({ result: 'reject', reason: c.reason, error: { code: c.code } });
      expect(await x.s.rows({ withoutLog: true })).toEqual(before);
      expect(await x.s.log()).toEqual([
        ...logBefore,
        {
          kind: expect.any(String),
          result: 'reject',
          reason: c.reason,
          sender_terminal_id: 'shop-1',
          terminal_id: expect.anything(),
        },
      ]);
    });
  }

  it('refuses a replayed HTTP request, a request signed with another key and a revoked terminal before the authority sees them', async () => {
    const { s, t, command } = await registered();
    const before = await s.rows();
    const body = new TextEncoder().encode(JSON.stringify(t.authorization(command.commandId)));
    const path = '/terminal/authority/authorize';
    const headers = {
      'content-type': 'application/json',
      ...signRequest(t.keys.privateKey, { method: 'POST', path, terminalId: 'shop-1', body }, { now: T0 }),
    };
    const first = await fetch(s.host.url + path, { method: 'POST', headers, body });
    expect(first.status).toBe(200);
    const replay = await fetch(s.host.url + path, { method: 'POST', headers, body });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: 'E_AUTH_REPLAY' });
    const afterOne = await s.log();
    expect(afterOne.length).toBe((before.authority_log as unknown[]).length + 1);

    // Signed by a key that is not shop-1's: the host refuses it, the authority never hears of it.
    const forged = {
      'content-type': 'application/json',
      ...signRequest(
        generateP256KeyPair().privateKey,
        { method: 'POST', path, terminalId: 'shop-1', body },
        { now: T0 },
      ),
    };
    const refused = await fetch(s.host.url + path, { method: 'POST', headers: forged, body });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'E_AUTH_INVALID' });

    // Revoked at the host: no registration, no right, whatever the allow-list says.
    await new TerminalRegistry(s.db).revoke({ terminalId: 'shop-1', actor: 'cli', reason: 'stolen' });
    await expectRefusal(t.port.authorize(t.authorization(command.commandId)), 'E_AUTH_REVOKED');
    await expectRefusal(t.port.register(t.registration()), 'E_AUTH_REVOKED');
    expect(await s.log()).toEqual(afterOne);
  });

  it('keeps one terminal from using another’s command, and gives each its own status only', async () => {
    const { s, t, command } = await registered();
    const intruder = await s.terminal('box-1');
    await s.allow('box-1');
    expect((await intruder.port.register(intruder.registration())).result).toBe('ok');
    // box-1 signs honestly with its own key and information, but names shop-1's command.
    expect(await intruder.port.authorize(intruder.authorization(command.commandId))).toMatchObject({
      result: 'reject',
      reason: 'unregistered-server',
    });
    // box-1 claims shop-1's information: its request is not shop-1's to make.
    expect(
      await intruder.port.authorize(intruder.authorization(command.commandId, { info: t.info })),
    ).toMatchObject({ result: 'reject', reason: 'wrong-sender' });
    const status = await t.port.status();
    // shop-1 sees its own registration only, not box-1's requests that named its command.
    expect(status.log.map((l) => [l.senderTerminalId, l.kind, l.reason])).toEqual([
      ['shop-1', 'register', 'ok'],
    ]);
  });

  it('approve-all registers any registered terminal with the default grant, still refusing a forged signature', async () => {
    const s = await scene({ eligibility: 'approve-all' });
    const t = await s.terminal('box-9');
    expect(await t.port.register(t.registration({ signer: generateP256KeyPair().privateKey }))).toMatchObject(
      {
        result: 'reject',
        reason: 'bad-signature',
      },
    );
    expect(await t.port.register(t.registration())).toMatchObject({
      result: 'ok',
      createCommand: { terminalId: 'box-9', contentTypes: ['ticket', 'coupon'], maxIssuances: null },
    });
  });

  it('lets only issuer-admin change the allow-list, auditors read it, and nobody else; each change is an audit event', async () => {
    const s = await scene();
    await s.terminal('shop-1');
    const auditor = s.staff(await staffToken(s.db, 'auditor'));
    const publisher = s.staff(await staffToken(s.db, 'crl-publisher'));
    const admin = s.staff(s.admin);
    const before = await s.rows();
    await expectRefusal(auditor.call('PUT', '/admin/authority/allow-list/shop-1', {}), 'E_AUTH_FORBIDDEN');
    await expectRefusal(publisher.call('GET', '/admin/authority/allow-list'), 'E_AUTH_FORBIDDEN');
    await expectRefusal(admin.call('PUT', '/admin/authority/allow-list/nobody', {}), 'E_NOT_FOUND');
    await expectRefusal(
      admin.call('PUT', '/admin/authority/allow-list/shop-1', { contentTypes: ['gold'] }),
      'E_INPUT_INVALID',
    );
    await expectRefusal(
      admin.call('PUT', '/admin/authority/allow-list/shop-1', { maxIssuances: 0 }),
      'E_INPUT_INVALID',
    );
    const t = await s.terminal('shop-2');
    await expectRefusal(t.client.call('GET', '/admin/authority/allow-list'), 'E_AUTH_FORBIDDEN');
    await expectRefusal(admin.call('GET', '/terminal/authority/status'), 'E_AUTH_FORBIDDEN');
    const rows = await s.rows();
    expect(rows.authority_allow_list).toEqual(before.authority_allow_list);

    expect(
      await admin.call('PUT', '/admin/authority/allow-list/shop-1', { contentTypes: ['coupon'] }),
    ).toMatchObject({
      terminalId: 'shop-1',
      contentTypes: ['coupon'],
      maxIssuances: null,
      validitySeconds: 30 * DAY,
    });
    expect(await auditor.call('GET', '/admin/authority/allow-list')).toMatchObject({
      allowList: [{ terminalId: 'shop-1' }],
    });
    expect(await admin.call('DELETE', '/admin/authority/allow-list/shop-1')).toEqual({
      terminalId: 'shop-1',
      removed: true,
    });
    expect(await admin.call('DELETE', '/admin/authority/allow-list/shop-1')).toEqual({
      terminalId: 'shop-1',
      removed: false,
    });
    const events = await s.db.query<{ kind: string; subject: string }>(
      "SELECT kind, subject FROM audit_events WHERE kind LIKE 'authority.%' ORDER BY event_id",
    );
    expect(events).toEqual([
      { kind: 'authority.allowed', subject: 'shop-1' },
      { kind: 'authority.disallowed', subject: 'shop-1' },
    ]);
  });
});
