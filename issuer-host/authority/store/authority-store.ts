// Rows of the command-generating authority's database (schema: store/migrations). Plain data
// in, plain data out; the rules (eligibility, limits, signatures) live in the authority service.
import type Database from 'better-sqlite3';
import { withDbErrors } from '../../../db/db-errors.js';
import type { AuthorityDatabase } from './connection.js';

/** The one issuer an authority database serves, fixed at its first open. */
export interface AuthorityIdentityRow {
  issuerId: string;
  authorityPublicKey: string;
  createdAt: string;
}

/**
 * An allow-list entry: a terminal that may register, its pinned key if any, and what its create
 * command allows.
 */
export interface AllowedServerRow {
  terminalId: string;
  /** Pinned server key (hex); undefined: the first registration binds the key. */
  publicKey: string | undefined;
  contentTypes: string[];
  maxIssuances: number | null;
  validitySeconds: number;
  addedAt: string;
}

/** A registered issuing server: its server information as it signed it (canonical JSON) and its key. */
export interface RegisteredServerRow {
  terminalId: string;
  name: string;
  /** Canonical JSON of the server information, as signed. */
  serverInfo: string;
  publicKey: string;
  registeredAt: string;
  updatedAt: string;
}

/** A create command issued to a server; superseded by the next registration that changes it. */
export interface CreateCommandRow {
  commandId: string;
  terminalId: string;
  serverPublicKey: string;
  issuerId: string;
  contentTypes: string[];
  maxIssuances: number | null;
  notAfter: number;
  createdAt: string;
  supersededAt: string | undefined;
}

/** One line of the authorizations log as written: the request's kind, its answer and what it named. */
export interface AuthorizationLogInput {
  kind: 'register' | 'authorize';
  result: 'ok' | 'reject';
  reason: string;
  message: string;
  terminalId?: string | undefined;
  commandId?: string | undefined;
  serverPublicKey?: string | undefined;
  cardHolderId?: string | undefined;
  itemId?: string | undefined;
  itemType?: string | undefined;
  itemIssuerId?: string | undefined;
  itemDigest?: string | undefined;
  nonce?: string | undefined;
  grantId?: string | undefined;
  rightNotAfter?: number | undefined;
}

/** A line of the authorizations log as read: with its ID and time. */
export interface AuthorizationLogEntry extends AuthorizationLogInput {
  id: number;
  at: string;
}

const LOG_COLUMNS = {
  terminalId: 'terminal_id',
  commandId: 'command_id',
  serverPublicKey: 'server_public_key',
  cardHolderId: 'card_holder_id',
  itemId: 'item_id',
  itemType: 'item_type',
  itemIssuerId: 'item_issuer_id',
  itemDigest: 'item_digest',
  nonce: 'nonce',
  grantId: 'grant_id',
  rightNotAfter: 'right_not_after',
} as const;

type Row = Record<string, string | number | null>;

/**
 * The authority database's rows over a borrowed connection. Writes that decide something run inside
 * transaction(), so a check and the write it allows see the same database.
 */
export class AuthorityStore {
  private readonly db: Database.Database;

  constructor(owner: Pick<AuthorityDatabase, 'handle'>) {
    this.db = owner.handle;
  }

  /** The row `sql` selects, mapped, or undefined when there is none. */
  private one<T>(map: (r: Row) => T, sql: string, ...params: unknown[]): T | undefined {
    const r = this.db.prepare(sql).get(...params) as Row | undefined;
    return r && map(r);
  }

  /** Every row `sql` selects, mapped, in its order. */
  private many<T>(map: (r: Row) => T, sql: string, ...params: unknown[]): T[] {
    return (this.db.prepare(sql).all(...params) as Row[]).map(map);
  }

  /** Runs `work` in one IMMEDIATE transaction: check-then-write decisions see a stable database. */
  transaction<T>(what: string, work: () => T): T {
    return withDbErrors(what, () => this.db.transaction(work).immediate());
  }

