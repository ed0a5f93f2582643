// What an issuing terminal ("contents issuing server") and the command-generating authority say to
// each other (seed 000, second embodiment and modification 1): registration request → create
// command; authentication request → ack(ok) with a create right, or ack(reject) with a reason.
//
// Every message is plain JSON data (hex strings, numbers), validated on arrival. The issuing terminal
// sends them to the issuer host (docs/issuer-host.md, "Command-generating server") inside requests
// signed with the same key, the terminal's identity: the host's request signature says which
// registered terminal sent the bytes, now and once; the signatures below are the issuing server's own
// statements, which the authority verifies and logs whatever carried them. Signatures are ECDSA
// P-256/SHA-256 (protocol/crypto-suite.ts) over fixed-length, domain-separated encodings below, never
// confusable with the host request's ('STL-HOST-REQUEST-1').

import { z } from 'zod';
import { ascii, concat, fromHex } from '../bytes.js';
import { canonicalJson } from '../canonical-json.js';
import { isValidP256PublicKey, sha256Digest } from '../crypto-suite.js';
import { type ErrorCode, TerminalError } from '../errors.js';
import {
  CONTENT_POLICIES,
  CONTENT_TYPES,
  type ContentItem,
  type ContentType,
  MAX_BODY_BYTES,
  MAX_LABEL_BYTES,
} from '../settlement/contents-codec.js';

const hex = (bytes: number) =>
  z
    .string()
    .regex(new RegExp(`^[0-9A-Fa-f]{${bytes * 2}}$`), `${bytes} bytes of hex`)
    .transform((s) => s.toUpperCase());
const derSignature = z
  .string()
  .regex(/^([0-9A-Fa-f]{2}){8,80}$/, 'a DER signature in hex')
  .transform((s) => s.toUpperCase());

export const TERMINAL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** The issuing server's "personal information (server information)". */
export const serverInfoSchema = z.strictObject({
  /** Shown to people: the shop or box office. */
  name: z.string().min(1).max(64),
  /** Stable ID of the issuing terminal; the registered server list is keyed by it. */
  terminalId: z.string().regex(TERMINAL_ID_PATTERN, 'a terminal ID is 1-64 letters, digits and ._:-'),
  location: z.string().max(128).optional(),
  operator: z.string().max(128).optional(),
});
export type ServerInfo = z.infer<typeof serverInfoSchema>;

export const contentItemSchema = z.strictObject({
  id: hex(16),
  type: z.enum(CONTENT_TYPES),
  issuerId: hex(16),
  policy: z.enum(CONTENT_POLICIES),
  label: z
    .string()
    .refine((l) => Buffer.byteLength(l) <= MAX_LABEL_BYTES, `label of at most ${MAX_LABEL_BYTES} bytes`),
  body: z
    .string()
    .regex(/^([0-9A-Fa-f]{2})*$/, 'body in hex')
    .refine((b) => b.length / 2 <= MAX_BODY_BYTES, `body of at most ${MAX_BODY_BYTES} bytes`)
    .transform((s) => s.toUpperCase()),
}) satisfies z.ZodType<ContentItem, unknown>;

export const registrationRequestSchema = z.strictObject({
  serverInfo: serverInfoSchema,
  /** Uncompressed P-256 public key of the issuing server, hex. */
  serverPublicKey: hex(65).refine((k) => isValidP256PublicKey(fromHex(k)), 'a valid P-256 public key'),
  /** Server's signature over registrationMessage(serverInfo, serverPublicKey). */
  signature: derSignature,
});
export type RegistrationRequest = z.input<typeof registrationRequestSchema>;

export const authorizationRequestSchema = z.strictObject({
  commandId: hex(16),
  serverInfo: serverInfoSchema,
  request: z.strictObject({
    /** Holder ID of the card the item is for: the create right is bound to it. */
    cardHolderId: hex(16),
    item: contentItemSchema,
    /** 16 random bytes; a nonce already granted under this command is a replay. */
    nonce: hex(16),
  }),
  /** Server's signature over authorizationMessage(...), with the registered key. */
  signature: derSignature,
});
export type AuthorizationRequest = z.input<typeof authorizationRequestSchema>;

/** The create command (predetermined command) issued to a registered server. */
export interface CreateCommand {
  commandId: string;
  terminalId: string;
  /** Contents the server may create under this command. */
  contentTypes: ContentType[];
  /** The contents issuer whose items the server may create (the authority's issuer). */
  issuerId: string;
  /** Unix seconds; the command is void afterwards and the server registers again. */
  notAfter: number;
  /** Create rights that may be granted under this command; null: no limit. */
  maxIssuances: number | null;
}

/** The create right of one issuance, as the card checks it (protocol/settlement/create-right.ts). */
export interface CreateRightWire {
  grantId: string;
  /** Unix seconds. */
  notAfter: number;
  signature: string;
}

