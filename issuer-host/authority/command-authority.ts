// The command-generating server of seed 000's second embodiment (and modification 1), on the host's
// database (db/authority-records.ts, migration 002). It registers issuing servers (registered server
// list 31a), issues each a create command, and answers every authentication request with an ack: ok
// with a create right bound to one card and one exact item, or reject with a reason. Every request,
// ok or reject, is appended to the authorizations log, which refuses UPDATE and DELETE.
//
// Every request arrives from a terminal the host has authenticated (its signed request): the sender.
// The issuing server is that terminal: its server information must name the sender's terminal ID
// (else 'wrong-sender') and its server key must be the key the sender is registered with at the host
// (else 'key-mismatch'). So a terminal can register and ask rights only for itself, and revoking a
// terminal at the host ends its issuing too (the host refuses its requests before they get here).
//
// Eligibility (who may register) is one of two modes, fixed when the authority is opened:
// - 'allow-list' (default): only terminals the issuer's staff allowed register; the entry also says
//   what the create command allows. Removing an entry stops further rights.
// - 'approve-all': any registered terminal whose self-signature verifies registers with
//   `defaultGrant` (tests, demos); an allow-list entry, where present, still sets its grant.

import { fromHex, toHex } from '../../protocol/bytes.js';
import { canonicalJson } from '../../protocol/canonical-json.js';
import { ecdsaSign, ecdsaVerify, p256PublicKey, randomBytes } from '../../protocol/crypto-suite.js';
import { TerminalError } from '../../protocol/errors.js';
import {
  type AuthorizationAck,
  authorizationMessage,
  authorizationRequestSchema,
  type RegistrationAck,
  type Reject as RejectAck,
  type RejectReason,
  registrationMessage,
  registrationRequestSchema,
  rejection,
  type ServerInfo,
} from '../../protocol/issuing/authority-protocol.js';
import { type ContentType, encodeItem, payloadDigest } from '../../protocol/settlement/contents-codec.js';
import { createRightMessage } from '../../protocol/settlement/create-right.js';
import { unixSeconds } from '../../protocol/settlement/validity-date.js';
import { appendAuditEvent } from '../db/audit-log.js';
import {
  AuthorityRecords,
  type AuthorizationLogInput,
  type CreateCommandRow,
} from '../db/authority-records.js';
import { HOST_SQLSTATE, type HostDatabase, type Sql, sqlstateOf } from '../db/host-database.js';
import { ENTITY_ID_PATTERN } from '../db/terminal-registry.js';
import {
  type AllowedServer,
  type AuthorityLogLine,
  allowedOf,
  logLines,
  type RegisteredServer,
  registeredServer,
  registeredServers,
} from './authority-views.js';
import { checkGrant, DEFAULT_GRANT, type Grant, sameGrant, toCreateCommand } from './grants.js';
import {
  type AuthoritySender,
  badRequest,
  looseTerminalId,
  type Reject,
  senderMismatch,
} from './requests.js';

export type { AllowedServer, AuthorityLogLine, AuthoritySender, RegisteredServer };

/** A create right is for one issuance now, not a stock: ten minutes. */
export const DEFAULT_RIGHT_LIFETIME_SECONDS = 600;

export const ELIGIBILITIES = ['allow-list', 'approve-all'] as const;
export type Eligibility = (typeof ELIGIBILITIES)[number];

export interface CommandAuthorityOptions {
  db: HostDatabase;
  /** The issuer whose authority this is: its issuer ID and authority signing key (hex). */
  issuer: { issuerId: string; authorityPrivateKey: string };
  eligibility?: Eligibility;
  defaultGrant?: Grant;
  rightLifetimeSeconds?: number;
  now?: () => Date;
}

type Decision<T> = { ok: T } | { reject: Reject };
type LogFields = Omit<AuthorizationLogInput, 'kind' | 'result' | 'reason' | 'message'>;

export class CommandAuthority {
  readonly issuerId: string;
  /** Uncompressed P-256 public key of the authority, hex: what the cards hold as authorityPublicKey. */
  readonly publicKey: string;
  readonly eligibility: Eligibility;
  readonly rightLifetimeSeconds: number;
  private readonly db: HostDatabase;
  private readonly signingKey: Uint8Array;
  private readonly defaultGrant: Grant;
  private readonly clock: () => Date;

