// Shops and the terminals registered at the host with their request-signing keys (tables shops,
// terminals). Registration and revocation are staff actions: each is recorded in the audit log in
// the same transaction. A revoked terminal stays in the table (its past signatures remain
// attributable) and cannot be made active again; a new key means a new terminal ID.
import { toHex } from '../../protocol/bytes.js';
import { isValidP256PublicKey, P256_PUBLIC_KEY_LENGTH } from '../../protocol/crypto-suite.js';
import { TerminalError } from '../../protocol/errors.js';
import { appendAuditEvent } from './audit-log.js';
import { HOST_SQLSTATE, type HostDatabase, sqlstateOf } from './host-database.js';

/** Shop and terminal IDs: what the tables' CHECK constraints accept. */
export const ENTITY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type TerminalStatus = 'active' | 'revoked';

export interface ShopRecord {
  shopId: string;
  name: string;
  createdAt: Date;
  createdBy: string;
}

export interface TerminalRecord {
  terminalId: string;
  shopId: string;
  /** 65-byte uncompressed P-256 point. */
  publicKey: Uint8Array;
  status: TerminalStatus;
  registeredAt: Date;
  registeredBy: string;
  revokedAt: Date | null;
  revokedBy: string | null;
}

interface TerminalRow {
  terminal_id: string;
  shop_id: string;
  public_key: Uint8Array;
  status: TerminalStatus;
  registered_at: Date;
  registered_by: string;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const TERMINAL_COLUMNS =
  'terminal_id, shop_id, public_key, status, registered_at, registered_by, revoked_at, revoked_by';

export class TerminalRegistry {
  constructor(private readonly db: HostDatabase) {}

