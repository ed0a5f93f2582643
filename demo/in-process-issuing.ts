// The issuing terminal of the all-in-one demo: the terminal's IssuingTerminal talking to the
// issuer's command-generating authority in the same process (InProcessAuthority round-trips the
// same JSON a network transport would carry). Only the demo wires the two together: the terminal's
// services see the authority through CommandAuthorityPort (protocol/issuing/authority-protocol.ts).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type IssuingPort, IssuingTerminal } from '../electron/services/issuing/issuing-terminal.js';
import type { SettlementEngine } from '../electron/services/settlement/settlement-engine.js';
import type { CommandAuthority } from '../issuer-host/authority/command-authority.js';
import { InProcessAuthority } from '../issuer-host/authority/in-process-authority.js';
import { openAuthority } from '../issuer-host/authority/open-authority.js';

export { defaultAuthorityDb } from '../issuer-host/authority/open-authority.js';

export interface IssuingServices {
  authority: CommandAuthority;
  terminal: IssuingTerminal;
  /** What the operator screen's handlers use: the terminal's issue() and the authority's issuer. */
  port: IssuingPort;
  close(): void;
}

/** Opens the issuer's authority and an issuing terminal on `engine` that reaches it in-process. */
export function startIssuing(o: {
  engine: Pick<SettlementEngine, 'withCards'>;
  dataDir: string;
  issuerFile: string;
  authorityDb?: string | undefined;
  now?: () => Date;
}): IssuingServices {
  const authority = openAuthority(o);
  try {
    const terminal = new IssuingTerminal({
      engine: o.engine,
      authority: new InProcessAuthority(authority),
      dataDir: o.dataDir,
      now: o.now,
    });
    const port: IssuingPort = {
      issuerId: authority.issuerId,
      issue: (slot, item) => terminal.issue(slot, item),
    };
    return { authority, terminal, port, close: () => authority.close() };
  } catch (e) {
    authority.close();
    throw e;
  }
}

/**
 * Issuing for the operator screen's hosts (the browser host, the Electron app): when the terminal's
 * configuration sits beside an issuer file (the demo shop's issuer.json), the in-process authority;
 * otherwise none (items:issue is then refused), until the authority is reached over HTTP.
 */
export function startIssuingBesideConfig(o: {
  engine: Pick<SettlementEngine, 'withCards'>;
  configPath: string;
  dataDir: string;
}): IssuingServices | undefined {
  const issuerFile = join(dirname(o.configPath), 'issuer.json');
  if (!existsSync(issuerFile)) return undefined;
  return startIssuing({ engine: o.engine, dataDir: o.dataDir, issuerFile });
}
