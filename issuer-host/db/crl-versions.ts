// Every CRL the host has published, per CA key (table crl_versions, append-only). The current CRL of
// a CA is the one with the highest cRLNumber; the table refuses a number that is not above it
// (trigger, under a per-CA lock), so two host instances publishing at once cannot roll it back.
// Callers verify the CRL (signature, issuer) before publishing; this module stores and reads.
import { TerminalError } from '../../protocol/errors.js';
import { appendAuditEvent } from './audit-log.js';
import { HOST_SQLSTATE, type HostDatabase, sqlstateOf } from './host-database.js';

export interface CrlVersionInput {
  /** Uppercase hex key identifier of the CA that signed the CRL. */
  issuerKeyId: string;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  revokedCount: number;
  der: Uint8Array;
  actor: string;
}

/** A stored CRL without its DER (which may be tens of megabytes). */
export interface CrlVersionHeader {
  issuerKeyId: string;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  revokedCount: number;
  /** SHA-256 of the DER, computed by the database. */
  derSha256: Uint8Array;
  size: number;
  publishedAt: Date;
  publishedBy: string;
}

interface HeaderRow {
  issuer_key_id: string;
  crl_number: string;
  this_update: Date;
  next_update: Date;
  revoked_count: number;
  der_sha256: Uint8Array;
  size: number;
  published_at: Date;
  published_by: string;
}

const HEADER_COLUMNS = `issuer_key_id, crl_number::text AS crl_number, this_update, next_update, revoked_count,
  der_sha256, octet_length(der) AS size, published_at, published_by`;

export class CrlVersions {
  constructor(private readonly db: HostDatabase) {}

  /** Stores a verified CRL; E_CRL_NOT_NEWER (nothing stored) unless its number is above the current. */
  async publish(input: CrlVersionInput): Promise<CrlVersionHeader> {
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = await tx.query<HeaderRow>(
          `INSERT INTO crl_versions
             (issuer_key_id, crl_number, this_update, next_update, revoked_count, der, published_by)
           VALUES ($1, $2::numeric, $3, $4, $5, $6, $7) RETURNING ${HEADER_COLUMNS}`,
          [
            input.issuerKeyId,
            input.crlNumber.toString(),
            input.thisUpdate,
            input.nextUpdate,
            input.revokedCount,
            input.der,
            input.actor,
          ],
        );
        await appendAuditEvent(tx, {
          kind: 'crl.published',
          severity: 'info',
          actor: input.actor,
          subject: input.crlNumber.toString(),
          detail: { issuerKeyId: input.issuerKeyId, revokedCount: input.revokedCount },
        });
        return headerOf(row!);
      });
    } catch (e) {
      const state = sqlstateOf(e);
      if (state === HOST_SQLSTATE.crlNotNewer || state === HOST_SQLSTATE.uniqueViolation) {
        const current = await this.current(input.issuerKeyId);
        throw new TerminalError(
          'E_CRL_NOT_NEWER',
          `CRL number ${input.crlNumber} is not above the current CRL number ${current?.crlNumber ?? '(none)'}; nothing stored`,
          { crlNumber: input.crlNumber.toString(), currentCrlNumber: current?.crlNumber.toString() },
        );
      }
      throw e;
    }
  }

  async current(issuerKeyId: string): Promise<CrlVersionHeader | undefined> {
    const [row] = await this.db.query<HeaderRow>(
      `SELECT ${HEADER_COLUMNS} FROM crl_versions WHERE issuer_key_id = $1
        ORDER BY crl_number DESC LIMIT 1`,
      [issuerKeyId],
    );
    return row ? headerOf(row) : undefined;
  }

  async der(issuerKeyId: string, crlNumber: bigint): Promise<Uint8Array | undefined> {
    const [row] = await this.db.query<{ der: Uint8Array }>(
      'SELECT der FROM crl_versions WHERE issuer_key_id = $1 AND crl_number = $2::numeric',
      [issuerKeyId, crlNumber.toString()],
    );
    return row?.der;
  }

  /** Newest first. */
  async history(issuerKeyId: string, limit = 50): Promise<CrlVersionHeader[]> {
    const rows = await this.db.query<HeaderRow>(
      `SELECT ${HEADER_COLUMNS} FROM crl_versions WHERE issuer_key_id = $1
        ORDER BY crl_number DESC LIMIT $2`,
      [issuerKeyId, limit],
    );
    return rows.map(headerOf);
  }
}

function headerOf(row: HeaderRow): CrlVersionHeader {
  return {
    issuerKeyId: row.issuer_key_id,
    crlNumber: BigInt(row.crl_number),
    thisUpdate: row.this_update,
    nextUpdate: row.next_update,
    revokedCount: row.revoked_count,
    derSha256: row.der_sha256,
    size: Number(row.size),
    publishedAt: row.published_at,
    publishedBy: row.published_by,
  };
}
