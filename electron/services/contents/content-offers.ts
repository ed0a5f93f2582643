// What one side of a transmission or exchange gives, from the operator's request to the card
// command and the journal: an item on the card (by its 16-byte ID) or an amount of its purse.
import { AMOUNT_RULE, isAmount } from '../../../protocol/amount.js';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { TerminalError } from '../../../protocol/errors.js';
import type { ContentTransferRecord } from '../../../protocol/settlement/settlement-client.js';
import type { CardSession } from '../settlement/card-session.js';
import type { Offer } from './content-flows.js';
import type { OfferRecord } from './content-record.js';
import type { ContentOffer } from './content-views.js';

/** The offer as the engine works with it: a canonical (uppercase) item ID or a valid amount. */
export function checkOffer(o: ContentOffer): ContentOffer {
  if ('itemId' in o && o.itemId !== undefined) return { itemId: toHex(itemIdBytes(o.itemId)) };
  if ('amount' in o && o.amount !== undefined) {
    if (!isAmount(o.amount)) throw new TerminalError('E_INPUT_INVALID', AMOUNT_RULE);
    return { amount: o.amount };
  }
  throw new TerminalError('E_INPUT_INVALID', 'an offer is an item ID or an amount');
}

export function itemIdBytes(text: string): Uint8Array {
  if (typeof text !== 'string' || !/^[0-9A-Fa-f]{32}$/.test(text))
    throw new TerminalError('E_INPUT_INVALID', 'an item ID is 16 bytes in hex (32 digits)');
  return fromHex(text);
}

/** The offer as the relay sends it to the card. */
export function toFlowOffer(o: ContentOffer): Offer {
  return 'itemId' in o ? { item: fromHex(o.itemId) } : { amount: o.amount };
}

/** Looks the offered item up on the giving card (labels are public) for the journal. */
export async function describeOffer(
  session: CardSession,
  o: ContentOffer,
  who: string,
): Promise<OfferRecord> {
  if ('amount' in o) return { amount: o.amount, currency: session.info.currency };
  const item = (await session.client.listContents()).find((i) => i.id === o.itemId);
  if (!item)
    throw new TerminalError('E_INPUT_INVALID', `${who} (${session.slot} card) holds no item ${o.itemId}`, {
      slot: session.slot,
      itemId: o.itemId,
    });
  if (item.locked)
    throw new TerminalError('E_INPUT_INVALID', `item ${o.itemId} is in another transfer`, {
      slot: session.slot,
      itemId: o.itemId,
    });
  return { itemId: item.id, label: item.label, type: item.type, policy: item.policy };
}

/** Whether the card's transfer record carries exactly this offer. */
export function carriesOffer(
  record: Pick<ContentTransferRecord, 'kind' | 'amount' | 'itemId'>,
  offer: OfferRecord,
): boolean {
  return 'amount' in offer
    ? record.kind === 'value' && record.amount === offer.amount
    : record.kind === 'item' && record.itemId !== undefined && toHex(record.itemId) === offer.itemId;
}
