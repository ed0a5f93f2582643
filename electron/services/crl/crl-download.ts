// The CRL's download from the CA's distribution point: conditional on the stored CRL's ETag and
// Last-Modified, bounded in time (the whole request) and in size (the body is abandoned once it is
// too large). Every failure is a TerminalError: E_TRANSPORT_TIMEOUT, or E_TRANSPORT naming the HTTP
// status or the network error. What the bytes are is the CRL cache's to decide.
import { concat } from '../../../protocol/bytes.js';
import { isTerminalError, TerminalError } from '../../../protocol/errors.js';

export interface CrlDownloadOptions {
  fetchImpl: typeof fetch;
  /** Whole-request bound (headers and body). */
  timeoutMs: number;
  /** Largest body accepted. */
  maxBytes: number;
  /** The validators of the CRL already held, if one is: the server may answer 304 Not Modified. */
  stored?: { etag?: string | undefined; lastModified?: string | undefined } | undefined;
}

export type CrlDownload =
  | { notModified: true }
  | { notModified: false; bytes: Uint8Array; etag?: string; lastModified?: string };

export async function downloadCrl(url: string, o: CrlDownloadOptions): Promise<CrlDownload> {
  const headers: Record<string, string> = {
    accept: 'application/pkix-crl, application/x-pem-file;q=0.5, */*;q=0.1',
  };
  if (o.stored?.etag !== undefined) headers['if-none-match'] = o.stored.etag;
  if (o.stored?.lastModified !== undefined) headers['if-modified-since'] = o.stored.lastModified;

  const signal = AbortSignal.timeout(o.timeoutMs);
  try {
    const response = await o.fetchImpl(url, { headers, signal, redirect: 'follow' });
    if (response.status === 304) {
      await response.body?.cancel().catch(() => {});
      if (o.stored === undefined) {
        throw new TerminalError('E_TRANSPORT', `${url} answered 304 Not Modified, but no CRL is stored`, {
          url,
          status: 304,
        });
      }
      return { notModified: true };
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new TerminalError('E_TRANSPORT', `${url} answered HTTP ${response.status}`, {
        url,
        status: response.status,
      });
    }
    return {
      notModified: false,
      bytes: await readCapped(response, o.maxBytes, url),
      etag: headerValue(response, 'etag'),
      lastModified: headerValue(response, 'last-modified'),
    };
  } catch (e) {
    if (signal.aborted) {
      throw new TerminalError('E_TRANSPORT_TIMEOUT', `no CRL from ${url} within ${o.timeoutMs} ms`, {
        url,
        timeoutMs: o.timeoutMs,
      });
    }
    if (isTerminalError(e)) throw e;
    throw new TerminalError('E_TRANSPORT', `CRL download from ${url} failed: ${networkMessage(e)}`, { url });
  }
}

/** The response body, refusing (and abandoning) it once it exceeds `limit` bytes. */
async function readCapped(response: Response, limit: number, url: string): Promise<Uint8Array> {
  const tooLarge = () =>
    new TerminalError('E_TRANSPORT', `the CRL from ${url} is larger than ${limit} bytes`, { url, limit });
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concat(...chunks);
}

/** A response header's value; undefined when absent or empty. */
function headerValue(response: Response, header: string): string | undefined {
  return response.headers.get(header) || undefined;
}

/** undici reports "fetch failed" with the useful part (ECONNREFUSED, ...) in `cause`. */
function networkMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? e.cause.message : undefined;
  return cause !== undefined && cause !== e.message ? `${e.message} (${cause})` : e.message;
}
