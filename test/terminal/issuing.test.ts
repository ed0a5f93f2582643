// Issuing contents under a create right (seed 000, second embodiment and modification 1), from the
// terminal's side: the issuing terminal registers with the command-generating server on the issuer
// host over HTTPS (pinned, signed with the terminal's key), asks it for a create right per issuance,
// and only an ack(ok) right lets the card create the item. Every step is in the terminal's journal;
// rejects and a host that cannot be reached issue nothing. (The server's own rules and refusals:
// test/issuer-host/authority-http.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { issueCommand, issuingStatusCommand } from '../../electron/cli/commands-issuing.js';
import { HostAuthority } from '../../electron/services/issuing/host-authority.js';
import { IssuingTerminal, newItem } from '../../electron/services/issuing/issuing-terminal.js';
import {
  loadOrCreateServerIdentity,
  saveRegistration,
} from '../../electron/services/issuing/server-identity.js';
import { DEFAULT_GRANT, type Grant } from '../../issuer-host/authority/grants.js';
import {
  authorityAllow,
  authorityDisallow,
  authorityStatus,
} from '../../issuer-host/cli/commands-authority.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { TerminalRegistry } from '../../issuer-host/db/terminal-registry.js';
import { concat, fromHex, toHex, u32 } from '../../protocol/bytes.js';
import { ecdsaSign, generateP256KeyPair, randomBytes } from '../../protocol/crypto-suite.js';
import { HostClient } from '../../protocol/host-link/host-client.js';
import type { AuthorizationAck, CommandAuthorityPort } from '../../protocol/issuing/authority-protocol.js';
import { INS } from '../../protocol/settlement/commands.js';
import { encodeItem, payloadDigest } from '../../protocol/settlement/contents-codec.js';
import { createRightMessage } from '../../protocol/settlement/create-right.js';
import { unixSeconds } from '../../protocol/settlement/validity-date.js';
import { useHostDatabases } from '../issuer-host/host-db-fixtures.js';
import { issuerWorld, type RunningHost, staffToken, startHost } from '../issuer-host/host-fixtures.js';
import { runCliHere } from '../support/cli-process.js';
import { serveDemoHostHere } from '../support/demo-host-fixture.js';
import { makeTerminal, TERMINAL_NOW, type TerminalUnderTest } from '../support/terminal-fixtures.js';

const dbs = useHostDatabases({ postgres: false });
const dirs: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'issuing-'));
  dirs.push(d);
  return d;
}

const NOW_S = unixSeconds(TERMINAL_NOW);

interface Setup {
  t: TerminalUnderTest;
  dir: string;
  db: HostDatabase;
  host: RunningHost;
  terminal: IssuingTerminal;
  /** The host's clock (and the terminal's request timestamps with it). */
  clock: { now: number };
  /** A client of the host with the terminal's key (the issuing terminal's own). */
  client: HostClient;
  /** An issuer-admin's client. */
  admin: HostClient;
  /** The pin of the host's TLS key. */
  pin: string;
  allow(grant?: Partial<Grant>): Promise<unknown>;
  disallow(): Promise<unknown>;
  /** Cards' persistent state, to show nothing changed. */
  payee(): { contents: unknown[]; usedGrants: string[] };
  steps(flowId: string): string[];
  /** The authority's log, oldest first. */
  log(): Promise<
    { kind: string; result: string; reason: string; item_id: string | null; grant_id: string | null }[]
  >;
}

