// The issuing terminal of a terminal whose configuration names an issuer host: IssuingTerminal on the
// terminal's engine, reaching the command-generating server through the host link. Without a host
// there is no authority to ask, and every issuance is refused with a message that says so.
import { TerminalError } from '../../../protocol/errors.js';
import type { TerminalServices } from '../terminal-services.js';
import { HostAuthority } from './host-authority.js';
import { type IssuingPort, IssuingTerminal } from './issuing-terminal.js';

export interface IssuingServices {
  authority: HostAuthority;
  terminal: IssuingTerminal;
  /** What the operator screen's handlers use: the terminal's issue() and the issuer the host serves. */
  port: IssuingPort;
  close(): void;
}

export function startIssuing(
  services: Pick<TerminalServices, 'engine' | 'config' | 'host'>,
  o: { now?: () => Date } = {},
): IssuingServices {
  const host = services.host;
  const authority = new HostAuthority(
    host?.client ?? {
      call: () =>
        Promise.reject(
          new TerminalError(
            'E_INPUT_INVALID',
            'this terminal has no issuer host configured (the "host" section of its configuration): issuing needs the command-generating server',
          ),
        ),
    },
  );
  const terminal = new IssuingTerminal({
    engine: services.engine,
    authority,
    dataDir: services.config.dataDir,
    terminalId: host?.terminalId,
    now: o.now,
  });
  const port: IssuingPort = {
    issuerId: () => authority.issuerId(),
    issue: (slot, item) => terminal.issue(slot, item),
  };
  return { authority, terminal, port, close: () => {} };
}