  private constructor(o: CommandAuthorityOptions) {
    this.db = o.db;
    this.issuerId = o.issuer.issuerId.toUpperCase();
    this.signingKey = fromHex(o.issuer.authorityPrivateKey);
    this.publicKey = toHex(p256PublicKey(this.signingKey));
    this.eligibility = o.eligibility ?? 'allow-list';
    if (!ELIGIBILITIES.includes(this.eligibility))
      throw new TerminalError('E_INPUT_INVALID', `eligibility is one of ${ELIGIBILITIES.join(', ')}`);
    this.defaultGrant = checkGrant(o.defaultGrant ?? DEFAULT_GRANT);
    this.rightLifetimeSeconds = o.rightLifetimeSeconds ?? DEFAULT_RIGHT_LIFETIME_SECONDS;
    if (!Number.isInteger(this.rightLifetimeSeconds) || this.rightLifetimeSeconds < 1) {
      throw new TerminalError('E_INPUT_INVALID', 'the create right lifetime is a positive number of seconds');
    }
    this.clock = o.now ?? (() => new Date());
  }

  /** The authority on `db`; the first one fixes the database's identity, another issuer's is refused. */
  static async open(o: CommandAuthorityOptions): Promise<CommandAuthority> {
    const authority = new CommandAuthority(o);
    const identity = { issuerId: authority.issuerId, authorityPublicKey: authority.publicKey };
    const found = await o.db.transaction(async (tx) => {
      const records = new AuthorityRecords(tx);
      await records.claimIdentity(identity);
      return records.identity();
    });
    if (found?.issuerId !== identity.issuerId || found.authorityPublicKey !== identity.authorityPublicKey) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `the host database serves the authority of issuer ${found?.issuerId}, not ${identity.issuerId} (or another authority key)`,
        { expected: found?.issuerId, given: identity.issuerId },
      );
    }
    return authority;
  }

  private nowSeconds(): number {
    return unixSeconds(this.clock());
  }

  // ---- eligibility (the issuer's staff) ----

  /** Puts a registered terminal on the allow-list (or changes its entry); its next registration gets this grant. */
  async allow(entry: { terminalId: string } & Grant, actor: string): Promise<AllowedServer> {
    if (typeof entry.terminalId !== 'string' || !ENTITY_ID_PATTERN.test(entry.terminalId))
      throw new TerminalError('E_INPUT_INVALID', `"${entry.terminalId}" is not a terminal ID`);
    const grant = checkGrant(entry);
    try {
      return await this.db.transaction(async (tx) => {
        const row = await new AuthorityRecords(tx).allow({
          terminalId: entry.terminalId,
          contentTypes: grant.contentTypes,
          maxIssuances: grant.maxIssuances ?? null,
          validitySeconds: grant.validitySeconds,
          changedAt: this.clock(),
          changedBy: actor,
        });
        await appendAuditEvent(tx, {
          kind: 'authority.allowed',
          severity: 'info',
          actor,
          subject: entry.terminalId,
          detail: { ...grant },
        });
        return allowedOf(row);
      });
    } catch (e) {
      if (sqlstateOf(e) === HOST_SQLSTATE.foreignKeyViolation) {
        throw new TerminalError(
          'E_NOT_FOUND',
          `terminal ${entry.terminalId} is not registered at the host: register it first`,
          { terminalId: entry.terminalId },
        );
      }
      throw e;
    }
  }

  /** Removes a terminal from the allow-list: in 'allow-list' mode it gets no further create rights. */
  disallow(terminalId: string, actor: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const removed = await new AuthorityRecords(tx).disallow(terminalId);
      if (removed) {
        await appendAuditEvent(tx, {
          kind: 'authority.disallowed',
          severity: 'info',
          actor,
          subject: terminalId,
        });
      }
      return removed;
    });
  }

  async allowList(): Promise<AllowedServer[]> {
    return (await new AuthorityRecords(this.db).allowList()).map(allowedOf);
  }

  // ---- registration request → create command ----

  async register(raw: unknown, sender: AuthoritySender): Promise<RegistrationAck> {
    const base = { senderTerminalId: sender.terminalId };
    const parsed = registrationRequestSchema.safeParse(raw);
    if (!parsed.success) {
      return this.finish('register', badRequest('registration request', parsed.error), {
        ...base,
        terminalId: looseTerminalId(raw),
      });
    }
    const { serverInfo, serverPublicKey, signature } = parsed.data;
    const log: LogFields = { ...base, terminalId: serverInfo.terminalId, serverPublicKey };
    const decision = await this.db.transaction(async (tx): Promise<Decision<CreateCommandRow>> => {
      // One registration per terminal at a time, whichever host instance it reaches.
      await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('issuer-host:authority:' || $1, 0))", [
        serverInfo.terminalId,
      ]);
      const records = new AuthorityRecords(tx);
      const wrong = senderMismatch(serverInfo, sender);
      if (wrong) return { reject: wrong };
      if (
        !ecdsaVerify(
          fromHex(serverPublicKey),
          registrationMessage(serverInfo, fromHex(serverPublicKey)),
          fromHex(signature),
        )
      ) {
        return { reject: { reason: 'bad-signature', message: 'the registration signature does not verify' } };
      }
      if (serverPublicKey !== toHex(sender.publicKey)) {
        return {
          reject: {
            reason: 'key-mismatch',
            message: `the server key is not the key terminal ${sender.terminalId} is registered with at the host`,
          },
        };
      }
      const listed = await records.allowed(serverInfo.terminalId);
      if (!listed && this.eligibility === 'allow-list') {
        return {
          reject: {
            reason: 'not-eligible',
            message: `terminal ${serverInfo.terminalId} is not on the allow-list`,
          },
        };
      }
      const grant: Grant = listed ?? this.defaultGrant;
      const at = this.clock();
      await records.saveServer({
        terminalId: serverInfo.terminalId,
        name: serverInfo.name,
        serverInfo: canonicalJson(serverInfo),
        publicKey: serverPublicKey,
        registeredAt: at,
      });
      const current = await records.currentCommand(serverInfo.terminalId);
      if (
        current &&
        current.serverPublicKey === serverPublicKey &&
        current.notAfter >= this.nowSeconds() &&
        sameGrant(current, grant)
      ) {
        // Registering again while the command holds returns it unchanged: no fresh quota.
        await this.appendOk(tx, 'register', 'registered again; create command unchanged', {
          ...log,
          commandId: current.commandId,
        });
        return { ok: current };
      }
      if (current) await records.supersede(current.commandId, at);
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
      await records.insertCommand(command);
      await this.appendOk(tx, 'register', 'registered; create command issued', {
        ...log,
        commandId: command.commandId,
      });
      return { ok: command };
    });
    if ('reject' in decision) return this.finish('register', decision.reject, log);
    const createCommand = toCreateCommand(decision.ok);
    return { result: 'ok', commandId: createCommand.commandId, createCommand };
  }

  // ---- authentication request → ack(ok) with a create right, or ack(reject) ----

  async authorize(raw: unknown, sender: AuthoritySender): Promise<AuthorizationAck> {
    const parsed = authorizationRequestSchema.safeParse(raw);
    if (!parsed.success) {
      return this.finish('authorize', badRequest('authentication request', parsed.error), {
        senderTerminalId: sender.terminalId,
        terminalId: looseTerminalId(raw),
      });
    }
    const { commandId, serverInfo, request, signature } = parsed.data;
    const { item, cardHolderId, nonce } = request;
    const itemDigest = payloadDigest(encodeItem(item));
    const log: LogFields = {
      senderTerminalId: sender.terminalId,
      terminalId: serverInfo.terminalId,
      commandId,
      cardHolderId,
      itemId: item.id,
      itemType: item.type,
      itemIssuerId: item.issuerId,
      itemDigest: toHex(itemDigest),
      nonce,
    };
    const decide = (tx: Sql) =>
      this.decideAuthorization(
        tx,
        { commandId, serverInfo, cardHolderId, item, nonce, signature, itemDigest },
        sender,
        log,
      );
    let decision: Decision<{
      authorizationId: number;
      right: { grantId: string; notAfter: number; signature: string };
    }>;
    try {
      decision = await this.db.transaction(decide);
    } catch (e) {
      // Two instances granting for the same request at once: the unique index lets one through.
      if (sqlstateOf(e) !== HOST_SQLSTATE.uniqueViolation) throw e;
      decision = {
        reject: { reason: 'replayed', message: 'a create right was already granted for this request' },
      };
    }
    if ('reject' in decision) return this.finish('authorize', decision.reject, log);
    return { result: 'ok', ...decision.ok };
  }

  private async decideAuthorization(
    tx: Sql,
    r: {
      commandId: string;
      serverInfo: ServerInfo;
      cardHolderId: string;
      item: { issuerId: string; type: ContentType };
      nonce: string;
      signature: string;
      itemDigest: Uint8Array;
    },
    sender: AuthoritySender,
    log: LogFields,
  ) {
    const records = new AuthorityRecords(tx);
    const reject = (reason: RejectReason, message: string, details?: Record<string, unknown>) => ({
      reject: { reason, message, details },
    });
    const wrong = senderMismatch(r.serverInfo, sender);
    if (wrong) return { reject: wrong };
    // Locked: the rights under one command are counted and granted one at a time.
    const command = await records.command(r.commandId, { lock: true });
    if (!command) return reject('unknown-command', 'no create command with this ID was issued');
    log.serverPublicKey = command.serverPublicKey;
    const server = await records.server(command.terminalId);
    if (
      r.serverInfo.terminalId !== command.terminalId ||
      server?.serverInfo !== canonicalJson(r.serverInfo)
    ) {
      return reject(
        'unregistered-server',
        'the server information is not the one registered for this command',
      );
    }
    const message = authorizationMessage({
      commandId: fromHex(r.commandId),
      serverInfo: r.serverInfo,
      cardHolderId: fromHex(r.cardHolderId),
      itemDigest: r.itemDigest,
      nonce: fromHex(r.nonce),
    });
    if (!ecdsaVerify(fromHex(command.serverPublicKey), message, fromHex(r.signature))) {
      return reject('bad-signature', 'the request is not signed with the registered server key');
    }
    if (command.serverPublicKey !== toHex(sender.publicKey)) {
      return reject('key-mismatch', 'this create command was issued to another key than the sender’s');
    }
    if (command.supersededAt !== undefined) {
      return reject('command-superseded', 'this create command was replaced by a newer registration');
    }
    if (this.eligibility === 'allow-list' && !(await records.allowed(command.terminalId))) {
      return reject('not-eligible', `terminal ${command.terminalId} is no longer on the allow-list`);
    }
    if (await records.nonceGranted(r.commandId, r.nonce)) {
      return reject('replayed', 'a create right was already granted for this request');
    }
    const now = this.nowSeconds();
    if (now > command.notAfter) {
      return reject('command-expired', 'the create command has expired; register again', {
        notAfter: command.notAfter,
      });
    }
    if (command.maxIssuances !== null && (await records.grantedCount(r.commandId)) >= command.maxIssuances) {
      return reject('limit-reached', `all ${command.maxIssuances} issuances of this create command are used`);
    }
    if (r.item.issuerId !== command.issuerId) {
      return reject(
        'foreign-issuer',
        `the item names issuer ${r.item.issuerId}, this authority serves ${command.issuerId}`,
      );
    }
    if (!command.contentTypes.includes(r.item.type)) {
      return reject('type-not-allowed', `this create command does not allow ${r.item.type} items`, {
        allowed: command.contentTypes,
      });
    }
    const grantId = randomBytes(16);
    const notAfter = Math.min(now + this.rightLifetimeSeconds, command.notAfter);
    const rightSignature = ecdsaSign(
      this.signingKey,
      createRightMessage({
        grantId,
        cardHolderId: fromHex(r.cardHolderId),
        itemDigest: r.itemDigest,
        notAfter,
      }),
    );
    const authorizationId = await this.appendOk(tx, 'authorize', 'create right granted', {
      ...log,
      grantId: toHex(grantId),
      rightNotAfter: notAfter,
    });
    return {
      ok: { authorizationId, right: { grantId: toHex(grantId), notAfter, signature: toHex(rightSignature) } },
    };
  }

  // ---- status ----

  registrations(): Promise<RegisteredServer[]> {
    return registeredServers(new AuthorityRecords(this.db), this.nowSeconds());
  }

  /** One terminal's registration with its current command, if it registered. */
  registration(terminalId: string): Promise<RegisteredServer | undefined> {
    return registeredServer(new AuthorityRecords(this.db), terminalId, this.nowSeconds());
  }

  async allowedEntry(terminalId: string): Promise<AllowedServer | undefined> {
    const row = await new AuthorityRecords(this.db).allowed(terminalId);
    return row && allowedOf(row);
  }

  /** The authorizations log, newest first; `terminalId`: lines it sent or that name it. */
  log(query: { limit?: number; terminalId?: string; beforeId?: number } = {}): Promise<AuthorityLogLine[]> {
    return logLines(new AuthorityRecords(this.db), query);
  }

  /** Appends an ok line inside the deciding transaction: granted and logged commit together. */
  private appendOk(
    tx: Sql,
    kind: 'register' | 'authorize',
    message: string,
    log: LogFields,
  ): Promise<number> {
    return new AuthorityRecords(tx).appendLog(
      { kind, result: 'ok', reason: 'ok', message, ...log },
      this.clock(),
    );
  }

  /** Logs a reject (its own transaction: the deciding one wrote nothing) and turns it into the ack. */
  private async finish(kind: 'register' | 'authorize', r: Reject, log: LogFields): Promise<RejectAck> {
    await new AuthorityRecords(this.db).appendLog(
      { kind, result: 'reject', reason: r.reason, message: r.message, ...log },
      this.clock(),
    );
    return { result: 'reject', reason: r.reason, error: rejection(r.reason, r.message, r.details) };
  }
}