async function setup(
  o: {
    allow?: Partial<Grant> | false;
    port?: (real: CommandAuthorityPort) => CommandAuthorityPort;
    revoke?: 'payee'[];
  } = {},
): Promise<Setup> {
  const t = makeTerminal({ payee: { issuerCard: true }, revoke: o.revoke });
  cleanups.push(() => t.engine.close());
  const dir = tempDir();
  const db = await dbs.fresh('embedded');
  const world = issuerWorld('Issuing', t.issuer);
  const tls = world.hostTls();
  const clock = { now: TERMINAL_NOW.getTime() };
  const now = () => clock.now;
  const host = await startHost({ db, world, tls, now, authority: { issuer: t.issuer } });
  cleanups.push(() => host.close());
  // The terminal's identity key, made once in its data folder, is what the host registers.
  const dataDir = join(dir, 'terminal');
  const identity = loadOrCreateServerIdentity(dataDir, { name: 'Corner Shop', terminalId: 'shop-1' });
  const registry = new TerminalRegistry(db);
  await registry.createShop({ shopId: 'shop', name: 'Shop', actor: 'cli' });
  await registry.register({
    terminalId: 'shop-1',
    shopId: 'shop',
    publicKey: identity.publicKey,
    actor: 'cli',
  });
  const client = new HostClient({
    baseUrl: `https://127.0.0.1:${new URL(host.url).port}`,
    caCertificateDer: world.caDer,
    pins: [tls.pin],
    terminal: { terminalId: 'shop-1', privateKey: identity.privateKey },
    now,
  });
  const admin = new HostClient({
    baseUrl: host.url,
    caCertificateDer: world.caDer,
    pins: [tls.pin],
    staffToken: await staffToken(db, 'issuer-admin'),
    now,
  });
  cleanups.push(
    () => client.close(),
    () => admin.close(),
  );
  const allow = (grant: Partial<Grant> = {}) =>
    admin.call('PUT', '/admin/authority/allow-list/shop-1', { ...DEFAULT_GRANT, ...grant });
  if (o.allow !== false) await allow(o.allow);
  const real = new HostAuthority(client);
  const terminal = new IssuingTerminal({
    engine: t.engine,
    authority: o.port ? o.port(real) : real,
    dataDir,
    now: () => new Date(clock.now),
  });
  return {
    t,
    dir,
    db,
    host,
    terminal,
    clock,
    client,
    admin,
    pin: tls.pin,
    allow,
    disallow: () => admin.call('DELETE', '/admin/authority/allow-list/shop-1'),
    payee: () => {
      const s = t.cards.payee.store.read();
      return { contents: s.contents, usedGrants: s.usedGrants };
    },
    steps: (flowId) => t.journal.entriesForFlow(flowId).map((e) => e.step),
    log: () =>
      db.query('SELECT kind, result, reason, item_id, grant_id FROM authority_log ORDER BY entry_id'),
  };
}

const concert = (s: Setup, o: { issuerId?: string } = {}) =>
  newItem({
    type: 'ticket',
    issuerId: o.issuerId ?? s.t.issuer.issuerId,
    label: 'Concert',
    body: 'seat B12',
  });

describe('registration with the command-generating server on the host', () => {
  it('registers over the pinned link and keeps the create command; again gives the same command', async () => {
    const s = await setup();
    const r = await s.terminal.register();
    expect(r.status).toBe('registered');
    if (r.status !== 'registered') return;
    expect(r.createCommand).toMatchObject({
      terminalId: 'shop-1',
      issuerId: s.t.issuer.issuerId,
      contentTypes: ['ticket', 'coupon'],
      notAfter: NOW_S + DEFAULT_GRANT.validitySeconds,
      maxIssuances: null,
    });
    expect(s.steps(r.flowId)).toEqual(['register-requested', 'registered', 'completed']);
    expect(s.terminal.registration()?.createCommand.commandId).toBe(r.createCommand.commandId);
    const again = await s.terminal.register();
    expect(again.status === 'registered' && again.createCommand.commandId).toBe(r.createCommand.commandId);
    expect((await s.log()).map((l) => [l.kind, l.result])).toEqual([
      ['register', 'ok'],
      ['register', 'ok'],
    ]);
  });

  it('journals a rejected registration and keeps no command; once allowed it registers', async () => {
    const s = await setup({ allow: false });
    const r = await s.terminal.register();
    expect(r).toMatchObject({
      status: 'rejected',
      reason: 'not-eligible',
      error: { code: 'E_INPUT_INVALID' },
    });
    expect(s.steps(r.flowId)).toEqual(['register-requested', 'register-rejected', 'failed-no-value-moved']);
    expect(s.t.journal.entriesForFlow(r.flowId)[1]!.payload).toMatchObject({ reason: 'not-eligible' });
    expect(s.terminal.registration()).toBeUndefined();
    await s.allow();
    expect((await s.terminal.register()).status).toBe('registered');
  });
});

