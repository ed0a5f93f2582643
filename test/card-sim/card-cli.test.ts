// The card CLI as a user runs it: a subprocess, real files, the real openssl binary.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { toPem } from '../../protocol/pki/index.js';
import { cliProcess } from '../support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'card-cli-'));
const card = cliProcess('card-sim/cli/main.ts', dir);

describe('card CLI', () => {
  it('creates an issuer, personalizes and inspects a card, revokes it, and openssl agrees', () => {
    expect(
      card('issuer-create', '--out', 'issuer.json', '--name', 'CLI Test', '--currency', '392').code,
    ).toBe(0);
    expect(statSync(join(dir, 'issuer.json')).mode & 0o777).toBe(0o600);
    const made = card(
      'personalize',
      '--issuer',
      'issuer.json',
      '--out',
      'alice.json',
      '--validity',
      '20301231',
      '--balance',
      '2500',
      '--label',
      'Alice',
      '--prestored',
      '2,3',
      '--pin',
      '4321',
      '--json',
    );
    expect(made.code).toBe(0);
    const { holderId } = JSON.parse(made.stdout) as { holderId: string };

    const masked = card('inspect', 'alice.json', '--json');
    expect(JSON.parse(masked.stdout).balance).toBeUndefined();
    const inspected = card('inspect', 'alice.json', '--pin', '4321', '--json');
    expect(inspected.code).toBe(0);
    const view = JSON.parse(inspected.stdout);
    expect(view).toMatchObject({
      holderId,
      validity: '20301231',
      currency: 392,
      prestoredTransferKeyIds: [2, 3],
    });
    expect(view.balance.balance).toBe(2500);
    // Only public data: no key of the card file appears in the output.
    const state = JSON.parse(readFileSync(join(dir, 'alice.json'), 'utf8'));
    for (const secret of [state.cardPrivateKey, state.updateKey, ...Object.values(state.transferKeys)]) {
      expect(inspected.stdout.toUpperCase()).not.toContain(secret);
    }

    expect(card('issuer-export-ca', '--issuer', 'issuer.json', '--out', 'ca.pem').code).toBe(0);
    writeFileSync(join(dir, 'alice.pem'), toPem('CERTIFICATE', fromHex(state.certificate)));
    expect(
      execFileSync('openssl', ['verify', '-CAfile', 'ca.pem', 'alice.pem'], { cwd: dir, encoding: 'utf8' }),
    ).toContain('OK');
    const text = execFileSync('openssl', ['x509', '-in', 'alice.pem', '-noout', '-text'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(text).toContain(holderId);

    expect(
      card('issuer-revoke', '--issuer', 'issuer.json', '--card', 'alice.json', '--reason', '1').code,
    ).toBe(0);
    expect(card('issuer-crl', '--issuer', 'issuer.json', '--out', 'crl.pem', '--pem').code).toBe(0);
    const crlCheck = spawnSync('openssl', ['crl', '-in', 'crl.pem', '-CAfile', 'ca.pem', '-noout'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(crlCheck.stderr + crlCheck.stdout).toContain('verify OK');
    const revoked = spawnSync(
      'openssl',
      ['verify', '-crl_check', '-CRLfile', 'crl.pem', '-CAfile', 'ca.pem', 'alice.pem'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    expect(revoked.status).not.toBe(0);
    expect(revoked.stdout + revoked.stderr).toContain('certificate revoked');
  });

  it('answers bad input with a typed error and exit code 2, and writes nothing', () => {
    const cases: string[][] = [
      [
        'personalize',
        '--issuer',
        'issuer.json',
        '--out',
        'x.json',
        '--validity',
        '20301331',
        '--balance',
        '1',
      ],
      [
        'personalize',
        '--issuer',
        'issuer.json',
        '--out',
        'x.json',
        '--validity',
        '20301231',
        '--balance',
        '-5',
      ],
      [
        'personalize',
        '--issuer',
        'issuer.json',
        '--out',
        'x.json',
        '--validity',
        '20301231',
        '--balance',
        '10',
        '--max-balance',
        '5',
      ],
      [
        'personalize',
        '--issuer',
        'issuer.json',
        '--out',
        'x.json',
        '--validity',
        '20301231',
        '--balance',
        '1',
        '--transfer-key-id',
        '99',
      ],
      [
        'personalize',
        '--issuer',
        'missing.json',
        '--out',
        'x.json',
        '--validity',
        '20301231',
        '--balance',
        '1',
      ],
      [
        'personalize',
        '--issuer',
        'issuer.json',
        '--out',
        'x.json',
        '--validity',
        '20301231',
        '--balance',
        '1',
        '--holder-id',
        'zz',
      ],
      ['personalize', '--bogus'],
      ['inspect'],
      ['inspect', 'missing.json'],
      ['issuer-revoke', '--issuer', 'issuer.json', '--serial', '12345'],
      ['serve', 'alice.json:99999'],
      ['nonsense'],
    ];
    for (const args of cases) {
      const r = card(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^error E_[A-Z_]+: /);
    }
    expect(() => statSync(join(dir, 'x.json'))).toThrow();
    writeFileSync(join(dir, 'broken.json'), '{"format":2}');
    const broken = card('inspect', 'broken.json');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('E_CARD_STATE');
    expect(card('migrate', 'broken.json').stderr).toContain('E_CARD_STATE');
    expect(card('migrate', 'missing.json').stderr).toContain('E_CARD_STATE');
  });

  it('migrates a version-1 card file in place, refused until then, and sets the policy only with a PIN', () => {
    expect(
      card('issuer-create', '--out', 'mig-issuer.json', '--name', 'Migration', '--currency', '978').code,
    ).toBe(0);
    const personalize = (out: string, ...extra: string[]) =>
      card(
        'personalize',
        '--issuer',
        'mig-issuer.json',
        '--out',
        out,
        '--validity',
        '20301231',
        '--balance',
        '700',
        ...extra,
      );
    expect(personalize('bob.json', '--pin', '2468').code).toBe(0);
    const v2 = JSON.parse(readFileSync(join(dir, 'bob.json'), 'utf8'));
    expect(v2.cardholderPolicy).toMatchObject({ perPayment: 2500, cumulative: 5000, consecutive: 3 });
    const { cardholderPolicy: _, ...rest } = v2;
    writeFileSync(join(dir, 'bob.json'), JSON.stringify({ ...rest, format: 1 }));
    const v1 = readFileSync(join(dir, 'bob.json'), 'utf8');

    const refused = card('inspect', 'bob.json');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error E_CARD_VERSION: .*npm run card -- migrate/);
    expect(readFileSync(join(dir, 'bob.json'), 'utf8')).toBe(v1); // never read as version 2, never changed

    const migrated = card(
      'migrate',
      'bob.json',
      '--no-pin-per-payment',
      '1000',
      '--no-pin-cumulative',
      '3000',
      '--no-pin-count',
      '2',
      '--json',
    );
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout)).toMatchObject({
      migrated: true,
      from: 1,
      holderId: v2.holderId,
      noPinLimits: { perPayment: 1000, cumulative: 3000, consecutive: 2 },
    });
    const after = JSON.parse(readFileSync(join(dir, 'bob.json'), 'utf8'));
    expect({ ...after, cardholderPolicy: undefined }).toEqual({
      ...rest,
      format: 2,
      cardholderPolicy: undefined,
    });
    expect(statSync(join(dir, 'bob.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(card('migrate', 'bob.json', '--json').stdout)).toMatchObject({ migrated: false });
    const view = JSON.parse(card('inspect', 'bob.json', '--pin', '2468', '--json').stdout);
    expect(view).toMatchObject({ balance: { balance: 700 }, noPinLimits: { perPayment: 1000 } });

    // Limits without a PIN make no sense: refused, nothing written.
    const noPin = personalize('carol.json', '--no-pin-count', '2');
    expect(noPin.code).toBe(2);
    expect(noPin.stderr).toContain('E_INPUT_INVALID');
    expect(() => statSync(join(dir, 'carol.json'))).toThrow();
  });

  it('prints help for the program and for every command', () => {
    const top = card('--help');
    expect(top.code).toBe(0);
    const names = [...top.stdout.matchAll(/^ {2}([a-z-]+) {2}/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThanOrEqual(7);
    for (const name of names) {
      const r = card(name, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`usage: npm run card -- ${name}`);
    }
    expect(toHex(new Uint8Array([1]))).toBe('01');
  });
});
