// Pins of the issuer host's TLS key: SHA-256 over the certificate's DER SubjectPublicKeyInfo, in
// base64, written `sha256/<base64>` (the value of HPKP's pin-sha256 and of curl's --pinnedpubkey).
// A pin names a key, not a certificate: the host may renew its certificate for the same key without
// a terminal noticing; a new key needs the new pin on the terminals first.
import { sha256Digest } from '../crypto-suite.js';

export const SPKI_PIN_PATTERN = /^sha256\/[A-Za-z0-9+/]{43}=$/;

export function spkiPin(spkiDer: Uint8Array): string {
  return `sha256/${Buffer.from(sha256Digest(spkiDer)).toString('base64')}`;
}
