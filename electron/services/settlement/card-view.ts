// What the operator sees of one card: its public data as read in the slot's session, the balance only
// where the card granted it, and the terminal's verdict on its certificate. The IPC contract's zod
// schema `cardView` describes exactly this shape (electron/ipc/view-shapes.ts checks both ways).
import { PIN_STATE } from '../../../protocol/settlement/cardholder-policy.js';
import { isExpired } from '../../../protocol/settlement/validity-date.js';
import type { SlotName } from '../slots/reader-slots.js';
import type { CertificateStatus } from './card-checks.js';
import type { CardSession } from './card-session.js';

export interface CardView {
  slot: SlotName;
  holderId: string;
  validity: string;
  expired: boolean;
  currency: number;
  /** Undefined ("masked") unless the card grants the balance at its access level (owner PIN or issuer). */
  balance?: number;
  maxBalance?: number;
  availableBalance?: number;
  /** The owner's PIN is verified on this card for the current session. */
  ownerLoggedIn: boolean;
  /**
   * The owner PIN as the card reports it: blocked or not, and the tries left (not said while owner
   * mode is on). Absent for a card without an owner PIN.
   */
  pin?: { blocked: boolean; triesLeft?: number };
  transferKeyId: number;
  transferKeyIdLimit: number;
  prestoredTransferKeyIds: number[];
  updateKeyId: number;
  updateKeyIdLimit: number;
  unsettledDebits: number;
  pendingCredits: number;
  certificate: { serial: string; subject: string; notAfter: string; status: CertificateStatus };
}

export function cardView(
  s: CardSession,
  o: {
    ownerLoggedIn: boolean;
    certificateStatus: CertificateStatus;
    now: number;
    /** From pinState(): the card info's PIN state; undefined for a card without an owner PIN. */
    pin: CardView['pin'];
  },
): CardView {
  return {
    slot: s.slot,
    holderId: s.holderIdHex,
    validity: s.info.validity,
    expired: isExpired(s.info.validity, o.now),
    currency: s.info.currency,
    balance: s.balance?.balance,
    maxBalance: s.balance?.maxBalance,
    availableBalance: s.balance?.availableBalance,
    ownerLoggedIn: o.ownerLoggedIn,
    pin: o.pin,
    transferKeyId: s.info.transferKeyId,
    transferKeyIdLimit: s.info.transferKeyIdLimit,
    prestoredTransferKeyIds: s.info.prestoredTransferKeyIds,
    updateKeyId: s.info.updateKeyId,
    updateKeyIdLimit: s.info.updateKeyIdLimit,
    unsettledDebits: s.info.unsettledDebits,
    pendingCredits: s.info.pendingCredits,
    certificate: {
      serial: s.certificate.serial.toString(),
      subject: s.certificate.subjectName,
      notAfter: s.certificate.notAfter.toISOString(),
      status: o.certificateStatus,
    },
  };
}

/** The holder's name from the card's certificate (its CN), as the journal and the receipts name the card. */
export function cardLabel(s: Pick<CardSession, 'certificate'>): string {
  // The CN of the subject, its escaped characters (RFC 4514: "\\,") unescaped.
  return /(?:^|,)CN=((?:\\.|[^,\\])+)/.exec(s.certificate.subjectName)?.[1]?.replace(/\\(.)/g, '$1') ?? '';
}

/**
 * The owner PIN's state as GET CARD INFO carries it (tag CB, protocol §4.6): blocked, tries left, or
 * verified. No APDU of its own: the info is current for the card's presence and read again after any
 * command that may change it (§4.8). Undefined for a card without an owner PIN.
 */
export function pinState(s: Pick<CardSession, 'info'>): CardView['pin'] {
  const p = s.info.pin;
  if (p.state === PIN_STATE.NONE) return undefined;
  if (p.state === PIN_STATE.VERIFIED) return { blocked: false };
  return { blocked: p.state === PIN_STATE.BLOCKED, triesLeft: p.triesLeft };
}
