// GET CARD INFO and GET BALANCE answers (docs/protocol.md §4.1, §4): what a terminal knows of a card
// before it sends anything that changes it, including whether a payment will need the PIN.
import { readU32 } from '../bytes.js';
import { TerminalError } from '../errors.js';
import { findTlv, parseTlvList } from '../tlv.js';
import { decodeNoPinLimits, decodePinStatus, type NoPinLimits, type PinStatus } from './cardholder-policy.js';
import { APPLET_VERSION, HOLDER_ID_LENGTH, TAG } from './commands.js';
import { malformedGuard, readU16 } from './response-checks.js';
import { decodeValidity } from './validity-date.js';

export interface CardInfo {
  holderId: Uint8Array;
  validity: string;
  transferKeyId: number;
  transferKeyIdLimit: number;
  updateKeyId: number;
  updateKeyIdLimit: number;
  prestoredTransferKeyIds: number[];
  currency: number;
  unsettledDebits: number;
  pendingCredits: number;
  appletVersion: number;
  /** The cardholder policy (§4.6); absent on a card without PIN. */
  noPinLimits?: NoPinLimits;
  /** PIN state and what may still be paid without it (§4.6). */
  pin: PinStatus;
  certificate: Uint8Array;
}

export interface Balance {
  balance: number;
  maxBalance: number;
  availableBalance: number;
  balanceWithPendingCredits: number;
  currency: number;
}

export function decodeCardInfo(data: Uint8Array): CardInfo {
  const info = malformedGuard('card info', () => {
    const items = parseTlvList(data);
    const need = (tag: number, length?: number) => {
      const v = findTlv(items, tag);
      if (!v || (length !== undefined && v.length !== length))
        throw new Error(`tag ${tag.toString(16)} missing or wrong length`);
      return v;
    };
    const prestored = need(TAG.PRESTORED_KEY_IDS);
    if (prestored.length % 4 !== 0) throw new Error('pre-stored key IDs not a multiple of 4 bytes');
    const unsettled = need(TAG.UNSETTLED, 2);
    const limits = findTlv(items, TAG.NO_PIN_LIMITS);
    return {
      holderId: need(TAG.HOLDER_ID, HOLDER_ID_LENGTH),
      validity: decodeValidity(need(TAG.VALIDITY, 4)),
      transferKeyId: readU32(need(TAG.TRANSFER_KEY_ID, 4)),
      transferKeyIdLimit: readU32(need(TAG.TRANSFER_KEY_ID_LIMIT, 4)),
      updateKeyId: readU32(need(TAG.UPDATE_KEY_ID, 4)),
      updateKeyIdLimit: readU32(need(TAG.UPDATE_KEY_ID_LIMIT, 4)),
      prestoredTransferKeyIds: Array.from({ length: prestored.length / 4 }, (_, i) =>
        readU32(prestored, 4 * i),
      ),
      currency: readU16(need(TAG.CURRENCY, 2)),
      unsettledDebits: unsettled[0]!,
      pendingCredits: unsettled[1]!,
      appletVersion: need(TAG.APPLET_VERSION, 1)[0]!,
      ...(limits ? { noPinLimits: decodeNoPinLimits(limits) } : {}),
      pin: decodePinStatus(need(TAG.PIN_STATE)),
      certificate: need(TAG.CERTIFICATE),
    };
  });
  if (info.appletVersion !== APPLET_VERSION) {
    throw new TerminalError(
      'E_CARD_VERSION',
      `the card runs settlement application version ${info.appletVersion}, this terminal version ${APPLET_VERSION}`,
      { appletVersion: info.appletVersion },
    );
  }
  return info;
}

/** Balance ‖ maximum ‖ balance less open debits ‖ balance plus pending credits ‖ currency. */
export function decodeBalance(d: Uint8Array): Balance {
  return malformedGuard('balance', () => {
    if (d.length !== 18) throw new Error('balance response is 18 bytes');
    return {
      balance: readU32(d, 0),
      maxBalance: readU32(d, 4),
      availableBalance: readU32(d, 8),
      balanceWithPendingCredits: readU32(d, 12),
      currency: readU16(d.subarray(16)),
    };
  });
}
