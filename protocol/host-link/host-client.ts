// The link to the issuer host (docs/issuer-host.md): HTTPS that accepts only the host's pinned key,
// with requests signed by a terminal's registered key or carrying a staff token. The terminal's
// services (CRL cache, issuing), the issuer's card tool (CRLs) and the authority's command line all
// talk to the host through it, so it lives in protocol/host-link/, the one layer all of them may
// import; it imports only protocol/ and Node.
//
// Trust: the host's certificate must chain to the issuer CA, name the host, AND carry a key whose
// SPKI SHA-256 is one of the configured pins. A certificate the CA issued for another key (a stolen
// CA key, a mis-issued certificate) is refused like any other: E_HOST_PIN. TLS session resumption is
// off, so the pin is checked on every new connection (Node skips the identity check on resumption).
//
// `fetch` is a small fetch-compatible view (GET/HEAD to the host only, unsigned) so the terminal's
// CRL cache can fetch the CRL through the pinned connection.

import { X509Certificate } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { concat } from '../bytes.js';
import { ERROR_CODES, type ErrorCode, isTerminalError, TerminalError } from '../errors.js';
import { toPem } from '../pki/pem.js';
import { signRequest } from './signed-request.js';
import { SPKI_PIN_PATTERN, spkiPin } from './spki-pin.js';

export interface HostClientOptions {
  /** https://host:port of the issuer host (http: only with allowPlainHttp). */
  baseUrl: string;
  /** The issuer CA certificate (DER): the host's certificate must chain to it. */
  caCertificateDer: Uint8Array;
  /** `sha256/<base64>` pins of the host's key; the current one and, during a change, the next. */
  pins: readonly string[];
  /** For signed requests: the terminal's registered ID and its P-256 private key. */
  terminal?: { terminalId: string; privateKey: Uint8Array };
  /** For staff requests: a staff token (`stlh_…`), sent as `Authorization: Bearer`. Not with `terminal`. */
  staffToken?: string;
  /** Whole-request bound. Default 10 s. */
  timeoutMs?: number;
  /** Largest response body accepted. Default 64 MiB (a national CRL). */
  maxResponseBytes?: number;
  /** Plain HTTP, no TLS and no pin: tests only. */
  allowPlainHttp?: boolean;
  now?: () => number;
}

