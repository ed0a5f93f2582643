// The terminal's CRL cache (seed 002: "the settlement terminal holds a CRL and checks the card public
// key certificates ... preferably obtains a CRL from the CA via a network; otherwise a latest CRL is
// built into the terminal").
//
// Every CRL, whatever its source (built-in, file, HTTP), is parsed, matched against the configured CA
// (issuer name, authority key identifier) and signature-checked with the CA public key before
// db/crl-store.ts sees it; the store only keeps the newest one per CA and refuses an older cRLNumber.
// A refused CRL leaves the stored one untouched.
//
// Things to know:
// - The outcome of the last refresh() (lastRefresh in status()) is kept in memory only: after a restart
//   it is unknown until the next refresh. The CRL itself, its ETag and Last-Modified are persisted.
// - The current CRL's header (number, dates, count, ETag) is cached in memory so that status() and
//   checkCertificate() do not read the DER blob (tens of MB for a national card population) from
//   SQLite on every card. Revocation lookups always go to the store's index. This assumes this
//   CrlCache is the only writer of its CA's CRL in the store.
// - A revoked certificate is reported as revoked even when the CRL is stale: revocation is final.
// - refresh() never rejects for network, HTTP or content problems; it records them in lastRefresh and
//   keeps the last good CRL. Concurrent refresh() calls share one request.
import { readFileSync, statSync } from 'node:fs';
import type { CrlStore, StoredCrl } from '../../../db/crl-store.js';
import { equalBytes, toHex } from '../../../protocol/bytes.js';
import { sha256Digest } from '../../../protocol/crypto-suite.js';
import {
  type ErrorCode,
  errorMessage,
  isTerminalError,
  TerminalError,
  toTerminalError,
} from '../../../protocol/errors.js';
import {
  type ParsedCertificate,
  type ParsedCrl,
  parseCertificate,
  parseCrl,
  verifyCertificateSignature,
  verifyCrlSignature,
} from '../../../protocol/pki/index.js';
import { decodeCrlBytes } from './crl-bytes.js';
import { downloadCrl } from './crl-download.js';

export type CrlSource = 'builtin' | 'file' | 'http';
export type ExpiredCrlPolicy = 'refuse' | 'warn';

export interface CrlCacheOptions {
  store: CrlStore;
  /** The issuer CA's certificate (the trust anchor); DER. */
  caCertificateDer: Uint8Array;
  /** CRL shipped with the terminal software: imported when nothing (or an older CRL) is stored. */
  builtinCrlDer?: Uint8Array;
  /** What checkCertificate() does when the CRL is stale or missing. Default 'refuse'. */
  expiredPolicy?: ExpiredCrlPolicy;
  /** http: or https: URL of the CA's CRL; required by refresh(). */
  distributionPoint?: string;
  /** Whole-request bound for refresh() (headers and body). Default 5000 ms. */
  fetchTimeoutMs?: number;
  /** Largest CRL accepted from HTTP or a file. Default 64 MiB. */
  maxCrlBytes?: number;
  /** A CRL whose thisUpdate is further than this in the future counts as stale. Default 5 minutes. */
  clockSkewMs?: number;
  now?: () => Date;
  fetchImpl?: typeof fetch;
}

export interface CrlErrorInfo {
  code: ErrorCode;
  message: string;
}

export interface CrlRefreshOutcome {
  /** When the refresh finished (ISO-8601). */
  at: string;
  ok: boolean;
  /** The server answered 304: the stored CRL is still the CA's current one. */
  notModified?: boolean;
  error?: CrlErrorInfo;
}

export interface CrlCacheStatus {
  state: 'fresh' | 'stale' | 'missing';
  /** 'builtin' | 'file' | 'http' for CRLs imported by this service. */
  source?: string;
  /** Decimal cRLNumber. */
  crlNumber?: string;
  thisUpdate?: string;
  nextUpdate?: string;
  revokedCount: number;
  /** Where refresh() fetches from (the issuer host's /crl when one is configured). */
  distributionPoint?: string;
  /** In memory only: undefined after a restart until the next refresh(). */
  lastRefresh?: CrlRefreshOutcome;
  /** Set when the built-in CRL was given but refused (it is then not stored). */
  builtinError?: CrlErrorInfo;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_CRL_BYTES = 64 * 1024 * 1024;
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The stored CRL's header, without the DER. */
type CurrentCrl = Omit<StoredCrl, 'der' | 'importedAt' | 'issuerKeyId'>;

export class CrlCache {
  private readonly store: CrlStore;
  private readonly ca: ParsedCertificate;
  /** Uppercase hex of the CA's key identifier: the store's issuer key. */
  readonly issuerKeyId: string;
  private readonly caKeyId: Uint8Array;
  private readonly policy: ExpiredCrlPolicy;
  private readonly distributionPoint: string | undefined;
  private readonly fetchTimeoutMs: number;
  private readonly maxCrlBytes: number;
  private readonly clockSkewMs: number;
  private readonly now: () => Date;
  private readonly fetchImpl: typeof fetch;
  private current: CurrentCrl | undefined;
  private lastRefresh: CrlRefreshOutcome | undefined;
  private builtinError: CrlErrorInfo | undefined;
  private inFlight: Promise<CrlCacheStatus> | undefined;

