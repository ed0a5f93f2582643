// The create right of seed 000's second embodiment, as the card checks it: the command-generating
// authority signs, for one issuance, the target card, the exact item and a deadline. The card
// refuses an item without a valid, unused create right.
import { ascii, concat, u32 } from '../bytes.js';

export function createRightMessage(g: {
  grantId: Uint8Array;
  cardHolderId: Uint8Array;
  itemDigest: Uint8Array;
  notAfter: number;
}): Uint8Array {
  return concat(ascii('STLM1GRT'), g.grantId, g.cardHolderId, g.itemDigest, u32(g.notAfter));
}
