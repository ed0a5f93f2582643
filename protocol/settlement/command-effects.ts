// What a command APDU may change of what GET CARD INFO and GET BALANCE answer (docs/protocol.md
// §4.8): the terminal keeps a card's info and balance for the card's presence and forgets each the
// moment it sends a command that may change it. Classified by CLA and INS alone, before the command
// goes out and whatever its answer: a command that failed or whose answer was lost may still have
// changed the card.
import { CLA_ISO, CLA_PROPRIETARY, INS } from './commands.js';

export interface CommandEffect {
  /** Card info (key IDs, unsettled counts, PIN state, no-PIN counters) may differ afterwards. */
  info: boolean;
  /** Balance, or whether the card grants it, may differ afterwards. */
  balance: boolean;
  /** The card session's owner level (PIN verified) may differ afterwards. */
  ownerLevel: boolean;
  /** The command ends the card session's access level (SELECT, SESSION END): no issuer level after it. */
  endsSession: boolean;
  /**
   * The command may raise the card session's access level to issuer: AUTH BEGIN with mode `01`, the
   * card requiring an issuer peer (§7); only then may the card grant the balance to the peer.
   */
  authenticates: boolean;
}

/** P1 of AUTH BEGIN: this card requires an issuer peer (§7). */
const AUTH_MODE_ISSUER = 0x01;

const key = (cla: number, ins: number) => (cla << 8) | ins;

/** Commands that change neither the info nor the balance nor the access level. */
const READS = new Set([
  key(CLA_ISO, INS.GET_RESPONSE),
  key(CLA_PROPRIETARY, INS.GET_CARD_INFO),
  key(CLA_PROPRIETARY, INS.GET_BALANCE),
  key(CLA_PROPRIETARY, INS.GET_TRANSACTION_STATUS),
  key(CLA_PROPRIETARY, INS.LIST_CONTENTS),
  key(CLA_PROPRIETARY, INS.READ_CONTENT),
  key(CLA_PROPRIETARY, INS.CONTENT_STATUS),
  // The key-update session lives in transient memory; only APPLY KEY UPDATE changes the keys.
  key(CLA_PROPRIETARY, INS.BEGIN_KEY_UPDATE),
  key(CLA_PROPRIETARY, INS.EXPORT_TRANSFER_KEY),
]);

/** AUTH BEGIN, AUTH PEER, AUTH CONFIRM: the level may change, and with it whether the balance is granted. */
const AUTHENTICATION = new Set([
  key(CLA_PROPRIETARY, INS.AUTH_BEGIN),
  key(CLA_PROPRIETARY, INS.AUTH_PEER),
  key(CLA_PROPRIETARY, INS.AUTH_CONFIRM),
]);

const SESSION_ENDS = new Set([key(CLA_ISO, INS.SELECT), key(CLA_PROPRIETARY, INS.SESSION_END)]);

/** VERIFY and RESET RETRY COUNTER: the PIN state, and with it the owner level. */
const PIN_COMMANDS = new Set([key(CLA_ISO, INS.VERIFY), key(CLA_ISO, INS.RESET_RETRY_COUNTER)]);

const NONE: CommandEffect = {
  info: false,
  balance: false,
  ownerLevel: false,
  endsSession: false,
  authenticates: false,
};
/** A value, key or content command: it may change the info and the balance, not the access level. */
const CHANGES_DATA: CommandEffect = { ...NONE, info: true, balance: true };
const EVERYTHING: CommandEffect = { ...CHANGES_DATA, ownerLevel: true, endsSession: true };

/** What `apdu` may change on the card; anything unknown or malformed may change everything. */
export function commandEffect(apdu: Uint8Array): CommandEffect {
  if (apdu.length < 4) return EVERYTHING;
  const k = key(apdu[0]!, apdu[1]!);
  if (READS.has(k)) return NONE;
  if (AUTHENTICATION.has(k)) {
    const issuerMode = apdu[1] === INS.AUTH_BEGIN && apdu[2] === AUTH_MODE_ISSUER;
    return { ...NONE, balance: true, authenticates: issuerMode };
  }
  if (SESSION_ENDS.has(k)) return EVERYTHING;
  // VERIFY without data only asks the PIN's state (§6: no try spent, the owner level unchanged):
  // case 1 (4 bytes), case 2 short (Le: 5) or extended (00 and a 2-byte Le: 7).
  if (k === key(CLA_ISO, INS.VERIFY) && withoutData(apdu)) return NONE;
  if (PIN_COMMANDS.has(k)) return { ...CHANGES_DATA, ownerLevel: true };
  if (apdu[0] !== CLA_PROPRIETARY) return EVERYTHING;
  return CHANGES_DATA;
}

/** A command APDU that carries no data: case 1 or case 2 (ISO 7816-3 §12.1), short or extended. */
function withoutData(apdu: Uint8Array): boolean {
  return apdu.length <= 5 || (apdu.length === 7 && apdu[4] === 0);
}