export interface HostResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export const DEFAULT_HOST_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class HostClient {
  private readonly base: URL;
  private readonly agent: Agent;
  private readonly tls: boolean;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: HostClientOptions) {
    this.base = new URL(options.baseUrl);
    this.tls = this.base.protocol === 'https:';
    if (!this.tls && !(this.base.protocol === 'http:' && options.allowPlainHttp === true)) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `the issuer host address must be https: (got ${this.base.protocol})`,
      );
    }
    if (this.tls && (options.pins.length === 0 || !options.pins.every((p) => SPKI_PIN_PATTERN.test(p)))) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        'at least one host pin of the form sha256/<base64> is needed',
      );
    }
    if (options.terminal !== undefined && options.staffToken !== undefined) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        'a host client speaks for a terminal or for staff, not both',
      );
    }
    if (options.staffToken !== undefined && !/^[\x21-\x7e]{1,200}$/.test(options.staffToken)) {
      throw new TerminalError('E_INPUT_INVALID', 'the staff token holds characters a header cannot carry');
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HOST_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const pins = new Set(options.pins);
    this.agent = this.tls
      ? new HttpsAgent({
          keepAlive: true,
          ca: toPem('CERTIFICATE', options.caCertificateDer),
          rejectUnauthorized: true,
          minVersion: 'TLSv1.3',
          maxCachedSessions: 0,
          checkServerIdentity: (host: string, cert: PeerCertificate) =>
            checkServerIdentity(host, cert) ?? checkPin(cert, pins),
        })
      : new Agent({ keepAlive: true });
  }

  /**
   * One request to the host; signed with the terminal key when `signed` (the default if configured),
   * else carrying the staff token if one is configured.
   */
  async request(
    method: string,
    path: string,
    init: {
      body?: Uint8Array;
      contentType?: string;
      headers?: Record<string, string>;
      signed?: boolean;
      signal?: AbortSignal;
      /** A tighter bound than the client's for this answer (a short list, not a CRL). */
      maxResponseBytes?: number;
    } = {},
  ): Promise<HostResponse> {
    const url = new URL(path, this.base);
    if (url.origin !== this.base.origin) {
      throw new TerminalError('E_INPUT_INVALID', `${url.href} is not on the issuer host ${this.base.origin}`);
    }
    const target = url.pathname + url.search;
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== undefined) {
      headers['content-type'] = init.contentType ?? 'application/json';
      headers['content-length'] = String(init.body.length);
    }
    const terminal = this.options.terminal;
    if (init.signed ?? terminal !== undefined) {
      if (terminal === undefined) throw new TerminalError('E_INPUT_INVALID', 'no terminal key to sign with');
      Object.assign(
        headers,
        signRequest(
          terminal.privateKey,
          {
            method,
            path: target,
            terminalId: terminal.terminalId,
            ...(init.body ? { body: init.body } : {}),
          },
          { now: (this.options.now ?? Date.now)() },
        ),
      );
    } else if (this.options.staffToken !== undefined && init.signed !== false) {
      headers.authorization = `Bearer ${this.options.staffToken}`;
    }
    return this.send({ method, path: target, headers }, init.body, init.signal, init.maxResponseBytes);
  }

  /**
   * A JSON call with the configured credentials (terminal signature or staff token): the parsed
   * answer of a 2xx, else the host's `{ code, message }` thrown as a TerminalError with that code.
   * `body` is JSON unless given as bytes with their content type.
   */
  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    init: { contentType?: string; signal?: AbortSignal; maxResponseBytes?: number } = {},
  ): Promise<T> {
    const bytes =
      body === undefined
        ? undefined
        : body instanceof Uint8Array
          ? body
          : new TextEncoder().encode(JSON.stringify(body));
    const response = await this.request(method, path, {
      ...(bytes ? { body: bytes } : {}),
      ...(init.contentType ? { contentType: init.contentType } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
      ...(init.maxResponseBytes !== undefined ? { maxResponseBytes: init.maxResponseBytes } : {}),
    });
    const text = new TextDecoder().decode(response.body);
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new TerminalError(
        'E_TRANSPORT',
        `the issuer host answered ${response.status} with a body that is not JSON`,
      );
    }
    if (response.status >= 200 && response.status < 300) return parsed as T;
    throw hostError(response.status, parsed);
  }

  /** fetch() for GET/HEAD on the host, unsigned (e.g. the CRL cache's `fetchImpl`). */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      throw new TerminalError('E_INPUT_INVALID', 'the host link fetch() does GET and HEAD only');
    }
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const response = await this.request(method, url, {
      headers,
      signed: false,
      ...(init?.signal ? { signal: init.signal } : {}),
    });
    const nullBody = method === 'HEAD' || response.status === 204 || response.status === 304;
    return new Response(nullBody ? null : response.body, {
      status: response.status,
      headers: response.headers,
    });
  };

  close(): void {
    this.agent.destroy();
  }

  private send(
    options: Pick<RequestOptions, 'method' | 'path' | 'headers'>,
    body?: Uint8Array,
    signal?: AbortSignal,
    maxResponseBytes?: number,
  ): Promise<HostResponse> {
    const limit = Math.min(maxResponseBytes ?? this.maxResponseBytes, this.maxResponseBytes);
    const where = `${options.method} ${this.base.origin}${options.path}`;
    return new Promise((resolve, reject) => {
      const fail = (e: unknown) => reject(transportError(e, where));
      const req = (this.tls ? httpsRequest : httpRequest)(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[|\]$/g, ''),
          port: this.base.port,
          agent: this.agent,
          ...options,
          ...(signal ? { signal } : {}),
        },
        (res) => readBody(res, limit, where).then(resolve, fail),
      );
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(
          new TerminalError('E_TRANSPORT_TIMEOUT', `${where}: no answer within ${this.timeoutMs} ms`),
        ),
      );
      req.on('error', fail);
      req.end(body);
    });
  }
}

function checkPin(cert: PeerCertificate, pins: ReadonlySet<string>): Error | undefined {
  let pin: string;
  try {
    const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
    pin = spkiPin(new Uint8Array(spki));
  } catch {
    return new TerminalError('E_HOST_PIN', 'the issuer host’s certificate key cannot be read');
  }
  if (pins.has(pin)) return undefined;
  return new TerminalError('E_HOST_PIN', `the issuer host presented key ${pin}, which is not pinned`, {
    pin,
  });
}

async function readBody(res: IncomingMessage, limit: number, where: string): Promise<HostResponse> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      res.destroy();
      throw new TerminalError('E_TRANSPORT', `${where}: the answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: res.statusCode ?? 0, headers, body: concat(...chunks) };
}

function hostError(status: number, body: unknown): TerminalError {
  const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && code in ERROR_CODES && typeof message === 'string') {
    return new TerminalError(code as ErrorCode, message, { status });
  }
  return new TerminalError('E_TRANSPORT', `the issuer host answered HTTP ${status}`, { status });
}

function transportError(e: unknown, where: string): TerminalError {
  if (isTerminalError(e)) return e;
  // A refused pin arrives as the TLS socket's error; the chain or name check as Node's own.
  const cause = (e as { cause?: unknown }).cause;
  if (isTerminalError(cause)) return cause;
  const code = (e as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    /CERT|SELF_SIGNED|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_VERIFY/.test(code)
  ) {
    return new TerminalError(
      'E_HOST_PIN',
      `${where}: the host’s certificate is not the issuer host’s (${code})`,
      { tlsCode: code },
    );
  }
  // The system error's code (ECONNREFUSED…) goes with it: a caller with several addresses tells a
  // host that was never reached from one that may have taken the request.
  return new TerminalError(
    'E_TRANSPORT',
    `${where}: ${e instanceof Error ? e.message : String(e)}`,
    typeof code === 'string' ? { syscallCode: code } : {},
  );
}
