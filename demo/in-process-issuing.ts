// The issuing terminal of the all-in-one demo: the terminal's IssuingTerminal talking to the
// issuer's command-generating authority in the same process (InProcessAuthority round-trips the
// same JSON a network transport would carry). Only the demo wires the two together: the terminal's
// services see the authority through CommandAuthorityPort (protocol/issuing/authority-protocol.ts).

import { IssuingTerminal } from '../electron/services/issuing/issuing-terminal.js';
import type { SettlementEngine } from '../electron/services/settlement/settlement-engine.js';
import type { CommandAuthority } from '../issuer-host/authority/command-authority.js';
import { InProcessAuthority } from '../issuer-host/authority/in-process-authority.js';
import { openAuthority } from '../issuer-host/authority/open-authority.js';

export { defaultAuthorityDb } from '../issuer-host/authority/open-authority.js';

export interface IssuingServices {
  authority: CommandAuthority;
  terminal: IssuingTerminal;
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
    return { authority, terminal, close: () => authority.close() };
  } catch (e) {
    authority.close();
    throw e;
  }
}