describe('issuance under a create right, over HTTPS to the host', () => {
  it('puts the item on the card when the host grants the create right', async () => {
    const s = await setup();
    const item = concert(s);
    const outcome = await s.terminal.issue('payee', item);
    expect(outcome).toMatchObject({
      status: 'issued',
      item,
      cardHolderId: s.t.cards.payee.store.read().holderId,
    });
    if (outcome.status !== 'issued') return;
    const listed = await s.t.engine.withCards(async (cards) =>
      (await cards.session('payee')).client.listContents(),
    );
    expect(listed).toEqual([
      {
        id: item.id,
        type: 'ticket',
        issuerId: item.issuerId,
        policy: 'issuer-alterable',
        label: 'Concert',
        locked: false,
      },
    ]);
    expect(s.payee().usedGrants).toEqual([outcome.grantId]);
    expect(s.t.cards.payer.store.read().contents).toEqual([]);
    expect(s.t.flows.flow(outcome.flowId)).toMatchObject({
      items: [{ label: 'Concert', type: 'ticket' }],
      cards: [{ holderId: s.t.cards.payee.store.read().holderId }],
    });
    // The terminal journal: a registration flow, then the issuance flow.
    expect(s.steps(outcome.flowId)).toEqual(['issue-requested', 'issue-authorized', 'completed']);
    expect(s.t.flows.flow(outcome.flowId)).toMatchObject({ flowKind: 'admin', terminal: true });
    expect(s.t.journal.verify()).toMatchObject({ ok: true });
    expect(await s.log()).toEqual([
      { kind: 'register', result: 'ok', reason: 'ok', item_id: null, grant_id: null },
      { kind: 'authorize', result: 'ok', reason: 'ok', item_id: item.id, grant_id: outcome.grantId },
    ]);
  });

  it('the card refuses CREATE CONTENT without a create right, or with a forged one: nothing changes', async () => {
    const s = await setup();
    const before = s.payee();
    const template = encodeItem(concert(s));
    await s.t.engine.withCards(async (cards) => {
      const { client, info } = await cards.session('payee');
      await expect(client.command(INS.CREATE_CONTENT, 0, concat(u32(NOW_S), template))).rejects.toMatchObject(
        {
          code: 'E_CARD_STATUS',
          details: { sw: 0x6982 },
        },
      );
      const grantId = randomBytes(16);
      const message = createRightMessage({
        grantId,
        cardHolderId: info.holderId,
        itemDigest: payloadDigest(template),
        notAfter: NOW_S + 600,
      });
      const forged = {
        grantId,
        notAfter: NOW_S + 600,
        signature: ecdsaSign(generateP256KeyPair().privateKey, message),
      };
      await expect(client.createContent(NOW_S, template, forged)).rejects.toMatchObject({
        details: { sw: 0x6982 },
      });
    });
    expect(s.payee()).toEqual(before);
  });

  it('a right the card refuses (a compromised host answering ok) is journaled, and nothing is issued', async () => {
    const s = await setup({
      port: (real) => ({
        register: (r) => real.register(r),
        async authorize(r): Promise<AuthorizationAck> {
          const ack = await real.authorize(r);
          if (ack.result !== 'ok') return ack;
          const message = createRightMessage({
            grantId: fromHex(ack.right.grantId),
            cardHolderId: fromHex(r.request.cardHolderId),
            itemDigest: payloadDigest(encodeItem(r.request.item)),
            notAfter: ack.right.notAfter,
          });
          return {
            ...ack,
            right: { ...ack.right, signature: toHex(ecdsaSign(generateP256KeyPair().privateKey, message)) },
          };
        },
      }),
    });
    const before = s.payee();
    const outcome = await s.terminal.issue('payee', concert(s));
    expect(outcome).toMatchObject({
      status: 'refused',
      error: { code: 'E_CARD_STATUS', details: { sw: 0x6982 } },
    });
    expect(s.payee()).toEqual(before);
    const flowId = (outcome as { flowId: string }).flowId;
    expect(s.steps(flowId)).toEqual(['issue-requested', 'issue-authorized', 'failed-no-value-moved']);
    expect((await s.log()).at(-1)).toMatchObject({ kind: 'authorize', result: 'ok' }); // the host did grant
  });

  it('a second issuance of the same item is refused by the card (single use per item ID)', async () => {
    const s = await setup();
    const item = concert(s);
    expect((await s.terminal.issue('payee', item)).status).toBe('issued');
    const after = s.payee();
    expect(await s.terminal.issue('payee', item)).toMatchObject({
      status: 'refused',
      error: { details: { sw: 0x6a80 } },
    });
    expect(s.payee()).toEqual(after);
  });

  type RejectCase = {
    name: string;
    reason: string;
    code: string;
    arrange?: (s: Setup) => Promise<unknown>;
    allow?: Partial<Grant>;
    item?: (s: Setup) => ReturnType<typeof concert>;
  };
  const rejects: RejectCase[] = [
    {
      name: 'a type the command does not allow',
      reason: 'type-not-allowed',
      code: 'E_INPUT_INVALID',
      allow: { contentTypes: ['coupon'] },
    },
    {
      name: 'an item of a foreign issuer',
      reason: 'foreign-issuer',
      code: 'E_INPUT_INVALID',
      item: (s) => concert(s, { issuerId: toHex(randomBytes(16)) }),
    },
    {
      name: 'an expired create command',
      reason: 'command-expired',
      code: 'E_PKI_EXPIRED',
      async arrange(s) {
        await s.terminal.register();
        // The host's clock moves on; the terminal's copy of the command still looks valid to it.
        s.clock.now += (DEFAULT_GRANT.validitySeconds + 1) * 1000;
        saveRegistration(join(s.dir, 'terminal'), {
          ...s.terminal.registration()!,
          serverPublicKey: s.terminal.identity.publicKey,
          createCommand: { ...s.terminal.registration()!.createCommand, notAfter: 2 ** 31 - 1 },
        });
      },
    },
    {
      name: 'a used-up create command',
      reason: 'limit-reached',
      code: 'E_INPUT_INVALID',
      allow: { maxIssuances: 1 },
      arrange: async (s) => expect((await s.terminal.issue('payee', concert(s))).status).toBe('issued'),
    },
    {
      name: 'a terminal taken off the allow-list',
      reason: 'not-eligible',
      code: 'E_INPUT_INVALID',
      async arrange(s) {
        await s.terminal.register();
        await s.disallow();
      },
    },
  ];

  for (const c of rejects) {
    it(`rejects ${c.name}: refused, logged with its reason by the host and in the journal`, async () => {
      const s = await setup(c.allow ? { allow: c.allow } : {});
      await c.arrange?.(s);
      const before = s.payee();
      const item = c.item?.(s) ?? concert(s);
      const outcome = await s.terminal.issue('payee', item);
      expect(outcome).toMatchObject({
        status: 'rejected',
        stage: 'authorization',
        reason: c.reason,
        error: { code: c.code },
      });
      expect(s.payee()).toEqual(before);
      const flowId = (outcome as { flowId: string }).flowId;
      expect(s.steps(flowId)).toEqual(['issue-requested', 'issue-rejected', 'failed-no-value-moved']);
      expect(s.t.journal.entriesForFlow(flowId)[1]!.payload).toMatchObject({
        reason: c.reason,
        code: c.code,
      });
      expect((await s.log()).at(-1)).toMatchObject({
        kind: 'authorize',
        result: 'reject',
        reason: c.reason,
        item_id: item.id,
      });
    });
  }

  it('after an expired command the terminal registers again on the next issuance', async () => {
    const s = await setup();
    await s.terminal.register();
    const first = s.terminal.registration()!.createCommand.commandId;
    s.clock.now += (DEFAULT_GRANT.validitySeconds + 1) * 1000;
    const outcome = await s.terminal.issue('payee', concert(s));
    expect(outcome.status).toBe('issued');
    expect(outcome.status === 'issued' && outcome.commandId).not.toBe(first);
  });

  it('a stolen create command is no use to another terminal registered at the host', async () => {
    const s = await setup();
    await s.terminal.register();
    const stolen = s.terminal.registration()!;
    // The intruder is a terminal the host knows, on the allow-list, with its own key.
    const intruderDir = join(s.dir, 'intruder');
    const intruderKey = loadOrCreateServerIdentity(intruderDir, { terminalId: 'intruder' });
    await s.admin.call('POST', '/admin/terminals', {
      terminalId: 'intruder',
      shopId: 'shop',
      publicKey: toHex(intruderKey.publicKey),
    });
    await s.admin.call('PUT', '/admin/authority/allow-list/intruder', DEFAULT_GRANT);
    const intruderClient = new HostClient({
      baseUrl: s.host.url,
      caCertificateDer: fromHex(s.t.issuer.caCertificate),
      pins: [s.pin],
      terminal: { terminalId: 'intruder', privateKey: intruderKey.privateKey },
      now: () => s.clock.now,
    });
    cleanups.push(() => intruderClient.close());
    const intruder = new IssuingTerminal({
      engine: s.t.engine,
      authority: new HostAuthority(intruderClient),
      dataDir: intruderDir,
      now: () => new Date(s.clock.now),
    });
    saveRegistration(intruderDir, {
      serverPublicKey: intruder.identity.publicKey,
      registeredAt: stolen.registeredAt,
      createCommand: stolen.createCommand,
    });
    const before = s.payee();
    expect(await intruder.issue('payee', concert(s))).toMatchObject({
      status: 'rejected',
      reason: 'unregistered-server',
      error: { code: 'E_PKI_SIGNATURE' },
    });
    expect(s.payee()).toEqual(before);
  });

  it('refuses a malformed item before asking anyone, and a card the terminal does not accept', async () => {
    const s = await setup();
    const bad = await s.terminal.issue('payee', { ...concert(s), label: 'x'.repeat(49) });
    expect(bad).toMatchObject({ status: 'refused', error: { code: 'E_INPUT_INVALID' } });
    expect(await s.log()).toEqual([]);

    const revoked = await setup({ revoke: ['payee'] });
    const before = revoked.payee();
    const outcome = await revoked.terminal.issue('payee', concert(revoked));
    expect(outcome).toMatchObject({ status: 'refused', error: { code: 'E_PKI_REVOKED' } });
    expect(revoked.payee()).toEqual(before);
    expect((await revoked.log()).map((e) => e.kind)).toEqual(['register']);
  });

  it('issues nothing when the host cannot be reached, presents another key, or has revoked the terminal', async () => {
    const s = await setup();
    await s.terminal.register();
    const before = s.payee();
    const log = await s.log();
    // Another key than the pinned one (the right CA, the right name): the request is never sent.
    const world = issuerWorld('Issuing', s.t.issuer);
    const impostor = await startHost({ db: s.db, world, tls: world.hostTls() });
    cleanups.push(() => impostor.close());
    const pinned = (url: string) =>
      new HostAuthority(
        new HostClient({
          baseUrl: url,
          caCertificateDer: fromHex(s.t.issuer.caCertificate),
          pins: [s.pin],
          terminal: { terminalId: 'shop-1', privateKey: s.terminal.identity.privateKey },
        }),
      );
    const cases: [CommandAuthorityPort, string][] = [
      [pinned(impostor.url), 'E_HOST_PIN'],
      [pinned('https://127.0.0.1:1'), 'E_TRANSPORT'],
    ];
    for (const [port, code] of cases) {
      const terminal = new IssuingTerminal({
        engine: s.t.engine,
        authority: port,
        dataDir: join(s.dir, 'terminal'),
        now: () => new Date(s.clock.now),
      });
      const outcome = await terminal.issue('payee', concert(s));
      expect(outcome).toMatchObject({ status: 'refused', error: { code } });
      const flowId = (outcome as { flowId: string }).flowId;
      expect(s.steps(flowId)).toEqual(['issue-requested', 'failed-no-value-moved']);
      expect(s.t.journal.entriesForFlow(flowId)[1]!.payload).toMatchObject({ stage: 'authority', code });
    }
    await s.admin.call('POST', '/admin/terminals/shop-1/revoke', { reason: 'stolen' });
    expect(await s.terminal.issue('payee', concert(s))).toMatchObject({
      status: 'refused',
      error: { code: 'E_AUTH_REVOKED' },
    });
    expect(s.payee()).toEqual(before);
    expect(await s.log()).toEqual(log);
  });

  it('after a lost answer to CREATE CONTENT it reads the card to settle the flow', async () => {
    const s = await setup();
    s.t.slots.stallAfterCard('payee', { when: (apdu) => apdu[1] === INS.CREATE_CONTENT });
    const item = concert(s);
    const outcome = await s.terminal.issue('payee', item);
    expect(outcome).toMatchObject({ status: 'issued' });
    const flowId = (outcome as { flowId: string }).flowId;
    expect(s.steps(flowId)).toEqual([
      'issue-requested',
      'issue-authorized',
      'issue-interrupted',
      'completed',
    ]);
    expect(s.payee().contents).toMatchObject([{ id: item.id }]);

    s.t.slots.clearFaults('payee');
    s.t.slots.stall('payee', { when: (apdu) => apdu[1] === INS.CREATE_CONTENT });
    const lost = await s.terminal.issue('payee', concert(s));
    expect(lost).toMatchObject({ status: 'refused', error: { code: 'E_TRANSPORT_TIMEOUT' } });
    const lostId = (lost as { flowId: string }).flowId;
    expect(s.steps(lostId)).toEqual([
      'issue-requested',
      'issue-authorized',
      'issue-interrupted',
      'failed-no-value-moved',
    ]);
    expect(s.payee().contents).toHaveLength(1);
  });
});