  constructor(options: CrlCacheOptions) {
    this.store = options.store;
    this.policy = options.expiredPolicy ?? 'refuse';
    if (this.policy !== 'refuse' && this.policy !== 'warn') {
      invalid(`expiredPolicy must be 'refuse' or 'warn', got ${JSON.stringify(this.policy)}`);
    }
    this.fetchTimeoutMs = positive(options.fetchTimeoutMs, DEFAULT_FETCH_TIMEOUT_MS, 'fetchTimeoutMs');
    this.maxCrlBytes = positive(options.maxCrlBytes, DEFAULT_MAX_CRL_BYTES, 'maxCrlBytes');
    this.clockSkewMs = positive(options.clockSkewMs, DEFAULT_CLOCK_SKEW_MS, 'clockSkewMs', true);
    this.now = options.now ?? (() => new Date());
    this.fetchImpl = options.fetchImpl ?? globalThis.fetch;
    this.distributionPoint =
      options.distributionPoint === undefined ? undefined : checkUrl(options.distributionPoint);

    this.ca = parseCertificate(options.caCertificateDer);
    if (!this.ca.isCa) invalid('caCertificateDer is not a CA certificate');
    if (!verifyCertificateSignature(this.ca, this.ca.publicKey)) {
      throw new TerminalError('E_PKI_SIGNATURE', 'the CA certificate is not self-signed by its own key', {
        subject: this.ca.subjectName,
      });
    }
    // The same key identifier protocol/pki writes into AKIs: the SKI, else RFC 7093 method 1.
    this.caKeyId = this.ca.subjectKeyId ?? sha256Digest(this.ca.publicKey).slice(0, 20);
    this.issuerKeyId = toHex(this.caKeyId);

    const stored = this.store.currentCrl(this.issuerKeyId);
    this.current = stored === undefined ? undefined : headerOf(stored);
    if (options.builtinCrlDer !== undefined) this.installBuiltin(options.builtinCrlDer);
  }

  /**
   * Parses, checks against the CA and stores a CRL. Throws E_PKI_MALFORMED / E_PKI_UNSUPPORTED (does
   * not parse, or lacks cRLNumber / nextUpdate), E_PKI_SIGNATURE (another CA, or the signature does not
   * verify), E_INPUT_INVALID (older cRLNumber than the stored one, or the same number with other
   * content); nothing is stored then. Re-importing the stored CRL only refreshes its source metadata.
   */
  importDer(
    der: Uint8Array,
    source: CrlSource,
    meta: { etag?: string; lastModified?: string } = {},
  ): CrlCacheStatus {
    if (source !== 'builtin' && source !== 'file' && source !== 'http') {
      invalid(`CRL source must be builtin, file or http, got ${JSON.stringify(source)}`);
    }
    this.storeVerified(this.verify(parseCrl(der)), source, meta);
    return this.status();
  }

  /** Reads a DER or PEM ("X509 CRL") file and imports it with source 'file'. */
  importFile(path: string): CrlCacheStatus {
    let bytes: Uint8Array;
    try {
      const size = statSync(path).size;
      if (size > this.maxCrlBytes) invalid(`CRL file ${path} is larger than ${this.maxCrlBytes} bytes`);
      bytes = new Uint8Array(readFileSync(path));
    } catch (e) {
      if (isTerminalError(e)) throw e;
      throw new TerminalError('E_INPUT_INVALID', `cannot read CRL file ${path}: ${errorMessage(e)}`, {
        path,
      });
    }
    return this.importDer(decodeCrlBytes(bytes), 'file');
  }