/** Why an authority said reject; the error's code is the nearest operator-facing code. */
export const REJECT_REASONS = {
  'bad-request': 'E_INPUT_INVALID',
  'bad-signature': 'E_PKI_SIGNATURE',
  'not-eligible': 'E_INPUT_INVALID',
  'key-mismatch': 'E_PKI_SIGNATURE',
  'unknown-command': 'E_INPUT_INVALID',
  'command-superseded': 'E_PKI_REVOKED',
  'unregistered-server': 'E_PKI_SIGNATURE',
  'command-expired': 'E_PKI_EXPIRED',
  'limit-reached': 'E_INPUT_INVALID',
  'foreign-issuer': 'E_INPUT_INVALID',
  'type-not-allowed': 'E_INPUT_INVALID',
  replayed: 'E_INPUT_INVALID',
  /** The request names another issuing server than the terminal that sent it. */
  'wrong-sender': 'E_AUTH_FORBIDDEN',
} as const satisfies Record<string, ErrorCode>;
export type RejectReason = keyof typeof REJECT_REASONS;

export function rejection(reason: RejectReason, message: string, details: Record<string, unknown> = {}) {
  return new TerminalError(REJECT_REASONS[reason], message, { ...details, reason });
}

export type Reject = { result: 'reject'; reason: RejectReason; error: TerminalError };
export type RegistrationAck = { result: 'ok'; commandId: string; createCommand: CreateCommand } | Reject;
export type AuthorizationAck = { result: 'ok'; authorizationId: number; right: CreateRightWire } | Reject;

/**
 * How an issuing terminal reaches the authority: over HTTP to the issuer host
 * (electron/services/issuing/host-authority.ts), the request as JSON, the ack as JSON (a reject's
 * error as TerminalError.toJSON()), rebuilt with registrationAckFromJson / authorizationAckFromJson.
 * Transport failures are thrown (E_TRANSPORT, E_HOST_PIN, E_AUTH_…); a reject is an answer, never thrown.
 */
export interface CommandAuthorityPort {
  register(request: RegistrationRequest): Promise<RegistrationAck>;
  authorize(request: AuthorizationRequest): Promise<AuthorizationAck>;
}

const digestOfInfo = (info: ServerInfo) => sha256Digest(ascii(canonicalJson(info)));

/** Signed by the server when it registers: 'STLM1SRG' ‖ SHA-256(canonical JSON of info) ‖ public key (65). */
export function registrationMessage(info: ServerInfo, serverPublicKey: Uint8Array): Uint8Array {
  return concat(ascii('STLM1SRG'), digestOfInfo(info), serverPublicKey);
}

/**
 * Signed by the server for each authentication request: 'STLM1SAQ' ‖ command ID (16) ‖ SHA-256 of
 * the server information ‖ card holder ID (16) ‖ item digest (32, payloadDigest(encodeItem(item)))
 * ‖ nonce (16).
 */
export function authorizationMessage(m: {
  commandId: Uint8Array;
  serverInfo: ServerInfo;
  cardHolderId: Uint8Array;
  itemDigest: Uint8Array;
  nonce: Uint8Array;
}): Uint8Array {
  return concat(
    ascii('STLM1SAQ'),
    m.commandId,
    digestOfInfo(m.serverInfo),
    m.cardHolderId,
    m.itemDigest,
    m.nonce,
  );
}

const rejectJsonSchema = z.object({
  result: z.literal('reject'),
  reason: z.enum(Object.keys(REJECT_REASONS) as [RejectReason, ...RejectReason[]]),
  error: z.object({
    message: z.string().max(2000),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

const createCommandSchema = z.strictObject({
  commandId: hex(16),
  terminalId: z.string().regex(TERMINAL_ID_PATTERN),
  contentTypes: z.array(z.enum(CONTENT_TYPES)).min(1),
  issuerId: hex(16),
  notAfter: z.number().int().positive(),
  maxIssuances: z.number().int().positive().nullable(),
}) satisfies z.ZodType<CreateCommand, unknown>;

const registrationOkSchema = z.object({
  result: z.literal('ok'),
  commandId: hex(16),
  createCommand: createCommandSchema,
});

const authorizationOkSchema = z.object({
  result: z.literal('ok'),
  authorizationId: z.number().int().nonnegative(),
  right: z.strictObject({ grantId: hex(16), notAfter: z.number().int().positive(), signature: derSignature }),
});

/** Rebuilds an ack that travelled as JSON (the error as TerminalError.toJSON()); E_TRANSPORT if it is none. */
function ackFromJson<T extends RegistrationAck | AuthorizationAck>(json: unknown, ok: z.ZodType): T {
  const okParsed = ok.safeParse(json);
  if (okParsed.success) return okParsed.data as T;
  const reject = rejectJsonSchema.safeParse(json);
  if (!reject.success) {
    throw new TerminalError('E_TRANSPORT', 'the authority answered with something that is not an ack');
  }
  const { reason, error } = reject.data;
  return {
    result: 'reject',
    reason,
    error: new TerminalError(REJECT_REASONS[reason], error.message || reason, error.details ?? {}),
  } as T;
}

export function registrationAckFromJson(json: unknown): RegistrationAck {
  return ackFromJson<RegistrationAck>(json, registrationOkSchema);
}

export function authorizationAckFromJson(json: unknown): AuthorizationAck {
  return ackFromJson<AuthorizationAck>(json, authorizationOkSchema);
}