  async createShop(input: { shopId: string; name: string; actor: string }): Promise<ShopRecord> {
    checkId(input.shopId, 'shop ID');
    if (typeof input.name !== 'string' || input.name.length < 1 || input.name.length > 200) {
      throw new TerminalError('E_INPUT_INVALID', 'a shop name is 1 to 200 characters');
    }
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = await tx.query<{ shop_id: string; name: string; created_at: Date; created_by: string }>(
          `INSERT INTO shops (shop_id, name, created_by) VALUES ($1, $2, $3)
           RETURNING shop_id, name, created_at, created_by`,
          [input.shopId, input.name, input.actor],
        );
        await appendAuditEvent(tx, {
          kind: 'shop.created',
          severity: 'info',
          actor: input.actor,
          subject: input.shopId,
          detail: { name: input.name },
        });
        return {
          shopId: row!.shop_id,
          name: row!.name,
          createdAt: row!.created_at,
          createdBy: row!.created_by,
        };
      });
    } catch (e) {
      if (sqlstateOf(e) === HOST_SQLSTATE.uniqueViolation) {
        throw new TerminalError('E_CONFLICT', `shop ${input.shopId} already exists`, {
          shopId: input.shopId,
        });
      }
      throw e;
    }
  }

  async listShops(): Promise<ShopRecord[]> {
    const rows = await this.db.query<{ shop_id: string; name: string; created_at: Date; created_by: string }>(
      'SELECT shop_id, name, created_at, created_by FROM shops ORDER BY shop_id',
    );
    return rows.map((r) => ({
      shopId: r.shop_id,
      name: r.name,
      createdAt: r.created_at,
      createdBy: r.created_by,
    }));
  }

  async register(input: {
    terminalId: string;
    shopId: string;
    publicKey: Uint8Array;
    actor: string;
  }): Promise<TerminalRecord> {
    checkId(input.terminalId, 'terminal ID');
    checkId(input.shopId, 'shop ID');
    const key = input.publicKey;
    if (!(key instanceof Uint8Array) || key.length !== P256_PUBLIC_KEY_LENGTH || key[0] !== 4) {
      throw new TerminalError('E_INPUT_INVALID', 'a terminal key is a 65-byte uncompressed P-256 point');
    }
    if (!isValidP256PublicKey(key)) {
      throw new TerminalError('E_INPUT_INVALID', 'the terminal key is not a point on P-256');
    }
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = await tx.query<TerminalRow>(
          `INSERT INTO terminals (terminal_id, shop_id, public_key, registered_by) VALUES ($1, $2, $3, $4)
           RETURNING ${TERMINAL_COLUMNS}`,
          [input.terminalId, input.shopId, key, input.actor],
        );
        await appendAuditEvent(tx, {
          kind: 'terminal.registered',
          severity: 'info',
          actor: input.actor,
          subject: input.terminalId,
          detail: { shopId: input.shopId, publicKey: toHex(key) },
        });
        return terminalOf(row!);
      });
    } catch (e) {
      const state = sqlstateOf(e);
      if (state === HOST_SQLSTATE.uniqueViolation) {
        throw new TerminalError(
          'E_CONFLICT',
          `terminal ${input.terminalId} is already registered, or its key belongs to another terminal`,
          { terminalId: input.terminalId },
        );
      }
      if (state === HOST_SQLSTATE.foreignKeyViolation) {
        throw new TerminalError('E_NOT_FOUND', `there is no shop ${input.shopId}`, { shopId: input.shopId });
      }
      throw e;
    }
  }

  /** Revokes the terminal's key for good; E_NOT_FOUND if unknown, E_CONFLICT if already revoked. */
  async revoke(input: { terminalId: string; actor: string; reason?: string }): Promise<TerminalRecord> {
    checkId(input.terminalId, 'terminal ID');
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<TerminalRow>(
        `UPDATE terminals SET status = 'revoked', revoked_at = now(), revoked_by = $2
          WHERE terminal_id = $1 AND status = 'active' RETURNING ${TERMINAL_COLUMNS}`,
        [input.terminalId, input.actor],
      );
      if (!row) {
        const existing = await this.find(input.terminalId, tx);
        if (!existing) {
          throw new TerminalError('E_NOT_FOUND', `there is no terminal ${input.terminalId}`, {
            terminalId: input.terminalId,
          });
        }
        throw new TerminalError('E_CONFLICT', `terminal ${input.terminalId} is already revoked`, {
          terminalId: input.terminalId,
        });
      }
      await appendAuditEvent(tx, {
        kind: 'terminal.revoked',
        severity: 'info',
        actor: input.actor,
        subject: input.terminalId,
        detail: input.reason ? { reason: input.reason } : {},
      });
      return terminalOf(row);
    });
  }

  async find(
    terminalId: string,
    sql: Pick<HostDatabase, 'query'> = this.db,
  ): Promise<TerminalRecord | undefined> {
    if (!ENTITY_ID_PATTERN.test(terminalId)) return undefined;
    const [row] = await sql.query<TerminalRow>(
      `SELECT ${TERMINAL_COLUMNS} FROM terminals WHERE terminal_id = $1`,
      [terminalId],
    );
    return row ? terminalOf(row) : undefined;
  }

  async list(options: { shopId?: string } = {}): Promise<TerminalRecord[]> {
    const rows = await this.db.query<TerminalRow>(
      `SELECT ${TERMINAL_COLUMNS} FROM terminals WHERE ($1::text IS NULL OR shop_id = $1) ORDER BY terminal_id`,
      [options.shopId ?? null],
    );
    return rows.map(terminalOf);
  }
}

function terminalOf(row: TerminalRow): TerminalRecord {
  return {
    terminalId: row.terminal_id,
    shopId: row.shop_id,
    publicKey: row.public_key,
    status: row.status,
    registeredAt: row.registered_at,
    registeredBy: row.registered_by,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
  };
}

function checkId(id: unknown, what: string): void {
  if (typeof id !== 'string' || !ENTITY_ID_PATTERN.test(id)) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `a ${what} is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
}
