// GET BALANCE as every reader of a card wants it: the card shows its balance only at an access
// level that grants it (owner PIN verified, or its issuer authenticated); below that it answers
// 6982, which is not an error but a masked balance.
import { isTerminalError } from '../errors.js';
import { SW } from '../status-words.js';
import type { Balance, SettlementClient } from './settlement-client.js';

/** The balance, or undefined when the card refuses it at the current access level (6982). */
export async function readBalance(
  client: Pick<SettlementClient, 'getBalance'>,
): Promise<Balance | undefined> {
  try {
    return await client.getBalance();
  } catch (e) {
    if (isTerminalError(e, 'E_CARD_STATUS') && e.details.sw === SW.SECURITY_STATUS_NOT_SATISFIED)
      return undefined;
    throw e;
  }
}