describe('issuing from the command line, against the demo shop’s host', () => {
  const cli = runCliHere;

  it('issues onto the demo shop card; a terminal the issuer’s staff disallow is refused until allowed again', async () => {
    const demo = join(tempDir(), 'demo');
    const config = ensureDemoEnvironment(demo, { operatorPinCost: { logN: 10, r: 8, p: 1 } });
    const host = await serveDemoHostHere(demo, await dbs.fresh('embedded'));
    cleanups.push(() => host.close());
    const issuer = join(demo, 'issuer.json');
    const terminal = [issueCommand, issuingStatusCommand];
    const status = await cli(terminal, 'issuing-status', '--config', config, '--json');
    expect(status.code).toBe(0);
    const terminalId = JSON.parse(status.stdout).serverInfo.terminalId as string;
    expect(terminalId).toBe('demo-shop-terminal');

    const args = [
      '--config',
      config,
      '--type',
      'ticket',
      '--label',
      'Concert',
      '--body-text',
      'seat B12',
      '--json',
    ];
    expect((await cli(terminal, 'issue', ...args)).code).toBe(0);

    // The issuer's staff, over HTTPS with the demo's host link (issuer-host.json beside the issuer file).
    const authority = [authorityAllow, authorityDisallow, authorityStatus];
    expect(
      (await cli(authority, 'authority-disallow', '--issuer', issuer, '--terminal-id', terminalId)).code,
    ).toBe(0);
    const refused = await cli(terminal, 'issue', ...args);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 'rejected', reason: 'not-eligible' });

    expect(
      (await cli(authority, 'authority-allow', '--issuer', issuer, '--terminal-id', terminalId)).code,
    ).toBe(0);
    const issued = await cli(terminal, 'issue', ...args);
    expect(issued.code).toBe(0);
    expect(JSON.parse(issued.stdout)).toMatchObject({
      status: 'issued',
      item: { type: 'ticket', label: 'Concert' },
    });

    const after = JSON.parse((await cli(terminal, 'issuing-status', '--config', config, '--json')).stdout);
    expect(after.host).toBe(host.url);
    expect(after.authorityCommand).toMatchObject({ granted: expect.any(Number) });
    const reasons = after.log.map((e: { reason: string }) => e.reason);
    expect(reasons).toContain('not-eligible');
    expect(reasons.filter((r: string) => r === 'ok').length).toBeGreaterThanOrEqual(3);
    const log = JSON.parse((await cli(authority, 'authority-status', '--issuer', issuer, '--json')).stdout);
    expect(log.servers).toMatchObject([{ terminalId }]);
  });
});
