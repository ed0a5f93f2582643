// The terminal's link to the issuer host, from the configuration's `host` section: the pinned client
// (protocol/host-link/host-client.ts) signing with the terminal's identity key. The CRL cache fetches
// the host's /crl through it and the issuing terminal sends its authority requests through it.
// Opening it touches no network: a host that is down shows as failed refreshes and refused
// issuances, never as a terminal that cannot start or sell.
import { HostClient } from '../../../protocol/host-link/host-client.js';
import type { TerminalConfig } from '../config.js';
import { hostIdentity, type ServerIdentity } from '../issuing/server-identity.js';

export interface HostLink {
  /** https://host:port */
  url: string;
  terminalId: string;
  client: HostClient;
  identity: ServerIdentity;
  /** The host's CRL distribution point. */
  crlUrl: string;
  close(): void;
}

export function openHostLink(
  host: NonNullable<TerminalConfig['host']>,
  o: { dataDir: string; caCertificateDer: Uint8Array },
): HostLink {
  const identity = hostIdentity(o.dataDir, host.terminalId);
  const client = new HostClient({
    baseUrl: host.url,
    caCertificateDer: o.caCertificateDer,
    pins: host.pins,
    terminal: { terminalId: host.terminalId, privateKey: identity.privateKey },
    timeoutMs: host.timeoutMs,
  });
  return {
    url: host.url,
    terminalId: host.terminalId,
    client,
    identity,
    crlUrl: new URL('/crl', host.url).href,
    close: () => client.close(),
  };
}
