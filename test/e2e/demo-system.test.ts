// The whole demo system as `npm run start:web` assembles it (electron/host/start-web.ts): the demo
// shop's terminal services, the demo issuer host started beside them as its own process (embedded
// PostgreSQL created on first start, TLS from the demo issuer, the terminal registered, its pin in
// the terminal's configuration), and the operator screen's transport. The terminal sells before the
// host is up and after it is gone; once it is up the screen's CRL status shows the host, issuing goes
// to it over HTTPS, and a revocation made with the issuer's card tool reaches the terminal's next CRL
// refresh, after which the card is refused.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { openSimulatedCard } from '../../card-sim/card-files.js';
import { issuerRevoke } from '../../card-sim/cli/commands-issuer.js';
import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { type DemoHostProcess, startDemoHostBeside } from '../../demo/demo-host-process.js';
import { type BrowserHost, startBrowserHost } from '../../electron/host/browser-host.js';
import type { CrlStatusWire, HostStatusWire } from '../../electron/ipc/contract.js';
import { loadConfig } from '../../electron/services/config.js';
import { startIssuing } from '../../electron/services/issuing/issuing-services.js';
import { newItem } from '../../electron/services/issuing/issuing-terminal.js';
import { DEMO_OPERATOR_PINS } from '../../electron/services/operators/demo-operators.js';
import { startTerminalServices, type TerminalServices } from '../../electron/services/terminal-services.js';
import { runCli } from '../../tooling/cli-kit.js';

const root = mkdtempSync(join(tmpdir(), 'demo-system-'));
const dir = join(root, 'demo');
let services: TerminalServices;
let screen: BrowserHost;
let ws: WebSocket;
let demoHost: DemoHostProcess | undefined;
const log: string[] = [];

beforeAll(async () => {
  const config = loadConfig(ensureDemoEnvironment(dir));
  services = await startTerminalServices(config, { openSimulatedCard });
  writeFileSync(join(root, 'index.html'), '<!doctype html>'); // the screen's files are not what this tests
  screen = await startBrowserHost({ services, staticDir: root, port: 0 });
  ws = new WebSocket(`ws://127.0.0.1:${screen.port}/ws?token=${screen.token}`, {
    headers: { Origin: `http://127.0.0.1:${screen.port}` },
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  // The demo shop has operators: the screen's channels answer once one is signed in.
  await invoke('operator:sign-in', { operatorId: 'sam', pin: DEMO_OPERATOR_PINS.supervisor });
  revokedAtStart = (await invoke<CrlStatusWire>('crl:status')).revokedCount;
}, 60_000);

afterAll(async () => {
  ws?.close();
  await demoHost?.stop();
  await screen?.close();
  await services?.close();
  rmSync(root, { recursive: true, force: true });
});

/** What the demo's CRL lists before the test revokes a card (the tray's revoked card), and the list after. */
let revokedAtStart = 0;
let revokedCrlNumber: string | undefined;

let nextId = 1;
/** One request over the screen's transport, as the renderer sends it. */
function invoke<T>(channel: string, payload: unknown = {}): Promise<T> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as {
        id?: number;
        result?: { ok: boolean; value?: T; error?: unknown };
      };
      if (frame.id !== id) return;
      ws.off('message', onMessage);
      if (frame.result?.ok) resolve(frame.result.value as T);
      else reject(frame.result?.error);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, channel, payload }));
  });
}