  status(): CrlCacheStatus {
    const current = this.current;
    const status: CrlCacheStatus = {
      state: current === undefined ? 'missing' : this.staleReason(current) ? 'stale' : 'fresh',
      revokedCount: current?.revokedCount ?? 0,
    };
    if (current !== undefined) {
      status.source = current.source;
      status.crlNumber = current.crlNumber.toString();
      status.thisUpdate = current.thisUpdate;
      status.nextUpdate = current.nextUpdate;
    }
    if (this.distributionPoint !== undefined) status.distributionPoint = this.distributionPoint;
    if (this.lastRefresh !== undefined) status.lastRefresh = structuredClone(this.lastRefresh);
    if (this.builtinError !== undefined) status.builtinError = { ...this.builtinError };
    return status;
  }

  /**
   * Revocation check of a card certificate already verified against the CA. Throws E_PKI_REVOKED
   * (details: serial, serialHex, revokedAt) if it is on the CRL; E_CRL_STALE if the CRL is stale or
   * missing under the 'refuse' policy (under 'warn' the result carries a warning instead);
   * E_PKI_SIGNATURE if the certificate names another CA, whose revocations this CRL does not cover.
   */
  checkCertificate(cert: ParsedCertificate): { revoked: false; warning?: string } {
    const serial = cert.serial.toString();
    if (
      cert.issuerName !== this.ca.subjectName ||
      (cert.authorityKeyId !== undefined && !equalBytes(cert.authorityKeyId, this.caKeyId))
    ) {
      throw new TerminalError(
        'E_PKI_SIGNATURE',
        'the certificate was not issued by this terminal’s CA; its CRL does not cover it',
        { serial, issuer: cert.issuerName, expectedIssuer: this.ca.subjectName },
      );
    }
    const current = this.current;
    if (current === undefined) {
      const message = 'no CRL available: card revocation cannot be checked';
      if (this.policy === 'refuse') {
        throw new TerminalError('E_CRL_STALE', message, { serial, issuerKeyId: this.issuerKeyId });
      }
      return { revoked: false, warning: message };
    }
    const serialHex = cert.serial.toString(16).toUpperCase();
    const hit = this.store.isRevoked(this.issuerKeyId, serialHex);
    if (hit !== undefined) {
      throw new TerminalError(
        'E_PKI_REVOKED',
        `certificate serial ${serial} is revoked since ${hit.revokedAt}`,
        {
          serial,
          serialHex,
          revokedAt: hit.revokedAt,
          crlNumber: current.crlNumber.toString(),
        },
      );
    }
    const stale = this.staleReason(current);
    if (stale !== undefined) {
      if (this.policy === 'refuse') {
        throw new TerminalError('E_CRL_STALE', stale, {
          serial,
          crlNumber: current.crlNumber.toString(),
          thisUpdate: current.thisUpdate,
          nextUpdate: current.nextUpdate,
        });
      }
      return { revoked: false, warning: `${stale}; revocation checked against it anyway` };
    }
    return { revoked: false };
  }

