// Storage for CRLs and their revoked serials (schema: db/migrations/002-crl-cache.ts).
// Callers verify the CRL signature and freshness; this module only keeps the newest CRL per issuer
// and answers "is this serial on it".
//
// Hex is normalised to the project's uppercase form (protocol/bytes.ts toHex). Serials are compared
// as unsigned integers: leading zero digits are dropped and the result left-padded to whole bytes,
// so the DER-padded "00A1" and a bigint's "a1" name the same serial.

import type Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';
import type { DatabaseOwner } from './connection.js';
import { withDbErrors } from './db-errors.js';
import { statementCache } from './statement-cache.js';

/** A point in time: a Date, or an ISO 8601 instant (stored normalised, so that they compare as text). */
export type Instant = Date | string;

/** One revoked certificate: its serial in hex (any case, leading zeros allowed) and when it was revoked. */
export interface RevokedSerial {
  readonly serialHex: string;
  readonly revokedAt: Instant;
}

/** A CRL to store, already verified by the caller (the CRL cache): its header, DER and revoked serials. */
export interface CrlInput {
  readonly issuerKeyId: string;
  readonly crlNumber: bigint | number;
  readonly thisUpdate: Instant;
  readonly nextUpdate: Instant;
  readonly der: Uint8Array;
  readonly etag?: string;
  readonly lastModified?: string;
  readonly source: string;
  readonly revoked: readonly RevokedSerial[];
}

/** The CRL stored for an issuer key: its header and DER, without the serials (isRevoked() reads those). */
export interface StoredCrl {
  readonly issuerKeyId: string;
  readonly crlNumber: bigint;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  readonly der: Uint8Array;
  readonly importedAt: string;
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
  readonly source: string;
  readonly revokedCount: number;
}

export interface CrlStoreOptions {
  readonly now?: () => Date;
}

// RFC 5280 allows CRL numbers up to 20 octets; SQLite INTEGER holds 63 bits, which any sane
// monotonic counter stays within. Larger values are refused rather than silently truncated.
const MAX_CRL_NUMBER = (1n << 63n) - 1n;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

// Rows per multi-row INSERT (3 variables each, far below SQLite's 32766-variable limit).
const INSERT_BATCH = 256;

