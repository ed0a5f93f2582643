// The project's one crypto suite (docs/protocol.md, "Crypto suite"). Every primitive comes from
// @noble/ciphers, @noble/curves or @noble/hashes; this module only fixes parameters and encodings.
import { cmac, gcm } from '@noble/ciphers/aes.js';
import { p256 } from '@noble/curves/nist.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { ascii, concat, equalBytes } from './bytes.js';

export const AES_KEY_LENGTH = 16;
export const MAC_LENGTH = 16;
export const RANDOM_LENGTH = 16;
export const GCM_NONCE_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;
export const P256_PUBLIC_KEY_LENGTH = 65; // uncompressed SEC1 point
export const P256_PRIVATE_KEY_LENGTH = 32;

// --- operation meter ---
// A latency model (card-sim/transport/latency-model.ts) needs to know what crypto a card command did.
// While a meter is active, every primitive below reports itself to it; with none active (always,
// outside such a model) the cost is one undefined check per call. Card commands run synchronously,
// so terminal-side crypto never runs while a card command's meter is active.

/** A primitive as a smart-card chip would execute it (one Java Card API call each). */
export type CryptoOperation =
  | 'aes-cmac' // AES-128-CMAC over `bytes` of message
  | 'aes-gcm' // AES-128-GCM seal or open of `bytes` of plaintext; `aadBytes` of associated data
  | 'ecdsa-sign' // P-256 over `bytes` of message (SHA-256 inside)
  | 'ecdsa-verify' // P-256 over `bytes` of message (SHA-256 inside)
  | 'ecdh' // P-256 shared secret
  | 'p256-keygen' // a fresh key pair
  | 'p256-public-key' // the public key of a known private key
  | 'p256-point-check' // validation of a received public key
  | 'hkdf-sha256' // HKDF extract and one expand block; `bytes` of info
  | 'sha256' // over `bytes`
  | 'random'; // `bytes` of random

export interface CryptoMeter {
  count(operation: CryptoOperation, bytes: number, aadBytes?: number): void;
}

let activeMeter: CryptoMeter | undefined;

/**
 * Runs `work` (synchronous: a card command) with `meter` counting every primitive it calls, and
 * returns what `work` returns. Nested calls count into the innermost meter only.
 */
export function withCryptoMeter<R>(meter: CryptoMeter, work: () => R): R {
  const outer = activeMeter;
  activeMeter = meter;
  try {
    return work();
  } finally {
    activeMeter = outer;
  }
}

/** A cryptographically secure random string (crypto.getRandomValues under noble). */
export function randomBytes(length: number): Uint8Array {
  activeMeter?.count('random', length);
  return nobleRandomBytes(length);
}

/** AES-128-CMAC (NIST SP 800-38B; ISO/IEC 9797-1 MAC algorithm 5), full 16-byte tag. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  assertKey(key);
  activeMeter?.count('aes-cmac', message.length);
  return cmac(message, key); // noble takes (message, key)
}

/** Constant-time comparison of a received MAC with the expected one. */
export function macEquals(expected: Uint8Array, received: Uint8Array): boolean {
  return equalBytes(expected, received);
}

/** AES-128-GCM with a random 96-bit nonce. Output: nonce ‖ ciphertext ‖ tag. */
export function aeadSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  assertKey(key);
  activeMeter?.count('aes-gcm', plaintext.length, aad.length);
  const nonce = randomBytes(GCM_NONCE_LENGTH);
  return concat(nonce, gcm(key, nonce, aad).encrypt(plaintext));
}

/** Opens aeadSeal output; returns undefined when the tag does not verify (never a wrong plaintext). */
export function aeadOpen(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  assertKey(key);
  if (sealed.length < GCM_NONCE_LENGTH + GCM_TAG_LENGTH) return undefined;
  activeMeter?.count('aes-gcm', sealed.length - GCM_NONCE_LENGTH - GCM_TAG_LENGTH, aad.length);
  try {
    return gcm(key, sealed.subarray(0, GCM_NONCE_LENGTH), aad).decrypt(sealed.subarray(GCM_NONCE_LENGTH));
  } catch {
    return undefined;
  }
}