  /** The issuer this database serves, or undefined before its first open completed. */
  identity(): AuthorityIdentityRow | undefined {
    const r = this.db.prepare('SELECT * FROM authority_identity WHERE id = 1').get() as Row | undefined;
    return (
      r && {
        issuerId: str(r.issuer_id),
        authorityPublicKey: str(r.authority_public_key),
        createdAt: str(r.created_at),
      }
    );
  }

  /** Records the issuer at first open; the schema refuses to change it afterwards. */
  setIdentity(issuerId: string, authorityPublicKey: string, at: string): void {
    this.db
      .prepare(
        'INSERT INTO authority_identity (id, issuer_id, authority_public_key, created_at) VALUES (1, ?, ?, ?)',
      )
      .run(issuerId, authorityPublicKey, at);
  }

  /** Puts a terminal on the allow-list, or replaces its entry. */
  allow(row: AllowedServerRow): void {
    this.db
      .prepare(
        `INSERT INTO allowed_servers (terminal_id, public_key, content_types, max_issuances, validity_seconds, added_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (terminal_id) DO UPDATE SET public_key = excluded.public_key,
           content_types = excluded.content_types, max_issuances = excluded.max_issuances,
           validity_seconds = excluded.validity_seconds, added_at = excluded.added_at`,
      )
      .run(
        row.terminalId,
        row.publicKey ?? null,
        JSON.stringify(row.contentTypes),
        row.maxIssuances,
        row.validitySeconds,
        row.addedAt,
      );
  }

  /** Removes a terminal from the allow-list; false if it was not on it. */
  disallow(terminalId: string): boolean {
    return this.db.prepare('DELETE FROM allowed_servers WHERE terminal_id = ?').run(terminalId).changes > 0;
  }

  /** The allow-list entry of a terminal, if any. */
  allowed(terminalId: string): AllowedServerRow | undefined {
    return this.one(toAllowed, 'SELECT * FROM allowed_servers WHERE terminal_id = ?', terminalId);
  }

  /** The whole allow-list. */
  allowList(): AllowedServerRow[] {
    return this.many(toAllowed, 'SELECT * FROM allowed_servers ORDER BY terminal_id');
  }

  /** The registered server with this terminal ID, if any. */
  server(terminalId: string): RegisteredServerRow | undefined {
    return this.one(toServer, 'SELECT * FROM registered_servers WHERE terminal_id = ?', terminalId);
  }

  /** Every registered server. */
  servers(): RegisteredServerRow[] {
    return this.many(toServer, 'SELECT * FROM registered_servers ORDER BY terminal_id');
  }

  /** Registers a server, or updates its registration (the first registration time is kept). */
  saveServer(row: RegisteredServerRow): void {
    this.db
      .prepare(
        `INSERT INTO registered_servers (terminal_id, name, server_info, public_key, registered_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (terminal_id) DO UPDATE SET name = excluded.name, server_info = excluded.server_info,
           public_key = excluded.public_key, updated_at = excluded.updated_at`,
      )
      .run(row.terminalId, row.name, row.serverInfo, row.publicKey, row.registeredAt, row.updatedAt);
  }

  /** A create command by its ID, superseded or not. */
  command(commandId: string): CreateCommandRow | undefined {
    return this.one(toCommand, 'SELECT * FROM create_commands WHERE command_id = ?', commandId);
  }

  /** The server's current (not superseded) create command, if it has one. */
  currentCommand(terminalId: string): CreateCommandRow | undefined {
    return this.one(
      toCommand,
      'SELECT * FROM create_commands WHERE terminal_id = ? AND superseded_at IS NULL',
      terminalId,
    );
  }

  /** Marks a command superseded: no right is granted under it any more. */
  supersede(commandId: string, at: string): void {
    this.db.prepare('UPDATE create_commands SET superseded_at = ? WHERE command_id = ?').run(at, commandId);
  }

