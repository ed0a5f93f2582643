// One card in one slot, read the way seed 002 S1001/S1002 does: select the settlement
// application, read card information and balance, parse the certificate.
import { toHex } from '../../../protocol/bytes.js';
import { TerminalError } from '../../../protocol/errors.js';
import { type ParsedCertificate, parseCertificate } from '../../../protocol/pki/index.js';
import { readBalance } from '../../../protocol/settlement/read-balance.js';
import {
  type Balance,
  type CardInfo,
  SettlementClient,
} from '../../../protocol/settlement/settlement-client.js';
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

export async function closeSession(session: CardSession | undefined): Promise<void> {
  await session?.client.channel.close().catch(() => undefined);
}
