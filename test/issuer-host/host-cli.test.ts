// The host command line as an operator runs it (subprocesses, real files): init, tokens, migrate,
// pin, TLS renewal, serve on a PostgreSQL server and on the zero-set-up embedded database; and the
// configuration file's validation.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createIssuer, saveIssuer } from '../../card-sim/issuer/issuer.js';
import { DATABASE_URL_ENV, loadHostConfig } from '../../issuer-host/config.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { generateP256KeyPair } from '../../protocol/crypto-suite.js';
import { isTerminalError } from '../../protocol/errors.js';
import { HostClient } from '../../protocol/host-link/host-client.js';
import { toPem } from '../../protocol/pki/index.js';
import { useHostDatabases } from './host-db-fixtures.js';

const dbs = useHostDatabases({ embedded: false });
const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'host-cli-'));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const issuer = createIssuer({ name: 'CLI Host', currency: 978 });
const issuerFile = join(dir, 'issuer.json');
saveIssuer(issuerFile, issuer);
const running: ChildProcess[] = [];

afterAll(() => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function host(...args: string[]) {
  const env = { ...process.env };
  delete env[DATABASE_URL_ENV];
  const r = spawnSync(process.execPath, ['--import', tsx, join(root, 'issuer-host/main.ts'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

/** Starts `serve` and resolves with its address once it listens. */
async function serve(
  config: string,
): Promise<{ child: ChildProcess; url: string; pin: string; exited: Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    ['--import', tsx, join(root, 'issuer-host/main.ts'), '--config', config],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /issuer host listening on (https:\/\/[0-9.]+:\d+)/.exec(output)?.[1];
      const pin = /TLS pin: (sha256\/\S+)/.exec(output)?.[1];
      if (url && pin) {
        clearTimeout(timer);
        resolve({ child, url, pin, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
  });
}

function pinnedClient(url: string, pin: string): HostClient {
  return new HostClient({ baseUrl: url, caCertificateDer: fromHex(issuer.caCertificate), pins: [pin] });
}

describe('host command line on a PostgreSQL server', () => {
  it('sets up a host folder, manages tokens, serves, and stops on SIGTERM', async () => {
    const url = await dbs.postgres.createDatabase();
    const init = host(
      'init',
      '--issuer',
      issuerFile,
      '--dir',
      'pg-host',
      '--port',
      '0',
      '--database-url',
      url,
      '--json',
    );
    expect(init.code, init.stderr).toBe(0);
    const made = init.json();
    expect(made.pin).toMatch(/^sha256\//);
    expect(made.token).toMatch(/^stlh_/);
    const config = join(dir, 'pg-host', 'host.json');
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'pg-host', 'tls', 'host-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'pg-host', 'authority-key.json')).mode & 0o777).toBe(0o600);
    // The clearing key set: the issuer's transfer keys, nothing else of its secrets.
    const keySet = join(dir, 'pg-host', 'clearing-keys.json');
    expect(statSync(keySet).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(keySet, 'utf8'))).toEqual({
      format: 1,
      issuerId: issuer.issuerId,
      transferKeys: issuer.transferKeys,
    });
    expect(host('init', '--issuer', issuerFile, '--dir', 'pg-host').stderr).toContain('exists');

    // Terminals: registered with the key they printed (npm run terminal -- host-key), revoked for good.
    const key = toHex(generateP256KeyPair().publicKey);
    const register = [
      'terminal-register',
      '--terminal-id',
      'till-1',
      '--shop-id',
      'corner',
      '--shop-name',
      'Corner Shop',
      '--public-key',
      key,
      '--config',
      config,
    ];
    const registered = host(...register, '--json');
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.json()).toMatchObject({
      terminalId: 'till-1',
      shopId: 'corner',
      status: 'active',
      publicKey: key,
    });
    expect(host(...register).stderr).toContain('E_CONFLICT');
    expect(host('terminal-revoke', 'till-1', '--reason', 'stolen', '--config', config).code).toBe(0);
    expect(host('terminal-list', '--config', config, '--json').json()).toMatchObject([
      { terminalId: 'till-1', status: 'revoked', revokedBy: expect.stringMatching(/^cli:/) },
    ]);

    const publisher = host(
      'token-create',
      '--role',
      'crl-publisher',
      '--label',
      'nightly job',
      '--config',
      config,
      '--json',
    );
    expect(publisher.code, publisher.stderr).toBe(0);
    expect(publisher.json()).toMatchObject({ role: 'crl-publisher', label: 'nightly job', revokedAt: null });
    const refused = host('token-create', '--role', 'root', '--config', config);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining('E_INPUT_INVALID')]);
    expect(host('token-revoke', publisher.json().tokenId, '--config', config).code).toBe(0);
    expect(host('token-revoke', publisher.json().tokenId, '--config', config).stderr).toContain('E_CONFLICT');
    const listed = host('token-list', '--config', config, '--json').json() as {
      tokenId: string;
      state: string;
    }[];
    expect(listed.map((t) => t.state).sort()).toEqual(['active', 'revoked']);
    expect(JSON.stringify(listed)).not.toContain('stlh_');

    expect(host('migrate', '--config', config).stdout).toContain('nothing to do');
    expect(host('pin', '--config', config).stdout.trim()).toBe(made.pin);
    const renewed = host(
      'tls-issue',
      '--issuer',
      issuerFile,
      '--config',
      config,
      '--dns',
      'localhost',
      '--ip',
      '127.0.0.1',
    );
    expect(renewed.stdout).toContain('the pin is unchanged');
    const rekeyed = host(
      'tls-issue',
      '--issuer',
      issuerFile,
      '--config',
      config,
      '--new-key',
      '--json',
    ).json();
    expect(rekeyed.pin).not.toBe(made.pin);
    expect(rekeyed.previousPin).toBe(made.pin);

    const served = await serve(config);
    expect(served.pin).toBe(rekeyed.pin);
    const client = pinnedClient(served.url, served.pin);
    try {
      const crl = await client.request('GET', '/crl', { signed: false });
      expect(crl.status).toBe(404);
      const shops = await client.request('GET', '/admin/shops', {
        signed: false,
        headers: { authorization: `Bearer ${made.token}` },
      });
      expect(JSON.parse(new TextDecoder().decode(shops.body))).toMatchObject({
        shops: [{ shopId: 'corner' }],
      });
      // init made it the issuer's command-generating server too.
      const authority = await client.request('GET', '/admin/authority', {
        signed: false,
        headers: { authorization: `Bearer ${made.token}` },
      });
      expect(JSON.parse(new TextDecoder().decode(authority.body))).toMatchObject({
        issuerId: issuer.issuerId,
        eligibility: 'allow-list',
      });
      // ...and books uploads only on the cards' proofs.
      const clearing = await client.request('GET', '/admin/clearing/status', {
        signed: false,
        headers: { authorization: `Bearer ${made.token}` },
      });
      expect(JSON.parse(new TextDecoder().decode(clearing.body))).toMatchObject({
        proofs: 'verified',
        keyIds: Object.keys(issuer.transferKeys).map(Number),
      });
      // The old pin is refused now.
      const stale = pinnedClient(served.url, made.pin);
      await expect(stale.request('GET', '/crl', { signed: false })).rejects.toMatchObject({
        code: 'E_HOST_PIN',
      });
      stale.close();
    } finally {
      client.close();
    }
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
  }, 120_000);
});

describe('host command line on the embedded database (zero set-up)', () => {
  it('inits without a database address, serves, and refuses a second process on the same data', async () => {
    const init = host('init', '--issuer', issuerFile, '--dir', 'embedded-host', '--port', '0', '--json');
    expect(init.code, init.stderr).toBe(0);
    expect(init.json().database).toBe(join(dir, 'embedded-host', 'pgdata'));
    const config = join(dir, 'embedded-host', 'host.json');
    const served = await serve(config);
    try {
      const client = pinnedClient(served.url, served.pin);
      const crl = await client.request('GET', '/crl', { signed: false });
      client.close();
      expect(JSON.parse(new TextDecoder().decode(crl.body)).code).toBe('E_NOT_FOUND');
      const second = host('token-list', '--config', config);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/E_HOST_DB: the embedded database .* is in use by process \d+/);
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
    expect(existsSync(join(dir, 'embedded-host', 'pgdata.lock'))).toBe(false);
  }, 120_000);
});

describe('host configuration file', () => {
  const write = (name: string, config: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(config));
    return path;
  };
  writeFileSync(join(dir, 'ca.pem'), toPem('CERTIFICATE', fromHex(issuer.caCertificate)));
  const refusal = (path: string) => {
    try {
      loadHostConfig(path, {});
    } catch (e) {
      return isTerminalError(e, 'E_INPUT_INVALID') ? e.message : String(e);
    }
    return 'accepted';
  };

  it('fills defaults, resolves paths against the file, and lets HOST_DATABASE_URL win', () => {
    const path = write('plain.json', { caCertificate: 'ca.pem', plainHttp: true });
    const settings = loadHostConfig(path, {});
    expect(settings).toMatchObject({
      database: { dataDir: join(dir, 'pgdata') },
      listen: { host: '127.0.0.1', port: 8443 },
      clockSkewMs: 300_000,
      jsonBodyBytes: 65_536,
      maxCrlBytes: 64 * 1024 * 1024,
      issuanceCurrencies: [],
      refundAfterMs: 30 * 86_400_000,
      refundScanIntervalMs: 600_000,
    });
    expect(settings.caCertificateDer).toEqual(fromHex(issuer.caCertificate));
    expect(loadHostConfig(path, { [DATABASE_URL_ENV]: 'postgres://h/db' }).database).toEqual({
      url: 'postgres://h/db',
      poolSize: 10,
    });
  });

  it('refuses a file that is not valid, naming what is wrong', () => {
    expect(refusal(join(dir, 'missing.json'))).toMatch(/cannot read/);
    expect(refusal(write('neither.json', { caCertificate: 'ca.pem' }))).toMatch(/either "tls"/);
    expect(
      refusal(
        write('both.json', {
          caCertificate: 'ca.pem',
          plainHttp: true,
          tls: { certificate: 'a', privateKey: 'b' },
        }),
      ),
    ).toMatch(/either "tls"/);
    expect(refusal(write('typo.json', { caCertificate: 'ca.pem', plainHttp: true, lisen: {} }))).toMatch(
      /lisen/,
    );
    expect(
      refusal(
        write('url.json', { caCertificate: 'ca.pem', plainHttp: true, database: { url: 'mysql://x' } }),
      ),
    ).toMatch(/database\.url/);
    expect(refusal(write('noca.json', { caCertificate: 'nowhere.pem', plainHttp: true }))).toMatch(
      /nowhere\.pem/,
    );
  });

  it('takes the issuance currencies and the refund-case scan, and refuses values out of range', () => {
    const base = { caCertificate: 'ca.pem', plainHttp: true };
    const settings = loadHostConfig(
      write('refunds.json', {
        ...base,
        issuance: { currencies: [978, 840] },
        refunds: { afterDays: 7, scanIntervalSeconds: 60 },
      }),
      {},
    );
    expect(settings).toMatchObject({
      issuanceCurrencies: [978, 840],
      refundAfterMs: 7 * 86_400_000,
      refundScanIntervalMs: 60_000,
    });
    const off = write('off.json', { ...base, refunds: { scanIntervalSeconds: 0 } });
    expect(loadHostConfig(off, {}).refundScanIntervalMs).toBe(0);
    for (const [name, refunds] of [
      ['short', { scanIntervalSeconds: 5 }],
      ['negative', { scanIntervalSeconds: -1 }],
      ['fraction', { scanIntervalSeconds: 30.5 }],
      ['long', { scanIntervalSeconds: 86_401 }],
      ['text', { scanIntervalSeconds: '600' }],
      ['age', { afterDays: 0 }],
      ['typo', { scanInterval: 600 }],
    ] as const) {
      expect(refusal(write(`refunds-${name}.json`, { ...base, refunds })), name).toMatch(/refunds\b/);
    }
    for (const [name, currencies] of [
      ['zero', [0]],
      ['big', [1000]],
      ['text', ['EUR']],
    ] as const) {
      expect(refusal(write(`currency-${name}.json`, { ...base, issuance: { currencies } })), name).toMatch(
        /issuance\.currencies/,
      );
    }
  });
});
