// Shape checks of card answers, shared by the settlement client's codecs: an answer that is not what
// the command defines is E_APDU_MALFORMED, never a half-read value.
import { toHex } from '../bytes.js';
import { TerminalError } from '../errors.js';

export function expectLength(data: Uint8Array, length: number, what: string): Uint8Array {
  if (data.length !== length) {
    throw new TerminalError(
      'E_APDU_MALFORMED',
      `${what}: expected ${length} bytes, card sent ${data.length}`,
      {
        data: toHex(data),
      },
    );
  }
  return data;
}

/**
 * A content proof is a DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs, at most 72 bytes for P-256).
 * An answer of another shape (say an empty 9000 from a card that did not act) is refused here, so it
 * is never journaled as a proof and a flow is never closed on it.
 */
export function expectSignature(data: Uint8Array, what: string): Uint8Array {
  if (data.length < 8 || data.length > 72 || data[0] !== 0x30 || data[1] !== data.length - 2) {
    throw new TerminalError('E_APDU_MALFORMED', `${what}: not a DER signature (${data.length} bytes)`, {
      data: toHex(data),
    });
  }
  return data;
}

export function malformedGuard<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new TerminalError('E_APDU_MALFORMED', `${what} does not parse: ${(e as Error).message}`);
  }
}

export function readU16(b: Uint8Array): number {
  return (b[0]! << 8) | b[1]!;
}