export interface KeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateP256KeyPair(): KeyPair {
  activeMeter?.count('p256-keygen', 0);
  const privateKey = p256.utils.randomSecretKey();
  return { privateKey, publicKey: p256.getPublicKey(privateKey, false) };
}

export function p256PublicKey(privateKey: Uint8Array): Uint8Array {
  activeMeter?.count('p256-public-key', 0);
  return p256.getPublicKey(privateKey, false);
}

/** ECDSA P-256 with SHA-256; signature DER-encoded as in X.509. */
export function ecdsaSign(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  activeMeter?.count('ecdsa-sign', message.length);
  return p256.sign(message, privateKey, { format: 'der', prehash: true, lowS: true });
}

/**
 * Verifies an ECDSA P-256/SHA-256 DER signature. High-S signatures are accepted because OpenSSL
 * produces them; malformed signatures or keys verify as false rather than throwing.
 */
export function ecdsaVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  activeMeter?.count('ecdsa-verify', message.length);
  try {
    return p256.verify(signature, message, publicKey, { format: 'der', prehash: true, lowS: false });
  } catch {
    return false;
  }
}

export function isValidP256PublicKey(publicKey: Uint8Array): boolean {
  activeMeter?.count('p256-point-check', 0);
  try {
    p256.Point.fromBytes(publicKey).assertValidity();
    return true;
  } catch {
    return false;
  }
}

const ECIES_SALT = ascii('STLM1-ECIES-P256-HKDF-SHA256-AES128GCM');

/**
 * ECIES: ephemeral ECDH on P-256, HKDF-SHA256 (salt fixed, info = context ‖ ephemeral public key ‖
 * recipient public key), AES-128-GCM with `aad`. Output: ephemeral public key (65) ‖ nonce ‖ ct ‖ tag.
 */
export function eciesSeal(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  context: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const ephemeral = generateP256KeyPair();
  const key = eciesKey(
    ephemeral.privateKey,
    recipientPublicKey,
    ephemeral.publicKey,
    recipientPublicKey,
    context,
  );
  return concat(ephemeral.publicKey, aeadSeal(key, plaintext, aad));
}

export function eciesOpen(
  recipientPrivateKey: Uint8Array,
  sealed: Uint8Array,
  context: Uint8Array,
  aad: Uint8Array,
): Uint8Array | undefined {
  if (sealed.length < P256_PUBLIC_KEY_LENGTH + GCM_NONCE_LENGTH + GCM_TAG_LENGTH) return undefined;
  const ephemeralPublic = sealed.subarray(0, P256_PUBLIC_KEY_LENGTH);
  if (!isValidP256PublicKey(ephemeralPublic)) return undefined;
  const recipientPublic = p256PublicKey(recipientPrivateKey);
  const key = eciesKey(recipientPrivateKey, ephemeralPublic, ephemeralPublic, recipientPublic, context);
  return aeadOpen(key, sealed.subarray(P256_PUBLIC_KEY_LENGTH), aad);
}

function eciesKey(
  privateKey: Uint8Array,
  peerPublic: Uint8Array,
  ephemeralPublic: Uint8Array,
  recipientPublic: Uint8Array,
  context: Uint8Array,
): Uint8Array {
  const shared = p256SharedSecret(privateKey, peerPublic);
  return hkdfSha256(shared, ECIES_SALT, concat(context, ephemeralPublic, recipientPublic), AES_KEY_LENGTH);
}

/** P-256 ECDH: the x-coordinate of the shared point (SEC1 §3.3.1), 32 bytes. */
export function p256SharedSecret(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  activeMeter?.count('ecdh', 0);
  // Compressed encoding, then drop its 0x02/0x03 prefix: the x-coordinate only.
  return p256.getSharedSecret(privateKey, peerPublicKey, true).subarray(1);
}

/** HKDF with HMAC-SHA256 (RFC 5869): extract, then expand to `length` bytes. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  activeMeter?.count('hkdf-sha256', info.length);
  return hkdf(sha256, ikm, salt, info, length);
}

export function sha256Digest(data: Uint8Array): Uint8Array {
  activeMeter?.count('sha256', data.length);
  return sha256(data);
}

function assertKey(key: Uint8Array): void {
  if (key.length !== AES_KEY_LENGTH) throw new RangeError('AES-128 keys are 16 bytes');
}
