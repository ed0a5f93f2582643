// The issuer's staff tools as their users run them (subprocesses, real files) against a running host
// over TLS: `npm run issuer -- authority-*` keeps the allow-list through the host link file beside the
// issuer file, `npm run card -- issuer-revoke | issuer-crl` publish CRLs to the host. Refusals (no
// link, a token the host does not know, a host presenting another key) exit 2 and change nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settlementStateCodec } from '../../card-sim/applets/settlement/state.js';
import { loadCardState } from '../../card-sim/card-files.js';
import { cardPersonalize } from '../../card-sim/cli/commands-card.js';
import { issuerCrl, issuerRevoke } from '../../card-sim/cli/commands-issuer.js';
import { loadIssuer, personalizeCard, saveIssuer } from '../../card-sim/issuer/issuer.js';
import { FileBackend } from '../../card-sim/os/persistence-backend.js';
import {
  authorityAllow,
  authorityDisallow,
  authorityStatus,
} from '../../issuer-host/cli/commands-authority.js';
import { issuanceRecord } from '../../issuer-host/cli/commands-issuance.js';
import { CrlVersions } from '../../issuer-host/db/crl-versions.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { caKeyIdentifier, parseCertificate, toPem } from '../../protocol/pki/index.js';
import { HOST_LINK_FILE, type HostLinkFile } from '../../tooling/issuer-host-link.js';
import { DEFAULT_CARD } from '../support/card-fixtures.js';
import { cliProcessAsync, runCliHere } from '../support/cli-process.js';
import { useHostDatabases } from './host-db-fixtures.js';
import {
  hostSnapshot,
  issuerWorld,
  type RunningHost,
  registeredTerminal,
  staffToken,
  startHost,
} from './host-fixtures.js';

const dbs = useHostDatabases({ postgres: false });
const dir = mkdtempSync(join(tmpdir(), 'issuer-cli-'));
const world = issuerWorld('CLI Issuer');
const tls = world.hostTls();
let db: HostDatabase;
let host: RunningHost;
let link: HostLinkFile;
// The programs themselves as subprocesses for a few runs; their commands in this process for the rest.
const issuerProgram = cliProcessAsync('issuer-host/cli/main.ts', dir);
const cardProgram = cliProcessAsync('card-sim/cli/main.ts', dir);
const inDir =
  <T>(fn: () => Promise<T>) =>
  async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      return await fn();
    } finally {
      process.chdir(cwd);
    }
  };
const issuer = (...args: string[]) =>
  inDir(() => runCliHere([authorityAllow, authorityDisallow, authorityStatus, issuanceRecord], ...args))();
const card = (...args: string[]) =>
  inDir(() => runCliHere([issuerRevoke, issuerCrl, cardPersonalize], ...args))();

