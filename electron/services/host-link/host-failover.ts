// One issuer host fleet behind several addresses (the configuration's `host.urls`): a pinned client
// per address, all with the same pins and terminal key, tried in order from the one that answered
// last. The next address is tried only when this one could not be reached:
//
//   - the connection never opened (refused, no route, no such name): always, nothing was sent;
//   - a timeout or a connection lost mid-answer: only for requests that are safe to send twice
//     (GET/HEAD, and the journal upload, idempotent by terminal and sequence number);
//
// never on an answer (a host's refusal, E_HOST_DB included: every instance shares the database)
// and never on a pin failure (an address presenting a key that is not pinned is shown, not routed
// around). The uploader, the CRL cache, the issuing terminal and the release-proof fetch all use it.
import { TerminalError } from '../../../protocol/errors.js';
import { CLEARING_UPLOAD_PATH } from '../../../protocol/host-link/clearing-wire.js';
import { HostClient, type HostClientOptions } from '../../../protocol/host-link/host-client.js';

/** What the terminal's services use of a host client. */
export type HostLinkClient = Pick<HostClient, 'call' | 'fetch' | 'close'>;

/** System codes of a connection that never opened: the request never left. */
const NOT_REACHED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export class FailoverHostClient implements HostLinkClient {
  private readonly clients: HostClient[];
  private at = 0;

  constructor(
    readonly urls: readonly string[],
    options: Omit<HostClientOptions, 'baseUrl'>,
  ) {
    if (urls.length === 0) throw new TerminalError('E_INPUT_INVALID', 'an issuer host needs an address');
    this.clients = urls.map((baseUrl) => new HostClient({ ...options, baseUrl }));
  }

  /** The address tried first now (the one that answered last). */
  get current(): string {
    return this.urls[this.at]!;
  }

  call<T>(
    method: string,
    path: string,
    body?: unknown,
    init?: Parameters<HostClient['call']>[3],
  ): Promise<T> {
    const again = method === 'GET' || method === 'HEAD' || path === CLEARING_UPLOAD_PATH;
    return this.tryEach(again, (c) => c.call<T>(method, path, body, init));
  }

  /** fetch() of a URL on any of the addresses: its path is asked of each in turn. */
  readonly fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (!this.urls.some((u) => new URL(u).origin === url.origin)) {
      throw new TerminalError('E_INPUT_INVALID', `${url.href} is not on the issuer host`);
    }
    const path = url.pathname + url.search;
    return this.tryEach(true, (c, base) => c.fetch(new URL(path, base).href, init));
  };

  close(): void {
    for (const c of this.clients) c.close();
  }

  private async tryEach<T>(
    repeatable: boolean,
    send: (c: HostClient, base: string) => Promise<T>,
  ): Promise<T> {
    const first = this.at;
    for (let n = 0; ; n++) {
      const i = (first + n) % this.clients.length;
      try {
        const answer = await send(this.clients[i]!, this.urls[i]!);
        this.at = i;
        return answer;
      } catch (e) {
        if (n + 1 >= this.clients.length || !unreached(e, repeatable)) throw e;
      }
    }
  }
}

function unreached(e: unknown, repeatable: boolean): boolean {
  if (!(e instanceof TerminalError)) return false;
  if (e.code === 'E_TRANSPORT_TIMEOUT') return repeatable;
  if (e.code !== 'E_TRANSPORT' || e.details.status !== undefined) return false; // an HTTP answer
  const code = e.details.syscallCode;
  return (typeof code === 'string' && NOT_REACHED.has(code)) || repeatable;
}
