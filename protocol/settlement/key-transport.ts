// Bindings of the transfer-key update (seed 002 Figs. 3, 7, 10, 11, 14, 17, 18). The update random is
// not encrypted as in the seed but bound as associated data: the receiving card supplies its own
// random when opening, so a wrap made for another random fails authentication just as the seed's
// "decrypted random is not correct" check would, and a modified wrap is rejected, never decrypted.
import { ascii, concat, u32 } from '../bytes.js';

export const KEY_TRANSPORT_LABEL = {
  COMMON_KEY_WRAP: 'STLM1KWC',
  PRESTORED_SWITCH: 'STLM1KWS',
  PUBLIC_KEY_SEAL: 'STLM1KPK',
  PUBLIC_KEY_SIGNATURE: 'STLM1KSG',
} as const;

/** AAD of the common-key wrap and the pre-stored switch (AES-128-GCM under the update key). */
export function updateKeyWrapAad(
  label: typeof KEY_TRANSPORT_LABEL.COMMON_KEY_WRAP | typeof KEY_TRANSPORT_LABEL.PRESTORED_SWITCH,
  updateKeyId: number,
  senderId: Uint8Array,
  receiverId: Uint8Array,
  updateRandom: Uint8Array,
): Uint8Array {
  return concat(ascii(label), u32(updateKeyId), senderId, receiverId, updateRandom);
}

/** ECIES context and AAD of the public-key route. */
export function publicKeySealContext(
  senderId: Uint8Array,
  receiverId: Uint8Array,
  updateRandom: Uint8Array,
): Uint8Array {
  return concat(ascii(KEY_TRANSPORT_LABEL.PUBLIC_KEY_SEAL), senderId, receiverId, updateRandom);
}

/** Message the sending card signs (ECDSA P-256/SHA-256) in the public-key route (seed: signature 3122/8122). */
export function publicKeySignatureMessage(
  senderId: Uint8Array,
  receiverId: Uint8Array,
  updateRandom: Uint8Array,
  sealed: Uint8Array,
): Uint8Array {
  return concat(ascii(KEY_TRANSPORT_LABEL.PUBLIC_KEY_SIGNATURE), senderId, receiverId, updateRandom, sealed);
}

/** Plaintext layouts. Update key ID 0 means "this card has no update key" (embodiment 2 cards). */
export const COMMON_KEY_PLAINTEXT_LENGTH = 4 + 16;
export const PRESTORED_SWITCH_PLAINTEXT_LENGTH = 4;
export const PUBLIC_KEY_PLAINTEXT_LENGTH = 4 + 16 + 4 + 16;
