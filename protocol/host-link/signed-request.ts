// Signed requests from a terminal to the issuer host (docs/issuer-host.md, "Authentication").
//
// Each request carries four headers: the terminal's registered ID, a timestamp (milliseconds since
// the epoch), a fresh 16-byte nonce and an ECDSA P-256/SHA-256 signature (DER, base64) by the key
// registered for the terminal over these bytes (UTF-8, lines joined by "\n"):
//
//   STL-HOST-REQUEST-1
//   <METHOD>                 e.g. POST
//   <path and query>         exactly as sent, e.g. /terminal/hello
//   <terminal ID>
//   <timestamp>              decimal milliseconds
//   <nonce>                  32 lowercase hex digits
//   <SHA-256 of the body>    64 lowercase hex digits (of the empty string when there is no body)
//
// The host refuses a timestamp outside its window and a nonce it has seen for the terminal, so a
// captured request cannot be sent again, and the body cannot be changed under the signature.
import { ascii } from '../bytes.js';
import { ecdsaSign, ecdsaVerify, randomBytes, sha256Digest } from '../crypto-suite.js';

export const SIGNED_REQUEST_VERSION = 'STL-HOST-REQUEST-1';
export const SIGNED_REQUEST_HEADERS = {
  terminal: 'stl-terminal',
  timestamp: 'stl-timestamp',
  nonce: 'stl-nonce',
  signature: 'stl-signature',
} as const;
export const REQUEST_NONCE_LENGTH = 16;

export interface SignedRequestParts {
  method: string;
  /** Path and query string exactly as on the request line. */
  path: string;
  terminalId: string;
  timestampMs: number;
  nonce: Uint8Array;
  body: Uint8Array;
}

/** The credentials of a request, as read from its headers. */
export interface SignedRequestCredentials {
  terminalId: string;
  timestampMs: number;
  nonce: Uint8Array;
  signature: Uint8Array;
}

const TERMINAL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TIMESTAMP = /^[0-9]{1,15}$/;
const NONCE_HEX = /^[0-9a-f]{32}$/;
const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{8,128}={0,2}$/;
const METHOD = /^[A-Z]{1,16}$/;
const PATH = /^\/[\x21-\x7e]{0,4095}$/;

export function signedRequestBytes(parts: SignedRequestParts): Uint8Array {
  if (!METHOD.test(parts.method)) throw new RangeError('method must be upper-case letters');
  if (!PATH.test(parts.path)) throw new RangeError('path must start with / and hold printable ASCII only');
  if (!TERMINAL_ID.test(parts.terminalId)) throw new RangeError('not a terminal ID');
  if (!Number.isSafeInteger(parts.timestampMs) || parts.timestampMs < 0) {
    throw new RangeError('timestamp must be a non-negative integer (ms)');
  }
  if (parts.nonce.length !== REQUEST_NONCE_LENGTH) throw new RangeError('nonce must be 16 bytes');
  return ascii(
    [
      SIGNED_REQUEST_VERSION,
      parts.method,
      parts.path,
      parts.terminalId,
      String(parts.timestampMs),
      hex(parts.nonce),
      hex(sha256Digest(parts.body)),
    ].join('\n'),
  );
}

/** The four headers of a signed request (fresh nonce; timestamp from `now`). */
export function signRequest(
  privateKey: Uint8Array,
  request: { method: string; path: string; terminalId: string; body?: Uint8Array },
  options: { now?: number; nonce?: Uint8Array } = {},
): Record<string, string> {
  const parts: SignedRequestParts = {
    method: request.method,
    path: request.path,
    terminalId: request.terminalId,
    timestampMs: options.now ?? Date.now(),
    nonce: options.nonce ?? randomBytes(REQUEST_NONCE_LENGTH),
    body: request.body ?? new Uint8Array(0),
  };
  const signature = ecdsaSign(privateKey, signedRequestBytes(parts));
  return {
    [SIGNED_REQUEST_HEADERS.terminal]: parts.terminalId,
    [SIGNED_REQUEST_HEADERS.timestamp]: String(parts.timestampMs),
    [SIGNED_REQUEST_HEADERS.nonce]: hex(parts.nonce),
    [SIGNED_REQUEST_HEADERS.signature]: Buffer.from(signature).toString('base64'),
  };
}

export type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * Reads the credentials from request headers (lower-case names, as Node gives them): `absent` when
 * none of the four is there, `malformed` (with what is wrong) when some are missing, repeated or
 * not of their form.
 */
export function readSignedRequestHeaders(
  headers: HeaderBag,
):
  | { kind: 'absent' }
  | { kind: 'malformed'; problem: string }
  | { kind: 'present'; credentials: SignedRequestCredentials } {
  const names = Object.values(SIGNED_REQUEST_HEADERS);
  if (names.every((name) => headers[name] === undefined)) return { kind: 'absent' };
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    if (typeof value !== 'string') {
      return {
        kind: 'malformed',
        problem: `header ${name} is ${value === undefined ? 'missing' : 'repeated'}`,
      };
    }
    values[name] = value;
  }
  const terminalId = values[SIGNED_REQUEST_HEADERS.terminal]!;
  const timestamp = values[SIGNED_REQUEST_HEADERS.timestamp]!;
  const nonce = values[SIGNED_REQUEST_HEADERS.nonce]!;
  const signature = values[SIGNED_REQUEST_HEADERS.signature]!;
  if (!TERMINAL_ID.test(terminalId))
    return { kind: 'malformed', problem: 'the terminal ID is not of its form' };
  if (!TIMESTAMP.test(timestamp))
    return { kind: 'malformed', problem: 'the timestamp is not decimal milliseconds' };
  if (!NONCE_HEX.test(nonce))
    return { kind: 'malformed', problem: 'the nonce is not 32 lower-case hex digits' };
  if (!SIGNATURE_BASE64.test(signature)) return { kind: 'malformed', problem: 'the signature is not base64' };
  return {
    kind: 'present',
    credentials: {
      terminalId,
      timestampMs: Number(timestamp),
      nonce: new Uint8Array(Buffer.from(nonce, 'hex')),
      signature: new Uint8Array(Buffer.from(signature, 'base64')),
    },
  };
}

/** Whether `signature` is the terminal key's signature of the request. Never throws. */
export function verifyRequestSignature(
  publicKey: Uint8Array,
  parts: SignedRequestParts,
  signature: Uint8Array,
): boolean {
  let message: Uint8Array;
  try {
    message = signedRequestBytes(parts);
  } catch {
    return false;
  }
  return ecdsaVerify(publicKey, message, signature);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}
