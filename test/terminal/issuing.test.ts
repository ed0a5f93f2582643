// Issuing contents under a create right (seed 000, second embodiment and modification 1): the
// issuing terminal registers with the command-generating authority, asks it for a create right per
// issuance, and only an ack(ok) right lets the card create the item. Rejects are logged on both sides.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createIssuer } from '../../card-sim/issuer/issuer.js';
import { openDatabase } from '../../db/connection.js';
import { migrate } from '../../db/migrate.js';
import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { issueCommand, issuingStatusCommand } from '../../electron/cli/commands-issuing.js';
import { IssuingTerminal, newItem } from '../../electron/services/issuing/issuing-terminal.js';
import { saveRegistration } from '../../electron/services/issuing/server-identity.js';
import { CommandAuthority } from '../../issuer-host/authority/command-authority.js';
import { DEFAULT_GRANT, type Grant } from '../../issuer-host/authority/grants.js';
import { InProcessAuthority } from '../../issuer-host/authority/in-process-authority.js';
import { openAuthorityDatabase } from '../../issuer-host/authority/store/connection.js';
import {
  AUTHORITY_APPLICATION_ID,
  AUTHORITY_LATEST_VERSION,
  AUTHORITY_MIGRATIONS,
} from '../../issuer-host/authority/store/migrations/index.js';
import {
  authorityAllow,
  authorityDisallow,
  authorityStatus,
} from '../../issuer-host/cli/commands-authority.js';
import { concat, fromHex, toHex, u32 } from '../../protocol/bytes.js';
import { ecdsaSign, generateP256KeyPair, randomBytes } from '../../protocol/crypto-suite.js';
import {
  type AuthorizationAck,
  type AuthorizationRequest,
  authorizationMessage,
  type CommandAuthorityPort,
  registrationMessage,
  type ServerInfo,
} from '../../protocol/issuing/authority-protocol.js';
import { encodeItem, payloadDigest } from '../../protocol/settlement/contents-codec.js';
import { createRightMessage } from '../../protocol/settlement/create-right.js';
import { unixSeconds } from '../../protocol/settlement/validity-date.js';
import { runCli } from '../../tooling/cli-kit.js';
import { TEST_CURRENCY } from '../support/card-fixtures.js';
import { makeTerminal, TERMINAL_NOW, type TerminalUnderTest } from '../support/terminal-fixtures.js';

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
  authority: CommandAuthority;
  terminal: IssuingTerminal;
  clock: { authority: Date };
  /** Cards' persistent state, to show nothing changed. */
  payee(): { contents: unknown[]; usedGrants: string[] };
  steps(flowId: string): string[];
  lastLog(): ReturnType<CommandAuthority['log']>[number];
}

function setup(
  o: {
    allow?: Partial<Grant> | false;
    eligibility?: 'allow-list' | 'approve-all';
    port?: CommandAuthorityPort;
    revoke?: 'payee'[];
  } = {},
): Setup {
  const t = makeTerminal({ payee: { issuerCard: true }, revoke: o.revoke });
  const dir = tempDir();
  const clock = { authority: TERMINAL_NOW };
  const authority = CommandAuthority.open({
    dbPath: join(dir, 'authority.db'),
    issuer: t.issuer,
    now: () => clock.authority,
    eligibility: o.eligibility,
  });
  cleanups.push(
    () => authority.close(),
    () => t.engine.close(),
  );
  if (o.allow !== false) authority.allow({ terminalId: 'shop-1', ...DEFAULT_GRANT, ...o.allow });
  const terminal = new IssuingTerminal({
    engine: t.engine,
    authority: o.port ?? new InProcessAuthority(authority),
    dataDir: join(dir, 'terminal'),
    serverName: 'Corner Shop',
    terminalId: 'shop-1',
    now: () => TERMINAL_NOW,
  });
  return {
    t,
    dir,
    authority,
    terminal,
    clock,
    payee: () => {
      const s = t.cards.payee.store.read();
      return { contents: s.contents, usedGrants: s.usedGrants };
    },
    steps: (flowId) => t.journal.entriesForFlow(flowId).map((e) => e.step),
    lastLog: () => authority.log({ limit: 1 })[0]!,
  };
}

const concert = (s: Setup, o: { issuerId?: string } = {}) =>
  newItem({
    type: 'ticket',
    issuerId: o.issuerId ?? s.t.issuer.issuerId,
    label: 'Concert',
    body: 'seat B12',
  });

