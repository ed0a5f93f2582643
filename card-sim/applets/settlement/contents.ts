// Digital contents on the card (seed 000): listing and reading as the access level allows,
// altering by the right party, and issuing only under a create right.
import type { CommandApdu } from '../../../protocol/apdu.js';
import { fromHex, readU32, toHex } from '../../../protocol/bytes.js';
import { ecdsaVerify } from '../../../protocol/crypto-suite.js';
import { TAG } from '../../../protocol/settlement/commands.js';
import {
  CONTENT_TAG,
  decodeItem,
  encodeItem,
  MAX_BODY_BYTES,
  payloadDigest,
} from '../../../protocol/settlement/contents-codec.js';
import { createRightMessage } from '../../../protocol/settlement/create-right.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import { findTlv, parseTlvList } from '../../../protocol/tlv.js';
import { accessLevel, canAlter, canReadBody } from './access.js';
import type { SettlementContext } from './applet-context.js';
import { CommandData, requireParameters } from './command-data.js';
import { requireItemRoom, storedItem } from './content-records.js';
import type { StoredContentItem } from './state.js';

export function listContents(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  CommandData.expectLength(cmd.data, 0);
  const level = accessLevel(ctx);
  const items = ctx.store.read().contents;
  return Buffer.concat(
    items.map((item) =>
      encodeItem(item, { withBody: canReadBody(level, item), locked: item.lockedBy !== undefined }),
    ),
  );
}

export function readContent(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const item = findItem(ctx, CommandData.expectLength(cmd.data, 16).bytes(16));
  if (!canReadBody(accessLevel(ctx), item))
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'access level too low');
  return fromHex(item.body);
}

/** UPDATE CONTENT: id 16 ‖ new body; allowed to the issuer (seat of a ticket) or the owner (personal data) only. */
export function updateContent(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectAtLeast(cmd.data, 16);
  const id = data.bytes(16);
  const body = data.rest();
  if (body.length > MAX_BODY_BYTES) throw new CardStatusError(SW.WRONG_LENGTH);
  const item = findItem(ctx, id);
  if (!canAlter(accessLevel(ctx), item))
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'access level too low');
  if (item.lockedBy) throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'the item is in transfer');
  ctx.store.transaction((s) => {
    s.contents.find((c) => c.id === item.id)!.body = toHex(body);
  });
  return new Uint8Array(0);
}

/** CREATE CONTENT: date 4 ‖ TLV (E1 item, D3 grant ID, D4 not-after, D2 authority signature). */
export function createContent(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectAtLeast(cmd.data, 5);
  const date = data.u32();
  let tlvs: ReturnType<typeof parseTlvList>;
  let item: ReturnType<typeof decodeItem>;
  try {
    tlvs = parseTlvList(data.rest());
    item = decodeItem(findTlv(tlvs, CONTENT_TAG.ITEM) ?? new Uint8Array(0));
  } catch (e) {
    throw new CardStatusError(SW.INCORRECT_DATA, `malformed item: ${(e as Error).message}`);
  }
  const grantId = findTlv(tlvs, TAG.GRANT_ID);
  const notAfter = findTlv(tlvs, TAG.GRANT_NOT_AFTER);
  const signature = findTlv(tlvs, TAG.GRANT_SIGNATURE);
  if (grantId?.length !== 16 || notAfter?.length !== 4 || !signature) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'no create right');
  }
  if (item.body === undefined) throw new CardStatusError(SW.INCORRECT_DATA, 'item without body');
  const s = ctx.store.read();
  if (!s.authorityPublicKey)
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'this card accepts no issued contents');
  const encoded = encodeItem({ ...item, body: item.body });
  const message = createRightMessage({
    grantId,
    cardHolderId: fromHex(s.holderId),
    itemDigest: payloadDigest(encoded),
    notAfter: readU32(notAfter),
  });
  if (!ecdsaVerify(fromHex(s.authorityPublicKey), message, signature)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'create right does not verify');
  }
  if (date > readU32(notAfter))
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'create right expired');
  if (s.usedGrants.includes(toHex(grantId)))
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'create right already used');
  requireItemRoom(s, item.id);
  ctx.store.transaction((d) => {
    d.contents.push(storedItem(item));
    d.usedGrants.push(toHex(grantId));
    if (d.usedGrants.length > 64) d.usedGrants.shift();
  });
  return new Uint8Array(0);
}

function findItem(ctx: SettlementContext, id: Uint8Array): StoredContentItem {
  const item = ctx.store.read().contents.find((c) => c.id === toHex(id));
  if (!item) throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'no such item');
  return item;
}