/** Exported so test/db can EXPLAIN the exact statements. */
export const CRL_SQL = {
  current: 'SELECT * FROM crl WHERE issuer_key_id = ?',
  isRevoked: `SELECT r.revoked_at FROM crl AS c
              JOIN crl_revoked AS r ON r.crl_id = c.id AND r.serial_hex = ?
              WHERE c.issuer_key_id = ?`,
  deleteRevoked: 'DELETE FROM crl_revoked WHERE crl_id = ?',
  deleteCrl: 'DELETE FROM crl WHERE id = ?',
  insertCrl: `INSERT INTO crl (issuer_key_id, crl_number, this_update, next_update, der, imported_at, etag,
                               last_modified, source, revoked_count)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  insertRevoked: 'INSERT INTO crl_revoked (crl_id, serial_hex, revoked_at) VALUES (?, ?, ?)',
  insertRevokedBatch: `INSERT INTO crl_revoked (crl_id, serial_hex, revoked_at) VALUES ${Array(INSERT_BATCH).fill('(?, ?, ?)').join(', ')}`,
  refresh: 'UPDATE crl SET imported_at = ?, etag = ?, last_modified = ?, source = ? WHERE id = ?',
} as const;

interface CrlRow {
  id: bigint;
  issuer_key_id: string;
  crl_number: bigint;
  this_update: string;
  next_update: string;
  der: Buffer;
  imported_at: string;
  etag: string | null;
  last_modified: string | null;
  source: string;
  revoked_count: bigint;
}

/** The newest verified CRL per CA key and its revoked serials, indexed for one lookup per card. */
export class CrlStore {
  private readonly db: Database.Database;
  private readonly now: () => Date;

  private readonly sql: (text: string) => Database.Statement;

  constructor(owner: DatabaseOwner, opts: CrlStoreOptions = {}) {
    this.db = owner.handle;
    this.now = opts.now ?? (() => new Date());
    this.sql = statementCache(this.db);
  }

  /**
   * One transaction: replaces the issuer's current CRL and all its serials. An older crlNumber is
   * refused (a replayed CRL could un-revoke a card); the same number with the same DER only refreshes
   * the fetch metadata (etag, last-modified, source, imported_at); the same number with different DER
   * is refused.
   */
  storeCrl(input: CrlInput): StoredCrl {
    const issuerKeyId = normaliseKeyId(input.issuerKeyId);
    const crlNumber = checkCrlNumber(input.crlNumber);
    const thisUpdate = toIso(input.thisUpdate, 'thisUpdate');
    const nextUpdate = toIso(input.nextUpdate, 'nextUpdate');
    if (nextUpdate < thisUpdate) invalid('nextUpdate is before thisUpdate');
    if (!(input.der instanceof Uint8Array) || input.der.length === 0) invalid('der must be non-empty bytes');
    if (typeof input.source !== 'string' || input.source === '') invalid('source must be a non-empty string');
    const der = Buffer.from(input.der.buffer, input.der.byteOffset, input.der.byteLength);
    const revoked = normaliseRevoked(input.revoked);
    const importedAt = this.now().toISOString();
    const etag = input.etag ?? null;
    const lastModified = input.lastModified ?? null;

    const store = this.db.transaction(() => {
      const current = this.currentRow(issuerKeyId);
      if (current !== undefined) {
        if (crlNumber < current.crl_number) {
          invalid(
            `CRL number ${crlNumber} is older than the stored ${current.crl_number} for issuer ${issuerKeyId}`,
          );
        }
        if (crlNumber === current.crl_number) {
          if (!der.equals(current.der)) {
            invalid(
              `CRL number ${crlNumber} is already stored for issuer ${issuerKeyId} with different content`,
            );
          }
          this.db.prepare(CRL_SQL.refresh).run(importedAt, etag, lastModified, input.source, current.id);
          return;
        }
        this.db.prepare(CRL_SQL.deleteRevoked).run(current.id);
        this.db.prepare(CRL_SQL.deleteCrl).run(current.id);
      }
      const { lastInsertRowid: crlId } = this.db
        .prepare(CRL_SQL.insertCrl)
        .run(
          issuerKeyId,
          crlNumber,
          thisUpdate,
          nextUpdate,
          der,
          importedAt,
          etag,
          lastModified,
          input.source,
          revoked.length,
        );
      this.insertRevoked(crlId, revoked);
    });
    withDbErrors('CRL store', () => store.immediate());
    return this.currentCrl(issuerKeyId)!;
  }

  /** The CRL stored for this CA key (hex key identifier), or undefined if none is. */
  currentCrl(issuerKeyId: string): StoredCrl | undefined {
    const row = this.currentRow(normaliseKeyId(issuerKeyId));
    return row === undefined ? undefined : toStored(row);
  }

  /**
   * undefined means "not on the current CRL", which includes "no CRL stored for this issuer":
   * callers check currentCrl() (presence, nextUpdate) before trusting a negative answer.
   */
  isRevoked(issuerKeyId: string, serialHex: string): { revokedAt: string } | undefined {
    const row = this.sql(CRL_SQL.isRevoked).get(normaliseSerial(serialHex), normaliseKeyId(issuerKeyId)) as
      | { revoked_at: string }
      | undefined;
    return row === undefined ? undefined : { revokedAt: row.revoked_at };
  }

  /**
   * Multi-row INSERTs through two prepared statements: per-call overhead, not SQLite, dominates a
   * row-at-a-time loop, and batching roughly halves the time for a million serials.
   */
  private insertRevoked(
    crlId: number | bigint,
    revoked: readonly { serialHex: string; revokedAt: string }[],
  ): void {
    const batch = this.db.prepare(CRL_SQL.insertRevokedBatch);
    const params: unknown[] = new Array(INSERT_BATCH * 3);
    let i = 0;
    for (; i + INSERT_BATCH <= revoked.length; i += INSERT_BATCH) {
      for (let j = 0; j < INSERT_BATCH; j++) {
        const r = revoked[i + j]!;
        params[j * 3] = crlId;
        params[j * 3 + 1] = r.serialHex;
        params[j * 3 + 2] = r.revokedAt;
      }
      batch.run(params);
    }
    const single = this.db.prepare(CRL_SQL.insertRevoked);
    for (; i < revoked.length; i++) single.run(crlId, revoked[i]!.serialHex, revoked[i]!.revokedAt);
  }

  private currentRow(issuerKeyId: string): CrlRow | undefined {
    return this.db.prepare(CRL_SQL.current).safeIntegers(true).get(issuerKeyId) as CrlRow | undefined;
  }
}

/**
 * Sorted by serial so the inserts append to the primary-key B-tree instead of splitting pages all
 * over it (several times faster for a million rows); duplicates keep the earliest revocation date.
 */
function normaliseRevoked(list: readonly RevokedSerial[]): { serialHex: string; revokedAt: string }[] {
  if (!Array.isArray(list)) invalid('revoked must be an array');
  const out = list.map((r, i) => ({
    serialHex: normaliseSerial(r.serialHex, i),
    revokedAt: toIso(r.revokedAt, `revoked[${i}].revokedAt`),
  }));
  out.sort((a, b) => (a.serialHex < b.serialHex ? -1 : a.serialHex > b.serialHex ? 1 : 0));
  let kept = 0;
  for (const r of out) {
    const prev = out[kept - 1];
    if (prev !== undefined && prev.serialHex === r.serialHex) {
      if (r.revokedAt < prev.revokedAt) prev.revokedAt = r.revokedAt;
    } else {
      out[kept++] = r;
    }
  }
  out.length = kept;
  return out;
}

/**
 * A certificate serial as the store keys it: uppercase hex of whole bytes, without leading zero bytes;
 * E_INPUT_INVALID if it is not hex.
 */
export function normaliseSerial(serialHex: string, index?: number): string {
  if (typeof serialHex !== 'string' || !/^[0-9A-Fa-f]{1,128}$/.test(serialHex)) {
    invalid(
      `serial ${index === undefined ? '' : `revoked[${index}] `}${JSON.stringify(serialHex)} is not hex`,
    );
  }
  const digits = serialHex.replace(/^0+/, '').toUpperCase();
  return digits.length % 2 === 0 ? (digits === '' ? '00' : digits) : `0${digits}`;
}

function normaliseKeyId(keyId: string): string {
  if (typeof keyId !== 'string' || !/^(?:[0-9A-Fa-f]{2}){1,64}$/.test(keyId)) {
    invalid(`issuer key id ${JSON.stringify(keyId)} is not hex`);
  }
  return keyId.toUpperCase();
}

function checkCrlNumber(n: bigint | number): bigint {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) invalid(`CRL number ${n} is not a safe integer`);
  if (typeof n !== 'number' && typeof n !== 'bigint') invalid('CRL number must be a bigint or number');
  const value = BigInt(n);
  if (value < 0n || value > MAX_CRL_NUMBER) invalid(`CRL number ${value} is outside 0..2^63-1`);
  return value;
}

/** Normalised to Date.toISOString() form so stored instants compare correctly as text. */
function toIso(value: Instant, field: string): string {
  const date = typeof value === 'string' && ISO_INSTANT.test(value) ? new Date(value) : value;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    invalid(`${field} must be a Date or an ISO-8601 instant with a zone, got ${JSON.stringify(value)}`);
  }
  return date.toISOString();
}

function toStored(row: CrlRow): StoredCrl {
  return {
    issuerKeyId: row.issuer_key_id,
    crlNumber: row.crl_number,
    thisUpdate: row.this_update,
    nextUpdate: row.next_update,
    der: new Uint8Array(row.der.buffer, row.der.byteOffset, row.der.byteLength),
    importedAt: row.imported_at,
    etag: row.etag ?? undefined,
    lastModified: row.last_modified ?? undefined,
    source: row.source,
    revokedCount: Number(row.revoked_count),
  };
}

function invalid(message: string): never {
  throw new TerminalError('E_INPUT_INVALID', message);
}