function signedRegistration(info: ServerInfo, keys = generateP256KeyPair(), signer = keys.privateKey) {
  return {
    serverInfo: info,
    serverPublicKey: toHex(keys.publicKey),
    signature: toHex(ecdsaSign(signer, registrationMessage(info, keys.publicKey))),
  };
}

describe('registration with the command-generating authority', () => {
  it('registers a terminal whose signature verifies and issues it a create command', async () => {
    const s = setup();
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
    const [server] = s.authority.registrations();
    expect(server).toMatchObject({
      terminalId: 'shop-1',
      serverInfo: { name: 'Corner Shop', terminalId: 'shop-1' },
      publicKey: toHex(s.terminal.identity.publicKey),
      command: { commandId: r.createCommand.commandId, granted: 0, expired: false },
    });
    expect(s.lastLog()).toMatchObject({
      kind: 'register',
      result: 'ok',
      commandId: r.createCommand.commandId,
    });
    // Registering again while the command holds returns the same command: no fresh quota.
    const again = await s.terminal.register();
    expect(again.status === 'registered' && again.createCommand.commandId).toBe(r.createCommand.commandId);
  });

  it('refuses a forged registration signature, and one over other server information', () => {
    const s = setup({ allow: false, eligibility: 'approve-all' });
    const info = { name: 'Box Office', terminalId: 'box-1' };
    const forged = signedRegistration(info, generateP256KeyPair(), generateP256KeyPair().privateKey);
    const ack = s.authority.register(forged);
    expect(ack).toMatchObject({
      result: 'reject',
      reason: 'bad-signature',
      error: { code: 'E_PKI_SIGNATURE' },
    });
    const good = signedRegistration(info);
    const renamed = s.authority.register({ ...good, serverInfo: { ...info, name: 'Someone Else' } });
    expect(renamed).toMatchObject({ result: 'reject', reason: 'bad-signature' });
    expect(s.authority.registrations()).toEqual([]);
    expect(s.authority.log().map((e) => [e.kind, e.result, e.reason, e.terminalId])).toEqual([
      ['register', 'reject', 'bad-signature', 'box-1'],
      ['register', 'reject', 'bad-signature', 'box-1'],
    ]);
    // approve-all: the same request, honestly signed, registers without an allow-list entry.
    expect(s.authority.register(good)).toMatchObject({
      result: 'ok',
      createCommand: { terminalId: 'box-1' },
    });
  });

  it('refuses a terminal that is not on the allow-list, a malformed request, and a second key for a terminal ID', async () => {
    const s = setup({ allow: false });
    const r = await s.terminal.register();
    expect(r).toMatchObject({
      status: 'rejected',
      reason: 'not-eligible',
      error: { code: 'E_INPUT_INVALID' },
    });
    expect(s.steps(r.flowId)).toEqual(['register-requested', 'register-rejected', 'failed-no-value-moved']);
    expect(s.t.journal.entriesForFlow(r.flowId)[1]!.payload).toMatchObject({ reason: 'not-eligible' });
    expect(s.terminal.registration()).toBeUndefined();

    expect(s.authority.register({ serverInfo: { terminalId: 'x' } })).toMatchObject({
      result: 'reject',
      reason: 'bad-request',
    });

    s.authority.allow({ terminalId: 'shop-1', ...DEFAULT_GRANT });
    expect((await s.terminal.register()).status).toBe('registered');
    const other = signedRegistration(s.terminal.identity.serverInfo);
    expect(s.authority.register(other)).toMatchObject({ result: 'reject', reason: 'key-mismatch' });
    // The operator re-keys the terminal by pinning the new key: then it registers, the old command is void.
    s.authority.allow({ terminalId: 'shop-1', ...DEFAULT_GRANT, publicKey: other.serverPublicKey });
    expect(s.authority.register(other)).toMatchObject({ result: 'ok' });
    expect(s.authority.log({ limit: 5 }).map((e) => e.reason)).toEqual([
      'ok',
      'key-mismatch',
      'ok',
      'bad-request',
      'not-eligible',
    ]);
  });

  it('refuses an authentication request under an unknown create command', async () => {
    const s = setup();
    await s.terminal.register();
    const info = s.terminal.identity.serverInfo;
    const item = concert(s);
    const request = signedAuthorization(s, toHex(randomBytes(16)), info, item);
    const ack = s.authority.authorize(request);
    expect(ack).toMatchObject({
      result: 'reject',
      reason: 'unknown-command',
      error: { code: 'E_INPUT_INVALID' },
    });
    expect(s.lastLog()).toMatchObject({
      kind: 'authorize',
      result: 'reject',
      reason: 'unknown-command',
      itemId: item.id,
      cardHolderId: request.request.cardHolderId,
    });
  });
});

