// Bearer tokens of the issuer's staff (table staff_tokens). A token is 32 random bytes, shown once
// when created; the host stores only its SHA-256 (a random 256-bit secret needs no slow hash: there
// is nothing to guess). Each token has one role, an optional expiry, and can be revoked for good.
// Tokens are created and revoked by the host command line (`npm run host -- token-create`), which
// works on the database directly: that is how the first token comes to exist.
import { ascii, toHex } from '../../protocol/bytes.js';
import { randomBytes, sha256Digest } from '../../protocol/crypto-suite.js';
import { TerminalError } from '../../protocol/errors.js';
import { appendAuditEvent } from './audit-log.js';
import type { HostDatabase, Sql } from './host-database.js';

export const STAFF_ROLES = ['issuer-admin', 'crl-publisher', 'auditor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

const TOKEN_PREFIX = 'stlh_';
/** `stlh_` and 43 base64url characters (32 bytes). */
export const STAFF_TOKEN_PATTERN = /^stlh_[A-Za-z0-9_-]{43}$/;

export interface StaffTokenRecord {
  tokenId: string;
  role: StaffRole;
  label: string;
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
}

interface TokenRow {
  token_id: string;
  role: StaffRole;
  label: string;
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const COLUMNS = 'token_id, role, label, created_at, created_by, expires_at, revoked_at, revoked_by';

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === 'string' && (STAFF_ROLES as readonly string[]).includes(value);
}

/** SHA-256 of the token's text: the only form the host stores. */
export function staffTokenHash(token: string): Uint8Array {
  return sha256Digest(ascii(token));
}

export class StaffTokens {
  constructor(private readonly db: HostDatabase) {}

  /** Creates a token; the returned `token` is the only time the secret exists outside its holder. */
  async create(input: {
    role: StaffRole;
    label: string;
    actor: string;
    expiresAt?: Date;
  }): Promise<StaffTokenRecord & { token: string }> {
    if (!isStaffRole(input.role)) {
      throw new TerminalError('E_INPUT_INVALID', `a staff role is one of ${STAFF_ROLES.join(', ')}`);
    }
    if (typeof input.label !== 'string' || input.label.length < 1 || input.label.length > 200) {
      throw new TerminalError('E_INPUT_INVALID', 'a token label is 1 to 200 characters');
    }
    if (input.expiresAt !== undefined && !(input.expiresAt.getTime() > Date.now())) {
      throw new TerminalError('E_INPUT_INVALID', 'a token’s expiry must be in the future');
    }
    const token = TOKEN_PREFIX + Buffer.from(randomBytes(32)).toString('base64url');
    const tokenId = `tok-${toHex(randomBytes(6)).toLowerCase()}`;
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<TokenRow>(
        `INSERT INTO staff_tokens (token_id, token_hash, role, label, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [tokenId, staffTokenHash(token), input.role, input.label, input.actor, input.expiresAt ?? null],
      );
      await appendAuditEvent(tx, {
        kind: 'token.created',
        severity: 'info',
        actor: input.actor,
        subject: tokenId,
        detail: { role: input.role, label: input.label },
      });
      return { ...tokenOf(row!), token };
    });
  }

  /** The token's record, whatever its state (the caller decides about revoked or expired ones). */
  async findByToken(token: string): Promise<StaffTokenRecord | undefined> {
    if (!STAFF_TOKEN_PATTERN.test(token)) return undefined;
    const [row] = await this.db.query<TokenRow>(`SELECT ${COLUMNS} FROM staff_tokens WHERE token_hash = $1`, [
      staffTokenHash(token),
    ]);
    return row ? tokenOf(row) : undefined;
  }

  async revoke(input: { tokenId: string; actor: string }): Promise<StaffTokenRecord> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<TokenRow>(
        `UPDATE staff_tokens SET revoked_at = now(), revoked_by = $2
          WHERE token_id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
        [input.tokenId, input.actor],
      );
      if (!row) {
        const [existing] = await tx.query('SELECT 1 FROM staff_tokens WHERE token_id = $1', [input.tokenId]);
        if (!existing) throw new TerminalError('E_NOT_FOUND', `there is no staff token ${input.tokenId}`);
        throw new TerminalError('E_CONFLICT', `staff token ${input.tokenId} is already revoked`);
      }
      await appendAuditEvent(tx, {
        kind: 'token.revoked',
        severity: 'info',
        actor: input.actor,
        subject: input.tokenId,
      });
      return tokenOf(row);
    });
  }

  async list(sql: Sql = this.db): Promise<StaffTokenRecord[]> {
    const rows = await sql.query<TokenRow>(
      `SELECT ${COLUMNS} FROM staff_tokens ORDER BY created_at, token_id`,
    );
    return rows.map(tokenOf);
  }
}

function tokenOf(row: TokenRow): StaffTokenRecord {
  return {
    tokenId: row.token_id,
    role: row.role,
    label: row.label,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
  };
}
