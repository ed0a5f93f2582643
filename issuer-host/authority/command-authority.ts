// The command-generating server of seed 000's second embodiment (and modification 1), as a plain
// service over its own SQLite file (store/). It registers issuing servers (registered server
// list 31a), issues each a create command, and answers every authentication request with an ack:
// ok with a create right bound to one card and one exact item, or reject with a reason. Every
// request, ok or reject, is appended to the authorizations log, which refuses UPDATE and DELETE.
//
// Eligibility (who may register) is one of two modes, fixed when the authority is opened:
// - 'allow-list' (default): only terminal IDs the authority's operator has allowed (allow(), or
//   `npm run issuer -- authority-allow`) register, optionally pinned to one public key; the list entry
//   also says what the create command allows. Removing an entry (disallow) stops further rights.
// - 'approve-all': any server whose self-signature verifies registers with `defaultGrant` (tests,
//   demos); an allow-list entry, where present, still sets that server's grant and pinned key.
// Either way the first registration of a terminal ID binds its key; another key for the same ID is
// refused unless the allow-list pins that new key (the operator re-keyed the terminal).

import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { canonicalJson } from '../../protocol/canonical-json.js';
import { ecdsaSign, ecdsaVerify, p256PublicKey, randomBytes } from '../../protocol/crypto-suite.js';
import { TerminalError } from '../../protocol/errors.js';
import {
  type AuthorizationAck,
  authorizationMessage,
  authorizationRequestSchema,
  type CreateCommand,
  type RegistrationAck,
  type Reject as RejectAck,
  type RejectReason,
  registrationMessage,
  registrationRequestSchema,
  rejection,
  type ServerInfo,
  serverInfoSchema,
  TERMINAL_ID_PATTERN,
} from '../../protocol/issuing/authority-protocol.js';
import { type ContentType, encodeItem, payloadDigest } from '../../protocol/settlement/contents-codec.js';
import { createRightMessage } from '../../protocol/settlement/create-right.js';
import { unixSeconds } from '../../protocol/settlement/validity-date.js';
import { checkGrant, DEFAULT_GRANT, type Grant, sameGrant, toCreateCommand } from './grants.js';
import { issueText, looseTerminalId, serverKey } from './requests.js';
import {
  AuthorityStore,
  type AuthorizationLogEntry,
  type AuthorizationLogInput,
  type CreateCommandRow,
} from './store/authority-store.js';
import { type AuthorityDatabase, openAuthorityDatabase } from './store/connection.js';

/** A create right is for one issuance now, not a stock: ten minutes. */
export const DEFAULT_RIGHT_LIFETIME_SECONDS = 600;

export type Eligibility = 'allow-list' | 'approve-all';

export interface CommandAuthorityOptions {
  /** The authority's own SQLite file (created and migrated on first open). */
  dbPath: string;
  /** The issuer whose authority this is: its issuer ID and authority signing key. */
  issuer: Pick<IssuerState, 'issuerId' | 'authorityPrivateKey'>;
  eligibility?: Eligibility;
  defaultGrant?: Grant;
  rightLifetimeSeconds?: number;
  now?: () => Date;
}

export interface AllowedServer {
  terminalId: string;
  publicKey?: string | undefined;
  contentTypes: ContentType[];
  maxIssuances: number | null;
  validitySeconds: number;
  addedAt: string;
}

export interface RegisteredServer {
  terminalId: string;
  serverInfo: ServerInfo;
  publicKey: string;
  registeredAt: string;
  updatedAt: string;
  /** The current create command, with the rights granted under it so far. */
  command?: CreateCommand & { granted: number; expired: boolean };
}

type Decision<T> =
  | { ok: T; log: Partial<AuthorizationLogInput> }
  | { reject: Reject; log: Partial<AuthorizationLogInput> };
type Reject = { reason: RejectReason; message: string; details?: Record<string, unknown> };

export class CommandAuthority {
  readonly issuerId: string;
  /** Uncompressed P-256 public key of the authority, hex: what the cards hold as authorityPublicKey. */
  readonly publicKey: string;
  private readonly store: AuthorityStore;
  private readonly signingKey: Uint8Array;
  private readonly eligibility: Eligibility;
  private readonly defaultGrant: Grant;
  private readonly rightLifetime: number;
  private readonly clock: () => Date;

