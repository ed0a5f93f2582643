// One card in one slot for the whole of its presence (docs/protocol.md §4.8): SELECT and GET CARD
// INFO once when the session opens, the certificate parsed once; afterwards the info and the balance
// are served from the session until a command the terminal sends may have changed them
// (protocol/settlement/command-effects.ts), and read again only when something needs them. The
// session ends with the card's presence (slot-sessions.ts): removal, reset, another card, a failure
// that resets the cards.
import { toHex } from '../../../protocol/bytes.js';
import type { CardChannel } from '../../../protocol/card-channel.js';
import { TerminalError } from '../../../protocol/errors.js';
import { type ParsedCertificate, parseCertificate } from '../../../protocol/pki/index.js';
import { PIN_STATE } from '../../../protocol/settlement/cardholder-policy.js';
import { commandEffect } from '../../../protocol/settlement/command-effects.js';
import { readBalance } from '../../../protocol/settlement/read-balance.js';
import {
  type Balance,
  type CardInfo,
  SettlementClient,
} from '../../../protocol/settlement/settlement-client.js';
import type { ReaderSlots, SlotName } from '../slots/reader-slots.js';

/** What the session knows to be current on the card; kept by the session's channel. */
export interface CardCache {
  /** `info` is what GET CARD INFO would answer now. */
  infoCurrent: boolean;
  /** `balance` is what GET BALANCE would answer now (undefined: masked at this access level). */
  balanceCurrent: boolean;
  /** The card session holds the owner level (PIN verified); undefined: unknown until info is read. */
  ownerLevel: boolean | undefined;
  /** An authentication requiring an issuer peer ran in this card session: the peer may be granted the balance. */
  authenticated: boolean;
}

export interface CardSession {
  slot: SlotName;
  client: SettlementClient;
  /** Current whenever a session is handed out (SlotSessions.get); see `cache`. */
  info: CardInfo;
  /** Defined only while current and granted: never a stale figure. */
  balance: Balance | undefined;
  /** Parsed once per presence; GET CARD INFO read again must answer the same DER. */
  certificate: ParsedCertificate;
  holderIdHex: string;
  readonly cache: CardCache;
}

export async function openCardSession(slots: ReaderSlots, slot: SlotName): Promise<CardSession> {
  const channel = await slots.connect(slot);
  let session: CardSession | undefined;
  try {
    const cache: CardCache = {
      infoCurrent: false,
      balanceCurrent: false,
      ownerLevel: undefined,
      authenticated: false,
    };
    const client = new SettlementClient(tracked(channel, cache, () => session));
    await client.select();
    const info = await client.getCardInfo();
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
    const opened: CardSession = { slot, client, info, balance: undefined, certificate, holderIdHex, cache };
    noteInfo(opened, info);
    session = opened;
    return opened;
  } catch (e) {
    await channel.close().catch(() => undefined);
    throw e;
  }
}

/**
 * The session's channel: before each command goes out, forgets what it may change. Before, not
 * after: a command that fails or whose answer is lost may have changed the card all the same.
 */
function tracked(
  channel: CardChannel,
  cache: CardCache,
  session: () => CardSession | undefined,
): CardChannel {
  return {
    atr: channel.atr,
    extendedLength: channel.extendedLength,
    close: () => channel.close(),
    transmit: (apdu, opts) => {
      const effect = commandEffect(apdu);
      if (effect.info) cache.infoCurrent = false;
      if (effect.ownerLevel) cache.ownerLevel = undefined;
      if (effect.endsSession) {
        cache.ownerLevel = undefined;
        cache.authenticated = false;
      }
      if (effect.authenticates) cache.authenticated = true;
      if (effect.balance) {
        cache.balanceCurrent = false;
        const s = session();
        if (s) s.balance = undefined;
      }
      return channel.transmit(apdu, opts);
    },
  };
}

function noteInfo(session: CardSession, info: CardInfo): void {
  session.info = info;
  session.cache.infoCurrent = true;
  session.cache.ownerLevel = info.pin.state === PIN_STATE.VERIFIED;
}

/**
 * Reads GET CARD INFO again. The card must be the one the session opened with: another holder ID or
 * certificate means another card answered on this channel, so the session is void (E_CARD_STATE,
 * which resets the cards).
 */
export async function rereadInfo(session: CardSession): Promise<CardSession> {
  const info = await session.client.getCardInfo();
  if (
    toHex(info.holderId) !== session.holderIdHex ||
    toHex(info.certificate) !== toHex(session.info.certificate)
  ) {
    throw new TerminalError('E_CARD_STATE', `another card answered in the ${session.slot} slot`, {
      slot: session.slot,
      holderId: session.holderIdHex,
    });
  }
  noteInfo(session, info);
  return session;
}

/** The session with its info current: read again only if a command since may have changed it. */
export async function currentInfo(session: CardSession): Promise<CardSession> {
  return session.cache.infoCurrent ? session : rereadInfo(session);
}

/**
 * The balance where the card grants it (owner level, or an issuer peer authenticated), read only if
 * a command since may have changed it; undefined (masked) without a GET BALANCE where the card is
 * known to refuse it.
 */
export async function currentBalance(session: CardSession): Promise<Balance | undefined> {
  if (session.cache.balanceCurrent) return session.balance;
  if (session.cache.ownerLevel === undefined && !session.cache.authenticated) await rereadInfo(session);
  const granted = session.cache.ownerLevel === true || session.cache.authenticated;
  const balance = granted ? await readBalance(session.client) : undefined;
  session.balance = balance;
  session.cache.balanceCurrent = true;
  return balance;
}

export async function closeSession(session: CardSession | undefined): Promise<void> {
  await session?.client.channel.close().catch(() => undefined);
}
