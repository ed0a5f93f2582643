// The terminal's link to the issuer host, from the configuration's `host` section: the pinned client
// (protocol/host-link/host-client.ts) signing with the terminal's identity key, one per configured
// address with failover between them (host-failover.ts). The CRL cache fetches the host's /crl
// through it, the issuing terminal sends its authority requests, the uploader the journal, and
// recovery asks it for the release proofs of a card presented.
// Opening it touches no network: a host that is down shows as failed refreshes and refused
// issuances, never as a terminal that cannot start or sell.
import type { TerminalConfig } from '../config.js';
import { hostIdentity, type ServerIdentity } from '../issuing/server-identity.js';
import { FailoverHostClient } from './host-failover.js';

export interface HostLink {
  /** https://host:port: the first configured address. */
  url: string;
  /** Every configured address, in the order they are tried. */
  urls: readonly string[];
  terminalId: string;
  timeoutMs: number;
  client: FailoverHostClient;
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
  const client = new FailoverHostClient(host.urls, {
    caCertificateDer: o.caCertificateDer,
    pins: host.pins,
    terminal: { terminalId: host.terminalId, privateKey: identity.privateKey },
    timeoutMs: host.timeoutMs,
  });
  return {
    url: host.url,
    urls: host.urls,
    terminalId: host.terminalId,
    timeoutMs: host.timeoutMs,
    client,
    identity,
    crlUrl: new URL('/crl', host.url).href,
    close: () => client.close(),
  };
}