describe('npm run start:web with the demo issuer host', () => {
  it('sells before the host is up: the screen says where the CRL would come from, and refreshing fails cleanly', async () => {
    const sold = await services.engine.transfer({ amount: 1_00 });
    expect(sold.status).toBe('completed');
    const crl = await invoke<CrlStatusWire>('crl:refresh');
    expect(crl).toMatchObject({
      state: 'fresh',
      source: 'builtin',
      distributionPoint: `${services.host!.url}/crl`,
      lastRefresh: { ok: false, error: { code: 'E_TRANSPORT' } },
    });
    const issuing = startIssuing(services);
    expect(await issuing.terminal.issue('payee', ticket('A'))).toMatchObject({
      status: 'refused',
      error: { code: 'E_TRANSPORT' },
    });
  });

  it('starts the host beside the terminal; once ready the CRL comes from it over the pinned link', async () => {
    demoHost = startDemoHostBeside(services, { dir, log: (line) => log.push(line) });
    // It takes seconds to create its database; the terminal does not wait.
    expect((await services.engine.transfer({ amount: 50 })).status).toBe('completed');
    const { url } = await demoHost.ready;
    expect(url).toBe(services.host!.url);
    // The terminal fetches the host's CRL as soon as the host says it is ready.
    await vi.waitFor(() => expect(log.some((l) => l.includes('CRL fetched from it'))).toBe(true), {
      timeout: 10_000,
    });
    const crl = await invoke<CrlStatusWire>('crl:status');
    expect(crl).toMatchObject({
      state: 'fresh',
      source: 'http',
      crlNumber: '1',
      distributionPoint: `${url}/crl`,
      lastRefresh: { ok: true },
    });
  }, 120_000);

  it('issues a ticket onto the shop card under a create right from the host', async () => {
    const issuing = startIssuing(services);
    const item = ticket(await issuing.authority.issuerId());
    const outcome = await issuing.terminal.issue('payee', item);
    expect(outcome).toMatchObject({ status: 'issued', item: { id: item.id } });
  });

  it('uploads the journal to the host once it is ready, and the screen shows the host status', async () => {
    // startDemoHostBeside uploaded when the host became ready; what was sold since waits.
    await vi.waitFor(() => expect(log.some((l) => l.startsWith('Journal uploaded to it'))).toBe(true), {
      timeout: 10_000,
    });
    expect((await services.engine.transfer({ amount: 25 })).status).toBe('completed');
    const waiting = await invoke<HostStatusWire>('host:status');
    expect(waiting).toMatchObject({ configured: true, url: services.host!.url });
    expect(waiting.waiting).toBeGreaterThan(0);
    const synced = await services.uploader!.sync();
    expect(synced).toMatchObject({ ok: true, waiting: 0, ackedSeq: services.journal.head().seq });
    const status = await invoke<HostStatusWire>('host:status');
    expect(status).toMatchObject({ configured: true, waiting: 0, lastUploadAt: expect.any(String) });
    expect(status.lastError).toBeUndefined();
    expect(status.crlAgeSeconds).toBeGreaterThanOrEqual(0);
  });

  it('a revocation made with the issuer’s card tool goes to the host, and the next CRL refresh refuses the card', async () => {
    const revoke = await quietly(() =>
      runCli(
        'card',
        [issuerRevoke],
        ['issuer-revoke', '--issuer', join(dir, 'issuer.json'), '--card', join(dir, 'payer-card.json')],
      ),
    );
    expect(revoke).toBe(0);
    // Until the terminal refreshes, it does not know (the demo's list already names the tray's revoked card).
    const before = await invoke<CrlStatusWire>('crl:status');
    expect(before.revokedCount).toBe(revokedAtStart);
    const crl = await invoke<CrlStatusWire>('crl:refresh');
    expect(crl).toMatchObject({
      crlNumber: String(Number(before.crlNumber) + 1),
      revokedCount: revokedAtStart + 1,
      source: 'http',
      lastRefresh: { ok: true },
    });
    revokedCrlNumber = crl.crlNumber;
    const refused = await services.engine.transfer({ amount: 1_00 });
    expect(refused).toMatchObject({ status: 'refused', error: { code: 'E_PKI_REVOKED' } });
  });

  it('goes on when the host is gone: the CRL it has stays in force, a refresh fails and says so', async () => {
    await demoHost!.stop();
    const crl = await invoke<CrlStatusWire>('crl:refresh');
    expect(crl).toMatchObject({
      state: 'fresh',
      crlNumber: revokedCrlNumber,
      revokedCount: revokedAtStart + 1,
      lastRefresh: { ok: false, error: { code: 'E_TRANSPORT' } },
    });
    const issuing = startIssuing(services);
    expect(await issuing.terminal.issue('payee', ticket('B'))).toMatchObject({
      status: 'refused',
      error: { code: 'E_TRANSPORT' },
    });
    // The journal waits in the outbox; the screen says the last attempt failed.
    expect((await services.uploader!.sync()).ok).toBe(false);
    const status = await invoke<HostStatusWire>('host:status');
    expect(status.lastError?.code).toBe('E_TRANSPORT');
    expect(status.waiting).toBe(services.journal.head().seq - services.uploader!.status().ackedSeq);
  });
});

/** A ticket of `issuerId` (any 16 bytes where the host is not asked which). */
function ticket(issuerId: string) {
  return newItem({
    type: 'ticket',
    issuerId: issuerId.length === 32 ? issuerId : '0'.repeat(32),
    label: 'Gig',
  });
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await fn();
  } finally {
    out.mockRestore();
  }
}
