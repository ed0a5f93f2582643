// The issuing terminal ("contents issuing server 11" of seed 000's second embodiment): it registers
// with the command-generating authority (server information + signature → create command), and for
// each issuance sends an authentication request; only on ack(ok) does the card in the slot get
// CREATE CONTENT with the create right, and the card checks that right itself. Every step is in the
// terminal journal (flow kind 'admin'), before the next message goes out:
//
//   registration: register-requested → registered → completed
//                                    → register-rejected → failed-no-value-moved
//   issuance:     issue-requested → issue-authorized → completed                  (item on the card)
//                                                    → failed-no-value-moved      (card refused)
//                                                    → issue-interrupted → ...    (no answer: the card
//                                                       is read again; still open if it cannot be)
//                                 → issue-rejected → failed-no-value-moved        (authority said reject)
//
// Re-running an interrupted issuance is safe: the card refuses a second item with the same ID and a
// create right it has used, so an issuance lands at most once.

import { randomUUID } from 'node:crypto';
import type { FlowFacts } from '../../../db/journal.js';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { ecdsaSign, randomBytes } from '../../../protocol/crypto-suite.js';
import { isTerminalError, TerminalError, toTerminalError } from '../../../protocol/errors.js';
import {
  authorizationMessage,
  type CommandAuthorityPort,
  type CreateCommand,
  contentItemSchema,
  type RejectReason,
  registrationMessage,
} from '../../../protocol/issuing/authority-protocol.js';
import {
  type ContentItem,
  type ContentPolicy,
  type ContentType,
  encodeItem,
  payloadDigest,
} from '../../../protocol/settlement/contents-codec.js';
import { unixSeconds } from '../../../protocol/settlement/validity-date.js';
import { cardFact } from '../settlement/card-facts.js';
import { cardLabel } from '../settlement/card-view.js';
import type { CardAccess, SettlementEngine } from '../settlement/settlement-engine.js';
import type { SlotName } from '../slots/reader-slots.js';
import {
  forgetRegistration,
  loadOrCreateServerIdentity,
  readRegistration,
  type ServerIdentity,
  type StoredRegistration,
  saveRegistration,
} from './server-identity.js';

export interface IssuingTerminalOptions {
  engine: Pick<SettlementEngine, 'withCards'>;
  /** How the terminal reaches the authority: HostAuthority (HTTPS to the issuer host). */
  authority: CommandAuthorityPort;
  /** The terminal's data folder: the server key file and the stored create command live here. */
  dataDir: string;
  /** Server information used when the key file is first created. */
  serverName?: string | undefined;
  terminalId?: string | undefined;
  now?: () => Date;
}

export type RegisterOutcome =
  | { status: 'registered'; flowId: string; createCommand: CreateCommand }
  | { status: 'rejected'; flowId: string; reason: RejectReason; error: TerminalError }
  | { status: 'refused'; flowId: string; error: TerminalError };

export type IssueOutcome =
  | {
      status: 'issued';
      flowId: string;
      item: ContentItem;
      cardHolderId: string;
      commandId: string;
      authorizationId: number;
      grantId: string;
    }
  /** The authority said reject (to the registration or the authentication request). */
  | {
      status: 'rejected';
      stage: 'registration' | 'authorization';
      flowId: string;
      reason: RejectReason;
      error: TerminalError;
    }
  /** Not issued: bad input, no or refused card, the authority unreachable, or the card refused the right. */
  | { status: 'refused'; flowId?: string; error: TerminalError }
  /** CREATE CONTENT went out and neither its answer nor the card's contents could be read. */
  | { status: 'interrupted'; flowId: string; error: TerminalError };

/** What the operator screen's handlers use of issuing: the terminal's issue(), and whose items it issues. */
export interface IssuingPort {
  /** The issuer whose items this terminal issues (the command-generating server says). */
  issuerId(): Promise<string>;
  issue(slot: SlotName, item: ContentItem): Promise<IssueOutcome>;
}

/** Rejects after which the stored create command is void: the next operation registers again. */
const VOIDS_REGISTRATION: readonly RejectReason[] = [
  'unknown-command',
  'command-expired',
  'command-superseded',
  'unregistered-server',
];

export class IssuingTerminal {
  readonly identity: ServerIdentity;
  private readonly clock: () => Date;

