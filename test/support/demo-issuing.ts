// Issuing for a demo shop under test: the demo's issuer host served in this process on an in-memory
// PGlite, started on first use (most tests never issue, and the host's database takes seconds), and
// the terminal's own issuing services over a host link to it, as `npm start` wires them. The terminal
// services themselves may run without the host (the UI tests keep their CRL local).
// PGlite's first start compiles its WebAssembly and runs initdb on this process's thread: it blocks
// the event loop for seconds (13 s measured under a loaded test run). Where something in this process
// must keep answering meanwhile — the browser host answering a screen's pings — call start() first.
import { readFileSync } from 'node:fs';
import type { TerminalConfig } from '../../electron/services/config.js';
import { openHostLink } from '../../electron/services/host-link/host-link.js';
import { type IssuingServices, startIssuing } from '../../electron/services/issuing/issuing-services.js';
import type { IssuingPort } from '../../electron/services/issuing/issuing-terminal.js';
import type { SettlementEngine } from '../../electron/services/settlement/settlement-engine.js';
import { openHostDatabase } from '../../issuer-host/db/host-database.js';
import { fromPem } from '../../protocol/pki/index.js';
import { serveDemoHostHere } from './demo-host-fixture.js';

export interface DemoIssuing {
  port: IssuingPort;
  /** Starts the host now rather than on first use (see above); resolves once it serves. */
  start(): Promise<IssuingServices>;
  /** The issuing services, once something issued (undefined before). */
  started(): Promise<IssuingServices | undefined>;
  close(): Promise<void>;
}

export function lazyDemoIssuing(o: {
  demoDir: string;
  engine: SettlementEngine;
  /** The demo terminal's configuration as the demo wrote it (with its `host` section). */
  config: TerminalConfig;
}): DemoIssuing {
  const hostSection = o.config.host;
  if (!hostSection) throw new Error('the demo configuration names its issuer host');
  let running: Promise<{ issuing: IssuingServices; close(): Promise<void> }> | undefined;
  const start = async () => {
    const db = await openHostDatabase({ memory: true });
    const host = await serveDemoHostHere(o.demoDir, db);
    const pem = readFileSync(o.config.caCertificate, 'utf8');
    const link = openHostLink(hostSection, { dataDir: o.config.dataDir, caCertificateDer: fromPem(pem) });
    const issuing = startIssuing({ engine: o.engine, config: o.config, host: link });
    return {
      issuing,
      async close() {
        issuing.close();
        link.close();
        await host.close();
        await db.close();
      },
    };
  };
  const ensure = async () => {
    running ??= start();
    return (await running).issuing;
  };
  return {
    port: {
      issuerId: async () => (await ensure()).port.issuerId(),
      issue: async (slot, item) => (await ensure()).port.issue(slot, item),
    },
    start: ensure,
    started: async () => (running ? (await running).issuing : undefined),
    async close() {
      if (running) await (await running).close();
    },
  };
}
