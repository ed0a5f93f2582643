// The demo issuer host's files, made in the terminal's process before anything starts (fast: no
// database, no server): the host folder in .state/demo/host made from the demo issuer (TLS from its
// CA for 127.0.0.1, its authority key and clearing key set, embedded PostgreSQL, a loopback port free when it was made),
// and the demo terminal configuration's `host` section with the host's pin. Its rows are made by
// the host process itself (demo-host.ts). Kept apart so the Electron shell's bundle, which makes the
// demo shop, never carries the host's server and database.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadIssuer } from '../card-sim/issuer/issuer.js';
import type { TerminalConfigFile } from '../electron/services/config.js';
import { loadOrCreateServerIdentity } from '../electron/services/issuing/server-identity.js';
import { writeHostFolder } from '../issuer-host/host-folder.js';
import { certificatePin } from '../issuer-host/pki/host-certificate.js';
import type { IssuanceRequest } from '../protocol/host-link/issuance-wire.js';

export const DEMO_HOST_DIR = 'host';
/** The demo cards' issuance (what personalizing them created: public data only), which the demo host records. */
export const ISSUED_CARDS_FILE = 'issued-cards.json';
export type DemoIssuedCard = IssuanceRequest;
export const DEMO_TERMINAL = { terminalId: 'demo-shop-terminal', name: 'Corner Shop terminal' } as const;

/** The demo terminal's identity key (made once in its data folder), as the host registers it. */
export function demoTerminalIdentity(dir: string) {
  return loadOrCreateServerIdentity(join(dir, 'data'), DEMO_TERMINAL);
}

/**
 * Makes the demo host's folder if it is missing and gives the demo terminal's configuration its
 * `host` section if it has none (a demo made before there was a host gets one). Returns host.json.
 */
export function ensureDemoHost(dir: string, terminalConfig = join(dir, 'terminal.json')): string {
  const hostDir = join(dir, DEMO_HOST_DIR);
  const hostConfig = join(hostDir, 'host.json');
  if (!existsSync(hostConfig)) {
    writeHostFolder({
      dir: hostDir,
      issuer: loadIssuer(join(dir, 'issuer.json')),
      port: freeLoopbackPort(),
      names: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 3650 },
    });
  }
  const config = JSON.parse(readFileSync(terminalConfig, 'utf8')) as Partial<TerminalConfigFile>;
  if (config.host === undefined) {
    const { url, pin } = demoHostAddress(dir);
    config.host = {
      url,
      pins: [pin],
      terminalId: demoTerminalIdentity(dir).serverInfo.terminalId,
      timeoutMs: 10_000,
    };
    writeFileSync(terminalConfig, `${JSON.stringify(config, null, 2)}\n`);
  }
  return hostConfig;
}

/** The demo host's address and pin, from its folder. */
export function demoHostAddress(dir: string): { url: string; pin: string } {
  const hostDir = join(dir, DEMO_HOST_DIR);
  const config = JSON.parse(readFileSync(join(hostDir, 'host.json'), 'utf8')) as {
    listen: { port: number };
    tls: { certificate: string };
  };
  return {
    url: `https://127.0.0.1:${config.listen.port}`,
    pin: certificatePin(readFileSync(join(hostDir, config.tls.certificate), 'utf8')),
  };
}

/** A loopback port free right now (asked of a short-lived Node process: this function is synchronous). */
function freeLoopbackPort(): number {
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})",
    ],
    { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 10_000 },
  );
  const port = Number.parseInt(probe.stdout ?? '', 10);
  return Number.isInteger(port) && port > 0 ? port : 20_000 + Math.floor(Math.random() * 40_000);
}
