// Rows of the command-generating server (migration 002): its identity, the allow-list, registered
// servers, create commands and the authorizations log. Plain data in, plain data out, over a borrowed
// connection or transaction; the rules (eligibility, limits, signatures) live in
// authority/command-authority.ts, which runs every decision in one transaction.
import type { ContentType } from '../../protocol/settlement/contents-codec.js';
import type { Sql } from './host-database.js';

/** The one authority a host database serves, fixed at its first start. */
export interface AuthorityIdentityRow {
  issuerId: string;
  authorityPublicKey: string;
}

/** An allow-list entry: a terminal that may register, and what its create command allows. */
export interface AllowedServerRow {
  terminalId: string;
  contentTypes: ContentType[];
  maxIssuances: number | null;
  validitySeconds: number;
  changedAt: Date;
  changedBy: string;
}

/** A registered issuing server: its server information as it signed it (canonical JSON) and its key. */
export interface RegisteredServerRow {
  terminalId: string;
  name: string;
  serverInfo: string;
  publicKey: string;
  registeredAt: Date;
  updatedAt: Date;
}

/** A create command issued to a server; superseded by the next registration that changes it. */
export interface CreateCommandRow {
  commandId: string;
  terminalId: string;
  serverPublicKey: string;
  issuerId: string;
  contentTypes: ContentType[];
  maxIssuances: number | null;
  /** Unix seconds. */
  notAfter: number;
  createdAt: Date;
  supersededAt: Date | undefined;
}

/** One line of the authorizations log as written: the request's kind, its answer and what it named. */
export interface AuthorizationLogInput {
  kind: 'register' | 'authorize';
  result: 'ok' | 'reject';
  reason: string;
  message: string;
  /** The terminal whose signed request this was (authenticated by the host). */
  senderTerminalId: string;
  /** The terminal ID the request's server information names. */
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
  at: Date;
}

/** Log fields and their columns, beyond the ones every line has. */
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

const MAX_MESSAGE = 500;

type Row = Record<string, unknown>;

export class AuthorityRecords {
  constructor(private readonly sql: Sql) {}

  private async one<T>(map: (r: Row) => T, text: string, params: unknown[]): Promise<T | undefined> {
    const [row] = await this.sql.query(text, params);
    return row === undefined ? undefined : map(row);
  }