function signedAuthorization(
  s: Setup,
  commandId: string,
  serverInfo: ServerInfo,
  item: ReturnType<typeof concert>,
  key = s.terminal.identity.privateKey,
): AuthorizationRequest {
  const cardHolderId = s.t.cards.payee.store.read().holderId;
  const nonce = randomBytes(16);
  const signature = ecdsaSign(
    key,
    authorizationMessage({
      commandId: fromHex(commandId),
      serverInfo,
      cardHolderId: fromHex(cardHolderId),
      itemDigest: payloadDigest(encodeItem(item)),
      nonce,
    }),
  );
  return {
    commandId,
    serverInfo,
    request: { cardHolderId, item, nonce: toHex(nonce) },
    signature: toHex(signature),
  };
}

describe('issuance under a create right', () => {
  it('puts the item on the card when the authority grants the create right', async () => {
    const s = setup();
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
    // The authority's log: the registration and the granted right.
    expect(s.authority.log().map((e) => [e.kind, e.result])).toEqual([
      ['authorize', 'ok'],
      ['register', 'ok'],
    ]);
    expect(s.lastLog()).toMatchObject({
      grantId: outcome.grantId,
      itemId: item.id,
      rightNotAfter: NOW_S + 600,
    });
    expect(s.authority.registrations()[0]!.command?.granted).toBe(1);
  });

  it('the card refuses CREATE CONTENT without a create right, or with a forged one: nothing changes', async () => {
    const s = setup();
    const before = s.payee();
    const item = concert(s);
    const template = encodeItem(item);
    await s.t.engine.withCards(async (cards) => {
      const { client, info } = await cards.session('payee');
      // No right at all.
      await expect(client.command(0x66, 0, concat(u32(NOW_S), template))).rejects.toMatchObject({
        code: 'E_CARD_STATUS',
        details: { sw: 0x6982 },
      });
      // A right signed by someone other than the authority.
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

  it('a card-refused create right (a compromised authority answering ok) is refused and journaled', async () => {
    const s = setup();
    // The authority is reached through a transport that swaps the right's signature.
    const real = new InProcessAuthority(s.authority);
    const forging: CommandAuthorityPort = {
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
    };
    const terminal = new IssuingTerminal({
      engine: s.t.engine,
      authority: forging,
      dataDir: join(s.dir, 'terminal'),
    });
    const before = s.payee();
    const outcome = await terminal.issue('payee', concert(s));
    expect(outcome).toMatchObject({
      status: 'refused',
      error: { code: 'E_CARD_STATUS', details: { sw: 0x6982 } },
    });
    expect(s.payee()).toEqual(before);
    const flowId = (outcome as { flowId: string }).flowId;
    expect(s.steps(flowId)).toEqual(['issue-requested', 'issue-authorized', 'failed-no-value-moved']);
    expect(s.t.journal.entriesForFlow(flowId)[2]!.payload).toMatchObject({ stage: 'card', sw: 0x6982 });
    expect(s.lastLog()).toMatchObject({ kind: 'authorize', result: 'ok' }); // the authority did grant
  });

  it('a second issuance of the same item is refused by the card (single use per item ID)', async () => {
    const s = setup();
    const item = concert(s);
    expect((await s.terminal.issue('payee', item)).status).toBe('issued');
    const after = s.payee();
    const again = await s.terminal.issue('payee', item);
    expect(again).toMatchObject({ status: 'refused', error: { details: { sw: 0x6a80 } } });
    expect(s.payee()).toEqual(after);
  });

  type RejectCase = {
    name: string;
    reason: string;
    code: string;
    arrange?: (s: Setup) => void | Promise<void>;
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
        s.clock.authority = new Date(TERMINAL_NOW.getTime() + (DEFAULT_GRANT.validitySeconds + 1) * 1000);
      },
    },
    {
      name: 'a used-up create command',
      reason: 'limit-reached',
      code: 'E_INPUT_INVALID',
      allow: { maxIssuances: 1 },
      async arrange(s) {
        expect((await s.terminal.issue('payee', concert(s))).status).toBe('issued');
      },
    },
    {
      name: 'a terminal taken off the allow-list',
      reason: 'not-eligible',
      code: 'E_INPUT_INVALID',
      async arrange(s) {
        await s.terminal.register();
        s.authority.disallow('shop-1');
      },
    },
  ];

  for (const c of rejects) {
    it(`rejects ${c.name}: refused, logged with its reason by the authority and in the journal`, async () => {
      const s = setup(c.allow ? { allow: c.allow } : {});
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
      expect(s.lastLog()).toMatchObject({
        kind: 'authorize',
        result: 'reject',
        reason: c.reason,
        terminalId: 'shop-1',
        itemId: item.id,
      });
    });
  }

  it('after an expired command the terminal registers again on the next issuance', async () => {
    const s = setup();
    await s.terminal.register();
    const first = s.terminal.registration()!.createCommand.commandId;
    s.clock.authority = new Date(TERMINAL_NOW.getTime() + (DEFAULT_GRANT.validitySeconds + 1) * 1000);
    expect(await s.terminal.issue('payee', concert(s))).toMatchObject({ reason: 'command-expired' });
    expect(s.terminal.registration()).toBeUndefined();
    const outcome = await s.terminal.issue('payee', concert(s));
    expect(outcome.status).toBe('issued');
    expect(outcome.status === 'issued' && outcome.commandId).not.toBe(first);
  });

  it('rejects an unregistered server using another server’s create command, and a request not signed by the registered key', async () => {
    const s = setup();
    await s.terminal.register();
    const stolen = s.terminal.registration()!;
    const intruderDir = join(s.dir, 'intruder');
    const intruder = new IssuingTerminal({
      engine: s.t.engine,
      authority: new InProcessAuthority(s.authority),
      dataDir: intruderDir,
      terminalId: 'intruder',
      now: () => TERMINAL_NOW,
    });
    saveRegistration(intruderDir, {
      serverPublicKey: intruder.identity.publicKey,
      registeredAt: stolen.registeredAt,
      createCommand: stolen.createCommand,
    });
    const before = s.payee();
    const outcome = await intruder.issue('payee', concert(s));
    expect(outcome).toMatchObject({
      status: 'rejected',
      reason: 'unregistered-server',
      error: { code: 'E_PKI_SIGNATURE' },
    });
    expect(s.lastLog()).toMatchObject({
      result: 'reject',
      reason: 'unregistered-server',
      terminalId: 'intruder',
    });
    // Claiming the registered server's information does not help without its key.
    const posing = signedAuthorization(
      s,
      stolen.createCommand.commandId,
      s.terminal.identity.serverInfo,
      concert(s),
      intruder.identity.privateKey,
    );
    expect(s.authority.authorize(posing)).toMatchObject({ result: 'reject', reason: 'bad-signature' });
    expect(s.payee()).toEqual(before);
  });

  it('grants one create right per signed request: a replayed request is rejected', async () => {
    const s = setup();
    await s.terminal.register();
    const request = signedAuthorization(
      s,
      s.terminal.registration()!.createCommand.commandId,
      s.terminal.identity.serverInfo,
      concert(s),
    );
    expect(s.authority.authorize(request)).toMatchObject({ result: 'ok' });
    expect(s.authority.authorize(request)).toMatchObject({ result: 'reject', reason: 'replayed' });
  });

  it('refuses a malformed item before asking anyone, and a card the terminal does not accept', async () => {
    const s = setup();
    const bad = await s.terminal.issue('payee', { ...concert(s), label: 'x'.repeat(49) });
    expect(bad).toMatchObject({ status: 'refused', error: { code: 'E_INPUT_INVALID' } });
    expect(s.authority.log()).toEqual([]);

    const revoked = setup({ revoke: ['payee'] });
    const before = revoked.payee();
    const outcome = await revoked.terminal.issue('payee', concert(revoked));
    expect(outcome).toMatchObject({ status: 'refused', error: { code: 'E_PKI_REVOKED' } });
    expect(revoked.payee()).toEqual(before);
    // Registered, but no authentication request was made for the revoked card.
    expect(revoked.authority.log().map((e) => e.kind)).toEqual(['register']);
  });

  it('after a lost answer to CREATE CONTENT it reads the card to settle the flow', async () => {
    const s = setup();
    s.t.slots.stallAfterCard('payee', { when: (apdu) => apdu[1] === 0x66 });
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
    s.t.slots.stall('payee', { when: (apdu) => apdu[1] === 0x66 });
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

describe('the authority database', () => {
  it('keeps the authorizations log append-only', async () => {
    const s = setup();
    await s.terminal.issue('payee', concert(s));
    const raw = new Database(join(s.dir, 'authority.db'));
    cleanups.push(() => {
      raw.close();
    });
    expect(() => raw.prepare("UPDATE authorizations SET result = 'reject'").run()).toThrow(/append-only/);
    expect(() => raw.prepare('DELETE FROM authorizations').run()).toThrow(/append-only/);
    expect(() =>
      raw
        .prepare(
          "INSERT OR REPLACE INTO authorizations (id, at, kind, result, reason, message) VALUES (1, 'x', 'register', 'ok', 'ok', 'x')",
        )
        .run(),
    ).toThrow(/append-only/);
    expect(() => raw.prepare("UPDATE authority_identity SET issuer_id = 'X'").run()).toThrow(/fixed/);
    expect(raw.prepare('SELECT count(*) FROM authorizations').pluck().get()).toBe(2);
  });

  it('migrates a fresh file with its own registry, and refuses foreign, too-new and other-issuer files', () => {
    const dir = tempDir();
    const path = join(dir, 'authority.db');
    const db = openAuthorityDatabase(path);
    expect(db.handle.pragma('user_version', { simple: true })).toBe(AUTHORITY_LATEST_VERSION);
    expect(db.handle.pragma('application_id', { simple: true })).toBe(AUTHORITY_APPLICATION_ID);
    expect(db.handle.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.handle.prepare('SELECT version, name FROM schema_migrations').all()).toEqual(
      AUTHORITY_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    );
    const tables = db.handle
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual([
      'allowed_servers',
      'authority_identity',
      'authorizations',
      'create_commands',
      'registered_servers',
      'schema_migrations',
    ]);
    expect(migrate(db.handle, AUTHORITY_MIGRATIONS)).toEqual({
      from: AUTHORITY_LATEST_VERSION,
      to: AUTHORITY_LATEST_VERSION,
      applied: [],
    });
    db.close();
    openAuthorityDatabase(path).close(); // reopening is a no-op

    // The terminal's transaction log is not an authority database.
    const terminalDb = join(dir, 'terminal.db');
    openDatabase(terminalDb).close();
    expect(() => openAuthorityDatabase(terminalDb)).toThrow(expect.objectContaining({ code: 'E_DB' }));

    const newer = new Database(path);
    newer.pragma(`user_version = ${AUTHORITY_LATEST_VERSION + 1}`);
    newer.close();
    expect(() => openAuthorityDatabase(path)).toThrow(expect.objectContaining({ code: 'E_DB_TOO_NEW' }));

    const other = join(dir, 'other.db');
    const issuer = createIssuer({ name: 'A', currency: TEST_CURRENCY });
    CommandAuthority.open({ dbPath: other, issuer }).close();
    const second = createIssuer({ name: 'B', currency: TEST_CURRENCY });
    expect(() => CommandAuthority.open({ dbPath: other, issuer: second })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_INVALID' }),
    );
  });
});

describe('issuing from the command line', () => {
  async function cli(commands: Parameters<typeof runCli>[1], ...argv: string[]) {
    const chunks: string[] = [];
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
      chunks.push(String(c));
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await runCli('test', commands, argv);
      return { code, stdout: chunks.join('') };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  it('issues onto the demo shop card; a terminal the authority disallows is refused until allowed again', async () => {
    const demo = join(tempDir(), 'demo');
    const config = ensureDemoEnvironment(demo);
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
    const first = await cli(terminal, 'issue', ...args);
    expect(first.code).toBe(0);

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
    expect(after.authorityCommand).toBeDefined();
    expect(after.log.map((e: { reason: string }) => e.reason)).toContain('not-eligible');
    expect(
      after.log.map((e: { reason: string }) => e.reason).filter((r: string) => r === 'ok').length,
    ).toBeGreaterThanOrEqual(3);
    const log = JSON.parse((await cli(authority, 'authority-status', '--issuer', issuer, '--json')).stdout);
    expect(log.servers).toMatchObject([{ terminalId }]);
  });
});
