// One card in one slot, read the way seed 002 S1001/S1002 does: select the settlement
// application, read card information and balance, parse the certificate.
import { toHex } from '../../../protocol/bytes.js';
import { isTerminalError, TerminalError } from '../../../protocol/errors.js';
import { type ParsedCertificate, parseCertificate } from '../../../protocol/pki/index.js';
import {
  type Balance,
  type CardInfo,
  SettlementClient,
} from '../../../protocol/settlement/settlement-client.js';
import { SW } from '../../../protocol/status-words.js';
import type { ReaderSlots, SlotName } from '../slots/reader-slots.js';

export interface CardSession {
  slot: SlotName;
  client: SettlementClient;
  info: CardInfo;
  /** Undefined while the card's access level does not allow reading it (no owner or issuer session). */
  balance: Balance | undefined;
  certificate: ParsedCertificate;
  holderIdHex: string;
}

export async function openCardSession(slots: ReaderSlots, slot: SlotName): Promise<CardSession> {
  const channel = await slots.connect(slot);
  const client = new SettlementClient(channel);
  try {
    await client.select();
    return await readSession(slot, client);
  } catch (e) {
    await channel.close().catch(() => undefined);
    throw e;
  }
}

/** Re-reads info and balance on an open session (after a key update or a transfer). */
export async function readSession(slot: SlotName, client: SettlementClient): Promise<CardSession> {
  const info = await client.getCardInfo();
  const balance = await readBalance(client);
  const certificate = parseCertificate(info.certificate);
  const holderIdHex = toHex(info.holderId);
  if (!certificate.holderId || toHex(certificate.holderId) !== holderIdHex) {
    throw new TerminalError(
      'E_PKI_MALFORMED',
      `the ${slot} card's certificate belongs to another holder ID`,
      {
        slot,
        holderId: holderIdHex,
      },
    );
  }
  return { slot, client, info, balance, certificate, holderIdHex };
}

/** The balance, or undefined when the card refuses it at the current access level (6982). */
export async function readBalance(client: SettlementClient): Promise<Balance | undefined> {
  try {
    return await client.getBalance();
  } catch (e) {
    if (isTerminalError(e, 'E_CARD_STATUS') && e.details.sw === SW.SECURITY_STATUS_NOT_SATISFIED)
      return undefined;
    throw e;
  }
}

export async function closeSession(session: CardSession | undefined): Promise<void> {
  await session?.client.channel.close().catch(() => undefined);
}