  private async many<T>(map: (r: Row) => T, text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.sql.query(text, params)).map(map);
  }

  async identity(): Promise<AuthorityIdentityRow | undefined> {
    return this.one(
      (r) => ({ issuerId: String(r.issuer_id), authorityPublicKey: String(r.authority_public_key) }),
      'SELECT issuer_id, authority_public_key FROM authority_identity',
      [],
    );
  }

  /** Records the identity unless one is recorded; the caller compares what is there afterwards. */
  async claimIdentity(identity: AuthorityIdentityRow): Promise<void> {
    await this.sql.query(
      `INSERT INTO authority_identity (issuer_id, authority_public_key) VALUES ($1, $2)
       ON CONFLICT (singleton) DO NOTHING`,
      [identity.issuerId, identity.authorityPublicKey],
    );
  }

  /** Puts a terminal on the allow-list, or replaces its entry. */
  async allow(row: AllowedServerRow): Promise<AllowedServerRow> {
    const [stored] = await this.sql.query(
      `INSERT INTO authority_allow_list
         (terminal_id, content_types, max_issuances, validity_seconds, changed_at, changed_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (terminal_id) DO UPDATE SET content_types = excluded.content_types,
         max_issuances = excluded.max_issuances, validity_seconds = excluded.validity_seconds,
         changed_at = excluded.changed_at, changed_by = excluded.changed_by
       RETURNING *`,
      [row.terminalId, row.contentTypes, row.maxIssuances, row.validitySeconds, row.changedAt, row.changedBy],
    );
    return toAllowed(stored!);
  }

  /** Removes a terminal from the allow-list; false if it was not on it. */
  async disallow(terminalId: string): Promise<boolean> {
    const rows = await this.sql.query(
      'DELETE FROM authority_allow_list WHERE terminal_id = $1 RETURNING terminal_id',
      [terminalId],
    );
    return rows.length > 0;
  }

  allowed(terminalId: string): Promise<AllowedServerRow | undefined> {
    return this.one(toAllowed, 'SELECT * FROM authority_allow_list WHERE terminal_id = $1', [terminalId]);
  }

  allowList(): Promise<AllowedServerRow[]> {
    return this.many(toAllowed, 'SELECT * FROM authority_allow_list ORDER BY terminal_id');
  }

  server(terminalId: string): Promise<RegisteredServerRow | undefined> {
    return this.one(toServer, 'SELECT * FROM authority_servers WHERE terminal_id = $1', [terminalId]);
  }

  servers(): Promise<RegisteredServerRow[]> {
    return this.many(toServer, 'SELECT * FROM authority_servers ORDER BY terminal_id');
  }

  /** Registers a server, or updates its registration (the first registration time is kept). */
  async saveServer(row: Omit<RegisteredServerRow, 'updatedAt'>): Promise<void> {
    await this.sql.query(
      `INSERT INTO authority_servers (terminal_id, name, server_info, public_key, registered_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (terminal_id) DO UPDATE SET name = excluded.name, server_info = excluded.server_info,
         public_key = excluded.public_key, updated_at = GREATEST(excluded.updated_at, authority_servers.registered_at)`,
      [row.terminalId, row.name, row.serverInfo, row.publicKey, row.registeredAt],
    );
  }

  /**
   * A create command by its ID, superseded or not. `lock`: holds the row until the transaction ends,
   * so rights under one command are granted one at a time (the issuance limit holds across instances).
   */
  command(commandId: string, options: { lock?: boolean } = {}): Promise<CreateCommandRow | undefined> {
    return this.one(
      toCommand,
      `SELECT * FROM authority_commands WHERE command_id = $1${options.lock ? ' FOR UPDATE' : ''}`,
      [commandId],
    );
  }

  /** The server's current (not superseded) create command, if it has one. */
  currentCommand(terminalId: string): Promise<CreateCommandRow | undefined> {
    return this.one(
      toCommand,
      'SELECT * FROM authority_commands WHERE terminal_id = $1 AND superseded_at IS NULL',
      [terminalId],
    );
  }

  async supersede(commandId: string, at: Date): Promise<void> {
    await this.sql.query('UPDATE authority_commands SET superseded_at = $2 WHERE command_id = $1', [
      commandId,
      at,
    ]);
  }

  async insertCommand(row: CreateCommandRow): Promise<void> {
    await this.sql.query(
      `INSERT INTO authority_commands (command_id, terminal_id, server_public_key, issuer_id, content_types,
         max_issuances, not_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        row.commandId,
        row.terminalId,
        row.serverPublicKey,
        row.issuerId,
        row.contentTypes,
        row.maxIssuances,
        row.notAfter,
        row.createdAt,
      ],
    );
  }

  /** Create rights granted under a command so far (ok authorizations in the log). */
  async grantedCount(commandId: string): Promise<number> {
    const [row] = await this.sql.query<{ n: bigint }>(
      'SELECT count(*) AS n FROM authority_log WHERE command_id = $1 AND grant_id IS NOT NULL',
      [commandId],
    );
    return Number(row?.n ?? 0n);
  }

  /** Whether a right was already granted under this command for this request nonce (a replay). */
  async nonceGranted(commandId: string, nonce: string): Promise<boolean> {
    const rows = await this.sql.query(
      'SELECT 1 FROM authority_log WHERE command_id = $1 AND nonce = $2 AND grant_id IS NOT NULL',
      [commandId, nonce],
    );
    return rows.length > 0;
  }

  /** Appends a line to the authorizations log (append-only: triggers refuse UPDATE and DELETE); its ID. */
  async appendLog(entry: AuthorizationLogInput, at: Date): Promise<number> {
    const fields = Object.entries(LOG_COLUMNS).filter(
      ([key]) => entry[key as keyof typeof LOG_COLUMNS] !== undefined,
    );
    const columns = ['at', 'sender_terminal_id', 'kind', 'result', 'reason', 'message'];
    const values: unknown[] = [
      at,
      entry.senderTerminalId,
      entry.kind,
      entry.result,
      entry.reason,
      entry.message.slice(0, MAX_MESSAGE) || entry.reason,
    ];
    for (const [key, column] of fields) {
      columns.push(column);
      values.push(entry[key as keyof typeof LOG_COLUMNS]);
    }
    const [row] = await this.sql.query<{ entry_id: bigint }>(
      `INSERT INTO authority_log (${columns.join(', ')})
       VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING entry_id`,
      values,
    );
    return Number(row!.entry_id);
  }

  /** The log, newest first; optionally of one terminal (named by it or sent by it), before an ID. */
  log(query: { limit: number; terminalId?: string | undefined; beforeId?: number | undefined }) {
    return this.many(
      toLogEntry,
      `SELECT * FROM authority_log
        WHERE ($1::text IS NULL OR terminal_id = $1 OR sender_terminal_id = $1)
          AND ($2::bigint IS NULL OR entry_id < $2)
        ORDER BY entry_id DESC LIMIT $3`,
      [query.terminalId ?? null, query.beforeId ?? null, query.limit],
    );
  }
}

const optional = (v: unknown) => (v === null || v === undefined ? undefined : String(v));

function toAllowed(r: Row): AllowedServerRow {
  return {
    terminalId: String(r.terminal_id),
    contentTypes: r.content_types as ContentType[],
    maxIssuances: r.max_issuances === null ? null : Number(r.max_issuances),
    validitySeconds: Number(r.validity_seconds),
    changedAt: r.changed_at as Date,
    changedBy: String(r.changed_by),
  };
}

function toServer(r: Row): RegisteredServerRow {
  return {
    terminalId: String(r.terminal_id),
    name: String(r.name),
    serverInfo: String(r.server_info),
    publicKey: String(r.public_key),
    registeredAt: r.registered_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

function toCommand(r: Row): CreateCommandRow {
  return {
    commandId: String(r.command_id),
    terminalId: String(r.terminal_id),
    serverPublicKey: String(r.server_public_key),
    issuerId: String(r.issuer_id),
    contentTypes: r.content_types as ContentType[],
    maxIssuances: r.max_issuances === null ? null : Number(r.max_issuances),
    notAfter: Number(r.not_after),
    createdAt: r.created_at as Date,
    supersededAt: (r.superseded_at as Date | null) ?? undefined,
  };
}

function toLogEntry(r: Row): AuthorizationLogEntry {
  const entry: AuthorizationLogEntry = {
    id: Number(r.entry_id),
    at: r.at as Date,
    senderTerminalId: String(r.sender_terminal_id),
    kind: String(r.kind) as AuthorizationLogEntry['kind'],
    result: String(r.result) as AuthorizationLogEntry['result'],
    reason: String(r.reason),
    message: String(r.message),
  };
  for (const [key, column] of Object.entries(LOG_COLUMNS)) {
    const v = r[column];
    if (v === null || v === undefined) continue;
    (entry as unknown as Record<string, unknown>)[key] = key === 'rightNotAfter' ? Number(v) : optional(v);
  }
  return entry;
}
