// Card-to-card mutual authentication (seed 000 Fig. 5), hardened: each card contributes an
// ephemeral P-256 key and a random; each signs the whole transcript with its certified card key
// (the seed's "authentication confirmation notice"); both derive the same session ID and a session
// key that only the two cards know, so contents travel encrypted past the terminal.
import { p256 } from '@noble/curves/nist.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ascii, concat, toHex } from '../bytes.js';

export const SESSION_MODE = {
  /** The peer is only authenticated: public access to this card's contents. */
  BASIC: 0x00,
  /** The peer must prove it is an issuer card (issuer-role certificate): issuer access to that issuer's contents. */
  ISSUER: 0x01,
} as const;
export type SessionMode = (typeof SESSION_MODE)[keyof typeof SESSION_MODE];

export interface SessionSide {
  holderId: Uint8Array;
  ephemeralPublicKey: Uint8Array;
  random: Uint8Array;
  mode: number;
}

/** The transcript orders both sides by holder ID, so both cards compute the same bytes. */
export function sessionTranscript(a: SessionSide, b: SessionSide): Uint8Array {
  const [lo, hi] = toHex(a.holderId) < toHex(b.holderId) ? [a, b] : [b, a];
  return concat(
    ascii('STLM1SES'),
    lo.holderId,
    hi.holderId,
    lo.ephemeralPublicKey,
    hi.ephemeralPublicKey,
    lo.random,
    hi.random,
    Uint8Array.of(lo.mode, hi.mode),
  );
}

/** What card `signerId` signs to confirm the peer: label ‖ signer ‖ transcript. */
export function authenticationMessage(signerId: Uint8Array, transcript: Uint8Array): Uint8Array {
  return concat(ascii('STLM1AUT'), signerId, transcript);
}

export function sessionId(transcript: Uint8Array): Uint8Array {
  return sha256(concat(ascii('STLM1SID'), transcript)).slice(0, 16);
}

export function sessionKey(
  ephemeralPrivateKey: Uint8Array,
  peerEphemeralPublicKey: Uint8Array,
  transcript: Uint8Array,
): Uint8Array {
  const shared = p256.getSharedSecret(ephemeralPrivateKey, peerEphemeralPublicKey, true).subarray(1);
  return hkdf(sha256, shared, sha256(transcript), ascii('STLM1 session key'), 16);
}