  /**
   * Fetches the CRL from the distribution point (conditional on the stored ETag / Last-Modified) and
   * imports it. Rejects only with E_INPUT_INVALID when no distribution point is configured; every
   * other failure is recorded in status().lastRefresh and the last good CRL is kept.
   */
  refresh(): Promise<CrlCacheStatus> {
    if (this.distributionPoint === undefined) {
      return Promise.reject(new TerminalError('E_INPUT_INVALID', 'no CRL distribution point is configured'));
    }
    if (this.inFlight === undefined) {
      const url = this.distributionPoint;
      this.inFlight = this.fetchAndImport(url).finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  // ---- internals ----

  private installBuiltin(der: Uint8Array): void {
    try {
      const crl = this.verify(parseCrl(der));
      // A software update may ship a newer CRL than the stored one; an older one is simply not used.
      if (this.current !== undefined && crl.crlNumber <= this.current.crlNumber) return;
      this.storeVerified(crl, 'builtin', {});
    } catch (e) {
      this.builtinError = errorInfo(e);
    }
  }

  /** Issuer, AKI, signature and the profile the store needs; returns the CRL narrowed. */
  private verify(crl: ParsedCrl): ParsedCrl & { crlNumber: bigint; nextUpdate: Date } {
    if (crl.issuerName !== this.ca.subjectName) {
      throw new TerminalError('E_PKI_SIGNATURE', 'the CRL was issued by another CA', {
        issuer: crl.issuerName,
        expectedIssuer: this.ca.subjectName,
      });
    }
    if (crl.authorityKeyId !== undefined && !equalBytes(crl.authorityKeyId, this.caKeyId)) {
      throw new TerminalError('E_PKI_SIGNATURE', 'the CRL names another CA key (authority key identifier)', {
        authorityKeyId: toHex(crl.authorityKeyId),
        expectedKeyId: this.issuerKeyId,
      });
    }
    if (!verifyCrlSignature(crl, this.ca.publicKey)) {
      throw new TerminalError('E_PKI_SIGNATURE', 'the CRL signature does not verify against the CA key', {
        issuer: crl.issuerName,
      });
    }
    const { crlNumber, nextUpdate } = crl;
    if (crlNumber === undefined) {
      throw new TerminalError('E_PKI_UNSUPPORTED', 'the CRL has no cRLNumber: it cannot be ordered');
    }
    if (nextUpdate === undefined) {
      throw new TerminalError('E_PKI_UNSUPPORTED', 'the CRL has no nextUpdate: its freshness is unknown');
    }
    return Object.assign(crl, { crlNumber, nextUpdate });
  }

  private storeVerified(
    crl: ParsedCrl & { crlNumber: bigint; nextUpdate: Date },
    source: CrlSource,
    meta: { etag?: string; lastModified?: string },
  ): void {
    const current = this.current;
    if (current !== undefined && crl.crlNumber < current.crlNumber) {
      // The store refuses this too; saying it here names the attack (a replayed CRL could un-revoke).
      throw new TerminalError(
        'E_INPUT_INVALID',
        `CRL number ${crl.crlNumber} is older than the stored CRL number ${current.crlNumber}; not rolling back`,
        { crlNumber: crl.crlNumber.toString(), storedCrlNumber: current.crlNumber.toString() },
      );
    }
    const stored = this.store.storeCrl({
      issuerKeyId: this.issuerKeyId,
      crlNumber: crl.crlNumber,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      der: crl.der,
      etag: meta.etag,
      lastModified: meta.lastModified,
      source,
      revoked: crl.revoked.map((entry) => ({
        serialHex: entry.serial.toString(16),
        revokedAt: entry.revokedAt,
      })),
    });
    this.current = headerOf(stored);
  }

  /** Why the CRL may not be relied on at now(), or undefined if it is fresh. */
  private staleReason(current: CurrentCrl): string | undefined {
    const now = this.now().getTime();
    if (now >= Date.parse(current.nextUpdate)) {
      return `the CRL (number ${current.crlNumber}) is past its nextUpdate ${current.nextUpdate}`;
    }
    if (Date.parse(current.thisUpdate) > now + this.clockSkewMs) {
      return `the CRL (number ${current.crlNumber}) has thisUpdate ${current.thisUpdate} in the future: check the terminal clock`;
    }
    return undefined;
  }

  private async fetchAndImport(url: string): Promise<CrlCacheStatus> {
    let outcome: Omit<CrlRefreshOutcome, 'at'>;
    try {
      outcome = await this.fetchOnce(url);
    } catch (e) {
      outcome = { ok: false, error: errorInfo(e) };
    }
    this.lastRefresh = { at: this.now().toISOString(), ...outcome };
    return this.status();
  }

  private async fetchOnce(url: string): Promise<Omit<CrlRefreshOutcome, 'at'>> {
    const current = this.current;
    const download = await downloadCrl(url, {
      fetchImpl: this.fetchImpl,
      timeoutMs: this.fetchTimeoutMs,
      maxBytes: this.maxCrlBytes,
      stored: current && { etag: current.etag, lastModified: current.lastModified },
    });
    if (download.notModified) return { ok: true, notModified: true };
    this.importDer(decodeCrlBytes(download.bytes), 'http', download);
    return { ok: true };
  }
}

// ---- helpers ----

/** The stored CRL without its DER (which may be tens of MB) and what the cache does not use. */
function headerOf(stored: StoredCrl): CurrentCrl {
  const { der: _der, importedAt: _importedAt, issuerKeyId: _issuerKeyId, ...header } = stored;
  return header;
}

function errorInfo(e: unknown): CrlErrorInfo {
  const { code, message } = toTerminalError(e);
  return { code, message };
}

function checkUrl(value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    invalid(`distributionPoint ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    invalid(`distributionPoint must be an http: or https: URL, got ${url.protocol}`);
  }
  return url.href;
}

function positive(value: number | undefined, fallback: number, what: string, zeroOk = false): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && !zeroOk)) {
    invalid(`${what} must be a ${zeroOk ? 'non-negative' : 'positive'} integer, got ${value}`);
  }
  return value;
}

function invalid(message: string): never {
  throw new TerminalError('E_INPUT_INVALID', message);
}