beforeAll(async () => {
  db = await dbs.fresh('embedded');
  host = await startHost({ db, world, tls, authority: { issuer: world.issuer }, issuanceCurrencies: [978] });
  await registeredTerminal(db, 'shop-1');
  saveIssuer(join(dir, 'issuer.json'), world.issuer);
  writeFileSync(join(dir, 'ca.pem'), toPem('CERTIFICATE', world.caDer));
  link = {
    url: host.url,
    pins: [tls.pin],
    caCertificate: 'ca.pem',
    token: await staffToken(db, 'issuer-admin'),
  };
  writeFileSync(join(dir, HOST_LINK_FILE), JSON.stringify(link), { mode: 0o600 });
}, 60_000);
afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run issuer: the authority’s allow-list over HTTPS', () => {
  it('allows, shows and disallows a terminal through the host link beside the issuer file', async () => {
    const help = await issuerProgram('--help');
    expect(help.code).toBe(0);
    for (const name of ['authority-allow', 'authority-disallow', 'authority-status'])
      expect(help.stdout).toContain(name);

    const allowed = await issuerProgram(
      'authority-allow',
      '--issuer',
      'issuer.json',
      '--terminal-id',
      'shop-1',
      '--max',
      '5',
      '--json',
    );
    expect(allowed.code).toBe(0);
    expect(allowed.json()).toMatchObject({
      terminalId: 'shop-1',
      contentTypes: ['ticket', 'coupon'],
      maxIssuances: 5,
    });
    const status = await issuer('authority-status', '--issuer', 'issuer.json', '--json');
    expect(status.code).toBe(0);
    expect(status.json()).toMatchObject({
      issuerId: world.issuer.issuerId,
      allowList: [{ terminalId: 'shop-1' }],
    });
    expect((await issuer('authority-status', '--host-link', HOST_LINK_FILE)).stdout).toContain(
      `at ${host.url}`,
    );
    const removed = await issuer(
      'authority-disallow',
      '--issuer',
      'issuer.json',
      '--terminal-id',
      'shop-1',
      '--json',
    );
    expect(removed.json()).toEqual({ removed: true });
    expect((await issuer('authority-allow', '--issuer', 'issuer.json', '--terminal-id', 'shop-1')).code).toBe(
      0,
    );
  });

  it('refuses bad input, a missing link, an unknown token and a host with another key: exit 2, nothing changed', async () => {
    const before = await hostSnapshot(db, { withNonces: false });
    writeFileSync(join(dir, 'bad-token.json'), JSON.stringify({ ...link, token: `stlh_${'A'.repeat(43)}` }));
    writeFileSync(
      join(dir, 'bad-pin.json'),
      JSON.stringify({ ...link, pins: ['sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='] }),
    );
    const cases: [string[], string][] = [
      [['authority-revoke-everything'], 'E_INPUT_INVALID'],
      [
        ['authority-allow', '--issuer', 'issuer.json', '--terminal-id', 'x', '--types', 'gold'],
        'E_INPUT_INVALID',
      ],
      [['authority-allow', '--issuer', 'issuer.json', '--terminal-id', 'unknown-terminal'], 'E_NOT_FOUND'],
      [['authority-status', '--issuer', 'missing/issuer.json'], 'E_INPUT_INVALID'],
      [['authority-status', '--host-link', 'bad-token.json'], 'E_AUTH_INVALID'],
      [
        ['authority-allow', '--host-link', 'bad-pin.json', '--terminal-id', 'shop-1', '--max', '1'],
        'E_HOST_PIN',
      ],
    ];
    for (const [args, code] of cases) {
      const r = await issuer(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`error ${code}`);
    }
    // The program itself: the same refusal, its exit code and its one line.
    const program = await issuerProgram('authority-status', '--host-link', 'bad-pin.json');
    expect(program.code).toBe(2);
    expect(program.stderr).toMatch(/^error E_HOST_PIN: /);
    expect(await hostSnapshot(db, { withNonces: false })).toEqual(before);
  });
});

describe('npm run card: revocations go to the host', () => {
  it('issuer-revoke publishes the next CRL to the host at once; issuer-crl publishes and writes a file', async () => {
    // A card of this issuer, made the way personalize does, and saved with the issuer's record of it.
    const state = personalizeCard(world.issuer, DEFAULT_CARD);
    saveIssuer(join(dir, 'issuer.json'), world.issuer);
    new FileBackend(join(dir, 'alice.json')).store(settlementStateCodec.encode(state));
    const crls = new CrlVersions(db);
    const keyId = toHex(caKeyIdentifier(parseCertificate(world.caDer)));

    const revoked = await cardProgram(
      'issuer-revoke',
      '--issuer',
      'issuer.json',
      '--card',
      'alice.json',
      '--json',
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.json()).toMatchObject({ published: { crlNumber: '1', revokedCount: 1, host: host.url } });
    expect(await crls.current(keyId)).toMatchObject({ crlNumber: 1n, revokedCount: 1 });

    const crl = await card('issuer-crl', '--issuer', 'issuer.json', '--out', 'crl.der', '--json');
    expect(crl.json()).toMatchObject({ crlNumber: 2, file: 'crl.der', published: { crlNumber: '2' } });
    expect((await crls.current(keyId))?.crlNumber).toBe(2n);

    // --offline: a file only; and without a file or a host there is nothing to do.
    expect(
      (await card('issuer-crl', '--issuer', 'issuer.json', '--out', 'offline.der', '--offline')).code,
    ).toBe(0);
    expect((await crls.current(keyId))?.crlNumber).toBe(2n);
    const nowhere = await card('issuer-crl', '--issuer', 'issuer.json', '--offline');
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('give --out');
  });

  it('a host that refuses the CRL leaves the revocation in the issuer file and says how to publish again', async () => {
    writeFileSync(
      join(dir, 'auditor.json'),
      JSON.stringify({ ...link, token: await staffToken(db, 'auditor') }),
    );
    const r = await card('issuer-crl', '--issuer', 'issuer.json', '--host-link', 'auditor.json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_AUTH_FORBIDDEN');
    expect(r.stderr).toContain('publish again with');
  });
});