  constructor(private readonly o: IssuingTerminalOptions) {
    this.identity = loadOrCreateServerIdentity(o.dataDir, { name: o.serverName, terminalId: o.terminalId });
    this.clock = o.now ?? (() => new Date());
  }

  /** The create command held, if it was issued to this server key. */
  registration(): (StoredRegistration & { expired: boolean }) | undefined {
    const r = readRegistration(this.o.dataDir, this.identity.publicKey);
    return r && { ...r, expired: unixSeconds(this.clock()) > r.createCommand.notAfter };
  }

  /** Registers (again) with the authority: S1101–S1103. */
  register(): Promise<RegisterOutcome> {
    return this.o.engine.withCards((cards) => this.registerWith(cards));
  }

  /** Issues `item` onto the card in `slot` under a create right: S1104–S1109. */
  async issue(slot: SlotName, item: ContentItem): Promise<IssueOutcome> {
    const parsed = contentItemSchema.safeParse(item);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      return refused(
        new TerminalError('E_INPUT_INVALID', `item ${first?.path.join('.')}: ${first?.message}`),
      );
    }
    try {
      return await this.o.engine.withCards((cards) => this.issueWith(cards, slot, parsed.data));
    } catch (e) {
      return refused(toTerminalError(e)); // busy, no card, card checks: nothing was asked or sent
    }
  }

  private async registerWith(cards: CardAccess): Promise<RegisterOutcome> {
    const flowId = randomUUID();
    const { serverInfo, publicKey, privateKey } = this.identity;
    cards.record(flowId, 'admin', 'register-requested', {
      terminalId: serverInfo.terminalId,
      name: serverInfo.name,
      serverPublicKey: toHex(publicKey),
    });
    let ack: Awaited<ReturnType<CommandAuthorityPort['register']>>;
    try {
      ack = await this.o.authority.register({
        serverInfo,
        serverPublicKey: toHex(publicKey),
        signature: toHex(ecdsaSign(privateKey, registrationMessage(serverInfo, publicKey))),
      });
    } catch (e) {
      const error = toTerminalError(e);
      cards.record(flowId, 'admin', 'failed-no-value-moved', { stage: 'authority', ...errorPayload(error) });
      return { status: 'refused', flowId, error };
    }
    if (ack.result === 'reject') {
      cards.record(flowId, 'admin', 'register-rejected', { reason: ack.reason, ...errorPayload(ack.error) });
      cards.record(flowId, 'admin', 'failed-no-value-moved', {});
      return { status: 'rejected', flowId, reason: ack.reason, error: ack.error };
    }
    const { createCommand } = ack;
    cards.record(flowId, 'admin', 'registered', { ...createCommand });
    saveRegistration(this.o.dataDir, {
      serverPublicKey: publicKey,
      registeredAt: this.clock().toISOString(),
      createCommand,
    });
    cards.record(flowId, 'admin', 'completed', { commandId: createCommand.commandId });
    return { status: 'registered', flowId, createCommand };
  }

  private async issueWith(cards: CardAccess, slot: SlotName, item: ContentItem): Promise<IssueOutcome> {
    let registration = this.registration();
    if (!registration || registration.expired) {
      const r = await this.registerWith(cards);
      if (r.status === 'refused') return r;
      if (r.status === 'rejected') return { ...r, stage: 'registration' };
      registration = this.registration()!;
    }
    const { commandId } = registration.createCommand;
    const session = await cards.session(slot);
    cards.check(session); // expired, forged or revoked cards get nothing
    const cardHolderId = session.holderIdHex;
    const template = encodeItem(item);
    const itemDigest = payloadDigest(template);
    const nonce = randomBytes(16);
    const { serverInfo, privateKey } = this.identity;
    const signature = ecdsaSign(
      privateKey,
      authorizationMessage({
        commandId: fromHex(commandId),
        serverInfo,
        cardHolderId: fromHex(cardHolderId),
        itemDigest,
        nonce,
      }),
    );
    const flowId = randomUUID();
    const record = (step: string, payload: Record<string, unknown> = {}, facts?: FlowFacts) =>
      cards.record(flowId, 'admin', step, payload, facts);
    record(
      'issue-requested',
      {
        slot,
        cardHolderId,
        cardLabel: cardLabel(session),
        commandId,
        terminalId: serverInfo.terminalId,
        item: {
          id: item.id,
          type: item.type,
          issuerId: item.issuerId,
          policy: item.policy,
          label: item.label,
        },
        itemDigest: toHex(itemDigest),
        nonce: toHex(nonce),
      },
      { cards: [cardFact(session)], items: [{ label: item.label, type: item.type }] },
    );
    let ack: Awaited<ReturnType<CommandAuthorityPort['authorize']>>;
    try {
      ack = await this.o.authority.authorize({
        commandId,
        serverInfo,
        request: { cardHolderId, item, nonce: toHex(nonce) },
        signature: toHex(signature),
      });
    } catch (e) {
      const error = toTerminalError(e);
      record('failed-no-value-moved', { stage: 'authority', ...errorPayload(error) });
      return { status: 'refused', flowId, error };
    }
    if (ack.result === 'reject') {
      record('issue-rejected', { reason: ack.reason, ...errorPayload(ack.error) });
      if (VOIDS_REGISTRATION.includes(ack.reason)) forgetRegistration(this.o.dataDir);
      record('failed-no-value-moved', {});
      return { status: 'rejected', stage: 'authorization', flowId, reason: ack.reason, error: ack.error };
    }
    const { right, authorizationId } = ack;
    record('issue-authorized', { authorizationId, grantId: right.grantId, notAfter: right.notAfter });
    const issued = {
      status: 'issued' as const,
      flowId,
      item,
      cardHolderId,
      commandId,
      authorizationId,
      grantId: right.grantId,
    };
    try {
      await session.client.createContent(cards.now(), template, {
        grantId: fromHex(right.grantId),
        notAfter: right.notAfter,
        signature: fromHex(right.signature),
      });
    } catch (e) {
      const error = toTerminalError(e);
      if (isTerminalError(error, 'E_CARD_STATUS')) {
        record('failed-no-value-moved', { stage: 'card', sw: error.details.sw, ...errorPayload(error) });
        return { status: 'refused', flowId, error };
      }
      record('issue-interrupted', errorPayload(error));
      const onCard = await this.itemOnCard(cards, slot, cardHolderId, item.id);
      if (onCard === undefined) return { status: 'interrupted', flowId, error };
      if (!onCard) {
        record('failed-no-value-moved', { stage: 'card', confirmedAbsent: true });
        return { status: 'refused', flowId, error };
      }
      record('completed', { cardHolderId, itemId: item.id, confirmedAfterInterruption: true });
      return issued;
    }
    record('completed', { cardHolderId, itemId: item.id });
    return issued;
  }

  /** After a lost answer: is the item on the same card? undefined when the card cannot be read. */
  private async itemOnCard(
    cards: CardAccess,
    slot: SlotName,
    holderId: string,
    itemId: string,
  ): Promise<boolean | undefined> {
    try {
      await cards.dropAll();
      const session = await cards.session(slot);
      if (session.holderIdHex !== holderId) return undefined;
      return (await session.client.listContents()).some((c) => c.id === itemId);
    } catch {
      await cards.dropAll().catch(() => undefined);
      return undefined;
    }
  }
}

/** A new item of the authority's issuer with a random 16-byte ID. */
export function newItem(spec: {
  type: ContentType;
  issuerId: string;
  label: string;
  /** Text (UTF-8) or bytes. */
  body?: string | Uint8Array;
  policy?: ContentPolicy;
}): ContentItem {
  const body =
    typeof spec.body === 'string' ? new TextEncoder().encode(spec.body) : (spec.body ?? new Uint8Array(0));
  return {
    id: toHex(randomBytes(16)),
    type: spec.type,
    issuerId: spec.issuerId.toUpperCase(),
    policy: spec.policy ?? defaultPolicy(spec.type),
    label: spec.label,
    body: toHex(body),
  };
}

/** Seed 000: a ticket's seat is the issuer's to alter; a coupon is public; personal data the owner's. */
function defaultPolicy(type: ContentType): ContentPolicy {
  switch (type) {
    case 'ticket':
      return 'issuer-alterable';
    case 'coupon':
      return 'public';
    case 'personal-data':
      return 'owner-only';
    case 'key':
      return 'secret';
  }
}

function refused(error: TerminalError): IssueOutcome {
  return { status: 'refused', error };
}

function errorPayload(error: TerminalError): Record<string, unknown> {
  return { code: error.code, message: error.message };
}
