// What the operator sees of one card: its public data as read in the slot's session, the balance only
// where the card granted it, and the terminal's verdict on its certificate. The IPC contract's zod
// schema `cardView` describes exactly this shape (electron/ipc/view-shapes.ts checks both ways).
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
  o: { ownerLoggedIn: boolean; certificateStatus: CertificateStatus; now: number },
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