describe('issuance: personalize records it, issuance-record records a card made offline', () => {
  const issuances = async () =>
    db.query<{ holder_id: string; amount: bigint; certificate_serial: string }>(
      'SELECT holder_id, amount, certificate_serial FROM ledger_issuances ORDER BY issuance_id',
    );
  const personalize = (out: string, balance: number, ...more: string[]) => [
    'personalize',
    '--issuer',
    'issuer.json',
    '--out',
    out,
    '--validity',
    '20301231',
    '--balance',
    String(balance),
    '--json',
    ...more,
  ];
  const cardFile = (name: string) => loadCardState(join(dir, name));

  it('personalize records the new card’s issuance through the host link beside the issuer file', async () => {
    const r = await cardProgram(...personalize('bob.json', 120_00));
    expect(r.code, r.stderr).toBe(0);
    const bob = cardFile('bob.json');
    expect(r.json()).toMatchObject({
      holderId: bob.holderId,
      issuance: { holderId: bob.holderId, amount: '12000', currency: 978, replayed: false, host: host.url },
    });
    const serial = parseCertificate(fromHex(bob.certificate)).serial.toString();
    expect((await issuances()).at(-1)).toEqual({
      holder_id: bob.holderId,
      amount: 12_000n,
      certificate_serial: serial,
    });
    // The issuer file keeps what was issued on the card.
    expect(loadIssuer(join(dir, 'issuer.json')).issued.at(-1)).toMatchObject({
      holderId: bob.holderId,
      balance: 12_000,
    });
    // Recording it again answers that it is recorded already.
    const again = await issuer('issuance-record', '--card', 'bob.json', '--issuer', 'issuer.json');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already');
  });

  it('a card made offline is recorded later; without the issuer file, from the card while it has moved nothing', async () => {
    const before = (await issuances()).length;
    const off = await card(...personalize('carol.json', 60_00, '--offline'));
    expect(off.code, off.stderr).toBe(0);
    expect(off.json()).toMatchObject({ issuance: null });
    const zero = await card(...personalize('zero.json', 0));
    expect(zero.json()).toMatchObject({ issuance: null });
    expect(await issuances()).toHaveLength(before);

    const carol = cardFile('carol.json');
    const r = await issuer(
      'issuance-record',
      '--card',
      'carol.json',
      '--host-link',
      HOST_LINK_FILE,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ holderId: carol.holderId, amount: '6000', replayed: false });
    const nothing = await issuer('issuance-record', '--card', 'zero.json', '--issuer', 'issuer.json');
    expect(nothing.stdout).toContain('nothing to record');
    expect(await issuances()).toHaveLength(before + 1);
  });

  it('refuses what it cannot record, says how to record it later, and changes nothing at the host', async () => {
    writeFileSync(
      join(dir, 'auditor.json'),
      JSON.stringify({ ...link, token: await staffToken(db, 'auditor') }),
    );
    const before = await issuances();
    const refused = await card(...personalize('dan.json', 40_00, '--host-link', 'auditor.json'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('E_AUTH_FORBIDDEN');
    expect(refused.stderr).toContain('issuance-record --card dan.json');
    const dan = cardFile('dan.json'); // the card is made: its issuance waits
    const denied = await issuer('issuance-record', '--card', 'dan.json', '--host-link', 'auditor.json');
    expect([denied.code, denied.stderr]).toEqual([2, expect.stringContaining('E_AUTH_FORBIDDEN')]);

    // A card that has paid since it was made: its balance is not what was issued on it.
    const moved = { ...dan, balance: 35_00 };
    moved.debitLog = [
      {
        txRandom: '11'.repeat(16),
        payeeId: '22'.repeat(16),
        currency: 978,
        amount: 5_00,
        date: 1_765_000_000,
        transferKeyId: 1,
        status: 'acknowledged',
      },
    ];
    new FileBackend(join(dir, 'dan-used.json')).store(settlementStateCodec.encode(moved));
    const used = await issuer('issuance-record', '--card', 'dan-used.json', '--host-link', HOST_LINK_FILE);
    expect([used.code, used.stderr]).toEqual([2, expect.stringContaining('give --amount')]);
    expect(await issuances()).toEqual(before);

    // Other terms for a card recorded already: the host refuses them.
    const bob = await issuer(
      'issuance-record',
      '--card',
      'bob.json',
      '--host-link',
      HOST_LINK_FILE,
      '--amount',
      '1',
    );
    expect([bob.code, bob.stderr]).toEqual([2, expect.stringContaining('E_ISSUANCE_CONFLICT')]);
    expect(await issuances()).toEqual(before);

    // The issuer file's record of the card gives the amount, whatever the card holds now.
    const ok = await issuer(
      'issuance-record',
      '--card',
      'dan-used.json',
      '--issuer',
      'issuer.json',
      '--json',
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json()).toMatchObject({ holderId: dan.holderId, amount: '4000' });
  });
});