  private constructor(
    private readonly db: AuthorityDatabase,
    o: CommandAuthorityOptions,
  ) {
    this.store = new AuthorityStore(db);
    this.issuerId = o.issuer.issuerId.toUpperCase();
    this.signingKey = fromHex(o.issuer.authorityPrivateKey);
    this.publicKey = toHex(p256PublicKey(this.signingKey));
    this.eligibility = o.eligibility ?? 'allow-list';
    this.defaultGrant = checkGrant(o.defaultGrant ?? DEFAULT_GRANT);
    this.rightLifetime = o.rightLifetimeSeconds ?? DEFAULT_RIGHT_LIFETIME_SECONDS;
    if (!Number.isInteger(this.rightLifetime) || this.rightLifetime < 1) {
      throw new TerminalError('E_INPUT_INVALID', 'the create right lifetime is a positive number of seconds');
    }
    this.clock = o.now ?? (() => new Date());
  }

  /** Opens (creating and migrating) the authority database; refuses a file of another issuer. */
  static open(o: CommandAuthorityOptions): CommandAuthority {
    const db = openAuthorityDatabase(o.dbPath);
    try {
      const authority = new CommandAuthority(db, o);
      authority.store.transaction('authority identity', () => {
        const id = authority.store.identity();
        if (!id) authority.store.setIdentity(authority.issuerId, authority.publicKey, authority.at());
        else if (id.issuerId !== authority.issuerId || id.authorityPublicKey !== authority.publicKey) {
          throw new TerminalError(
            'E_INPUT_INVALID',
            `authority database ${o.dbPath} belongs to issuer ${id.issuerId}, not ${authority.issuerId}`,
            { expected: id.issuerId, given: authority.issuerId },
          );
        }
      });
      return authority;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  private at(): string {
    return this.clock().toISOString();
  }

  private nowSeconds(): number {
    return unixSeconds(this.clock());
  }

  // ---- eligibility (the authority operator's side) ----

  /** Puts a terminal on the allow-list (or changes its entry); its next registration gets this grant. */
  allow(entry: { terminalId: string; publicKey?: string } & Grant): AllowedServer {
    if (!TERMINAL_ID_PATTERN.test(entry.terminalId))
      throw new TerminalError('E_INPUT_INVALID', `"${entry.terminalId}" is not a terminal ID`);
    const grant = checkGrant(entry);
    let publicKey: string | undefined;
    if (entry.publicKey !== undefined) {
      const parsed = serverKey(entry.publicKey);
      if (!parsed) throw new TerminalError('E_INPUT_INVALID', 'the pinned key is not a P-256 public key');
      publicKey = parsed;
    }
    const row = {
      terminalId: entry.terminalId,
      publicKey,
      contentTypes: grant.contentTypes,
      maxIssuances: grant.maxIssuances ?? null,
      validitySeconds: grant.validitySeconds,
      addedAt: this.at(),
    };
    this.store.transaction('allow-list', () => this.store.allow(row));
    return row;
  }

  /** Removes a terminal from the allow-list: in 'allow-list' mode it gets no further create rights. */
  disallow(terminalId: string): boolean {
    return this.store.transaction('allow-list', () => this.store.disallow(terminalId));
  }

  allowList(): AllowedServer[] {
    return this.store.allowList().map((r) => ({ ...r, contentTypes: r.contentTypes as ContentType[] }));
  }

  // ---- registration request → create command ----

  register(raw: unknown): RegistrationAck {
    const parsed = registrationRequestSchema.safeParse(raw);
    if (!parsed.success) return this.badRequest('register', 'registration request', parsed.error, raw);
    const { serverInfo, serverPublicKey, signature } = parsed.data;
    const log = { terminalId: serverInfo.terminalId, serverPublicKey };
    const decision = this.store.transaction('registration', (): Decision<CreateCommandRow> => {
      if (
        !ecdsaVerify(
          fromHex(serverPublicKey),
          registrationMessage(serverInfo, fromHex(serverPublicKey)),
          fromHex(signature),
        )
      ) {
        return {
          reject: { reason: 'bad-signature', message: 'the registration signature does not verify' },
          log,
        };
      }
      const listed = this.store.allowed(serverInfo.terminalId);
      if (!listed && this.eligibility === 'allow-list') {
        return {
          reject: {
            reason: 'not-eligible',
            message: `terminal ${serverInfo.terminalId} is not on the allow-list`,
          },
          log,
        };
      }
      if (listed?.publicKey !== undefined && listed.publicKey !== serverPublicKey) {
        return {
          reject: { reason: 'key-mismatch', message: 'the allow-list pins another key for this terminal' },
          log,
        };
      }
      const existing = this.store.server(serverInfo.terminalId);
      if (existing && existing.publicKey !== serverPublicKey && listed?.publicKey !== serverPublicKey) {
        return {
          reject: { reason: 'key-mismatch', message: 'this terminal ID is registered with another key' },
          log,
        };
      }
      const grant: Grant = listed
        ? {
            contentTypes: listed.contentTypes as ContentType[],
            maxIssuances: listed.maxIssuances,
            validitySeconds: listed.validitySeconds,
          }
        : this.defaultGrant;
      const at = this.at();
      this.store.saveServer({
        terminalId: serverInfo.terminalId,
        name: serverInfo.name,
        serverInfo: canonicalJson(serverInfo),
        publicKey: serverPublicKey,
        registeredAt: at,
        updatedAt: at,
      });
      const current = this.store.currentCommand(serverInfo.terminalId);
      if (
        current &&
        current.serverPublicKey === serverPublicKey &&
        current.notAfter >= this.nowSeconds() &&
        sameGrant(current, grant)
      ) {
        // Registering again while the command holds returns it unchanged: no fresh quota.
        this.logOkInside('register', 'registered again; create command unchanged', {
          ...log,
          commandId: current.commandId,
        });
        return { ok: current, log };
      }
      if (current) this.store.supersede(current.commandId, at);
      const command: CreateCommandRow = {
        commandId: toHex(randomBytes(16)),
        terminalId: serverInfo.terminalId,
        serverPublicKey,
        issuerId: this.issuerId,
        contentTypes: grant.contentTypes,
        maxIssuances: grant.maxIssuances ?? null,
        notAfter: this.nowSeconds() + grant.validitySeconds,
        createdAt: at,
        supersededAt: undefined,
      };
      this.store.insertCommand(command);
      this.logOkInside('register', 'registered; create command issued', {
        ...log,
        commandId: command.commandId,
      });
      return { ok: command, log };
    });
    if ('reject' in decision) return this.finish('register', decision);
    const createCommand = toCreateCommand(decision.ok);
    return { result: 'ok', commandId: createCommand.commandId, createCommand };
  }

  // ---- authentication request → ack(ok) with a create right, or ack(reject) ----

  authorize(raw: unknown): AuthorizationAck {
    const parsed = authorizationRequestSchema.safeParse(raw);
    if (!parsed.success) return this.badRequest('authorize', 'authentication request', parsed.error, raw);
    const { commandId, serverInfo, request, signature } = parsed.data;
    const { item, cardHolderId, nonce } = request;
    const itemDigest = payloadDigest(encodeItem(item));
    const log: Partial<AuthorizationLogInput> = {
      terminalId: serverInfo.terminalId,
      commandId,
      cardHolderId,
      itemId: item.id,
      itemType: item.type,
      itemIssuerId: item.issuerId,
      itemDigest: toHex(itemDigest),
      nonce,
    };
    const decision = this.store.transaction('authorization', () => {
      const reject = (reason: RejectReason, message: string, details?: Record<string, unknown>) => ({
        reject: { reason, message, details },
        log,
      });
      const command = this.store.command(commandId);
      if (!command) return reject('unknown-command', 'no create command with this ID was issued');
      log.serverPublicKey = command.serverPublicKey;
      const server = this.store.server(command.terminalId);
      if (serverInfo.terminalId !== command.terminalId || server?.serverInfo !== canonicalJson(serverInfo)) {
        return reject(
          'unregistered-server',
          'the server information is not the one registered for this command',
        );
      }
      const message = authorizationMessage({
        commandId: fromHex(commandId),
        serverInfo,
        cardHolderId: fromHex(cardHolderId),
        itemDigest,
        nonce: fromHex(nonce),
      });
      if (!ecdsaVerify(fromHex(command.serverPublicKey), message, fromHex(signature))) {
        return reject('bad-signature', 'the request is not signed with the registered server key');
      }
      if (command.supersededAt !== undefined) {
        return reject('command-superseded', 'this create command was replaced by a newer registration');
      }
      if (this.eligibility === 'allow-list') {
        const listed = this.store.allowed(command.terminalId);
        if (!listed)
          return reject('not-eligible', `terminal ${command.terminalId} is no longer on the allow-list`);
        if (listed.publicKey !== undefined && listed.publicKey !== command.serverPublicKey)
          return reject('key-mismatch', 'the allow-list now pins another key for this terminal');
      }
      if (this.store.nonceGranted(commandId, nonce)) {
        return reject('replayed', 'a create right was already granted for this request');
      }
      const now = this.nowSeconds();
      if (now > command.notAfter) {
        return reject('command-expired', 'the create command has expired; register again', {
          notAfter: command.notAfter,
        });
      }
      const granted = this.store.grantedCount(commandId);
      if (command.maxIssuances !== null && granted >= command.maxIssuances) {
        return reject(
          'limit-reached',
          `all ${command.maxIssuances} issuances of this create command are used`,
        );
      }
      if (item.issuerId !== command.issuerId) {
        return reject(
          'foreign-issuer',
          `the item names issuer ${item.issuerId}, this authority serves ${command.issuerId}`,
        );
      }
      if (!command.contentTypes.includes(item.type)) {
        return reject('type-not-allowed', `this create command does not allow ${item.type} items`, {
          allowed: command.contentTypes,
        });
      }
      const grantId = randomBytes(16);
      const notAfter = Math.min(now + this.rightLifetime, command.notAfter);
      const rightSignature = ecdsaSign(
        this.signingKey,
        createRightMessage({ grantId, cardHolderId: fromHex(cardHolderId), itemDigest, notAfter }),
      );
      log.grantId = toHex(grantId);
      log.rightNotAfter = notAfter;
      const id = this.logOkInside('authorize', 'create right granted', log);
      return {
        ok: {
          authorizationId: id,
          right: { grantId: toHex(grantId), notAfter, signature: toHex(rightSignature) },
        },
        log,
      };
    });
    if ('reject' in decision) return this.finish('authorize', decision);
    return { result: 'ok', ...decision.ok };
  }

  // ---- status ----

  registrations(): RegisteredServer[] {
    const now = this.nowSeconds();
    return this.store.servers().map((s) => {
      const c = this.store.currentCommand(s.terminalId);
      return {
        terminalId: s.terminalId,
        serverInfo: serverInfoSchema.parse(JSON.parse(s.serverInfo)),
        publicKey: s.publicKey,
        registeredAt: s.registeredAt,
        updatedAt: s.updatedAt,
        command: c && {
          ...toCreateCommand(c),
          granted: this.store.grantedCount(c.commandId),
          expired: now > c.notAfter,
        },
      };
    });
  }

  /** The authorizations log, newest first. */
  log(query: { limit?: number; terminalId?: string; beforeId?: number } = {}): AuthorizationLogEntry[] {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new TerminalError('E_INPUT_INVALID', 'log limit must be 1..1000');
    return this.store.log({ limit, terminalId: query.terminalId, beforeId: query.beforeId });
  }

  /** Appends an ok entry inside the deciding transaction: granted and logged commit together. */
  private logOkInside(
    kind: 'register' | 'authorize',
    message: string,
    log: Partial<AuthorizationLogInput>,
  ): number {
    return this.store.appendLog({ kind, result: 'ok', reason: 'ok', message, ...log }, this.at());
  }

  /** A request that fails its schema: rejected and logged, under its terminal ID if it has a valid one. */
  private badRequest(
    kind: 'register' | 'authorize',
    what: string,
    error: Parameters<typeof issueText>[0],
    raw: unknown,
  ): RejectAck {
    return this.finish(kind, {
      reject: { reason: 'bad-request', message: `${what}: ${issueText(error)}` },
      log: { terminalId: looseTerminalId(raw) },
    });
  }

  /** Logs a reject and turns it into the ack. */
  private finish(
    kind: 'register' | 'authorize',
    d: { reject: Reject; log: Partial<AuthorizationLogInput> },
  ): RejectAck {
    const { reason, message, details } = d.reject;
    this.store.transaction('authorizations log', () =>
      this.store.appendLog({ kind, result: 'reject', reason, message, ...d.log }, this.at()),
    );
    return { result: 'reject', reason, error: rejection(reason, message, details) };
  }
}