  /** Stores a new create command; the schema allows one current command per server. */
  insertCommand(row: CreateCommandRow): void {
    this.db
      .prepare(
        `INSERT INTO create_commands (command_id, terminal_id, server_public_key, issuer_id, content_types,
           max_issuances, not_after, created_at, superseded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
      )
      .run(
        row.commandId,
        row.terminalId,
        row.serverPublicKey,
        row.issuerId,
        JSON.stringify(row.contentTypes),
        row.maxIssuances,
        row.notAfter,
        row.createdAt,
      );
  }

  /** Create rights granted under a command so far (ok authorizations in the log). */
  grantedCount(commandId: string): number {
    return this.db
      .prepare(
        "SELECT count(*) FROM authorizations WHERE kind = 'authorize' AND result = 'ok' AND command_id = ?",
      )
      .pluck()
      .get(commandId) as number;
  }

  /** Whether a right was already granted under this command for this request nonce (a replay). */
  nonceGranted(commandId: string, nonce: string): boolean {
    return (
      this.db
        .prepare(
          "SELECT 1 FROM authorizations WHERE kind = 'authorize' AND result = 'ok' AND command_id = ? AND nonce = ?",
        )
        .get(commandId, nonce) !== undefined
    );
  }

  /** Appends a line to the authorizations log (append-only: the schema refuses UPDATE and DELETE); its ID. */
  appendLog(entry: AuthorizationLogInput, at: string): number {
    const fields = Object.entries(LOG_COLUMNS).filter(
      ([key]) => entry[key as keyof typeof LOG_COLUMNS] !== undefined,
    );
    const columns = ['at', 'kind', 'result', 'reason', 'message', ...fields.map(([, c]) => c)];
    const values = [
      at,
      entry.kind,
      entry.result,
      entry.reason,
      entry.message,
      ...fields.map(([key]) => entry[key as keyof typeof LOG_COLUMNS] as string | number),
    ];
    const sql = `INSERT INTO authorizations (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    return Number(this.db.prepare(sql).run(...values).lastInsertRowid);
  }

  /** The authorizations log, newest first; optionally one terminal's, and before a given ID. */
  log(query: {
    limit: number;
    terminalId?: string | undefined;
    beforeId?: number | undefined;
  }): AuthorizationLogEntry[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.terminalId !== undefined) {
      where.push('terminal_id = ?');
      params.push(query.terminalId);
    }
    if (query.beforeId !== undefined) {
      where.push('id < ?');
      params.push(query.beforeId);
    }
    const sql = `SELECT * FROM authorizations ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY id DESC LIMIT ?`;
    return this.many(toLogEntry, sql, ...params, query.limit);
  }
}

const str = (v: unknown) => String(v);
const optStr = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
const types = (v: unknown) => JSON.parse(String(v)) as string[];

function toAllowed(r: Row): AllowedServerRow {
  return {
    terminalId: str(r.terminal_id),
    publicKey: optStr(r.public_key),
    contentTypes: types(r.content_types),
    maxIssuances: r.max_issuances === null ? null : Number(r.max_issuances),
    validitySeconds: Number(r.validity_seconds),
    addedAt: str(r.added_at),
  };
}

function toServer(r: Row): RegisteredServerRow {
  return {
    terminalId: str(r.terminal_id),
    name: str(r.name),
    serverInfo: str(r.server_info),
    publicKey: str(r.public_key),
    registeredAt: str(r.registered_at),
    updatedAt: str(r.updated_at),
  };
}

function toCommand(r: Row): CreateCommandRow {
  return {
    commandId: str(r.command_id),
    terminalId: str(r.terminal_id),
    serverPublicKey: str(r.server_public_key),
    issuerId: str(r.issuer_id),
    contentTypes: types(r.content_types),
    maxIssuances: r.max_issuances === null ? null : Number(r.max_issuances),
    notAfter: Number(r.not_after),
    createdAt: str(r.created_at),
    supersededAt: optStr(r.superseded_at),
  };
}

function toLogEntry(r: Row): AuthorizationLogEntry {
  const entry: AuthorizationLogEntry = {
    id: Number(r.id),
    at: str(r.at),
    kind: str(r.kind) as AuthorizationLogEntry['kind'],
    result: str(r.result) as AuthorizationLogEntry['result'],
    reason: str(r.reason),
    message: str(r.message),
  };
  for (const [key, column] of Object.entries(LOG_COLUMNS)) {
    const v = r[column];
    if (v !== null && v !== undefined) (entry as unknown as Record<string, unknown>)[key] = v;
  }
  return entry;
}
