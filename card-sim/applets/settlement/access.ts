// Access levels of seed 000, enforced by the card: public (no session), owner (PIN verified:
// owner mode) and issuer (an issuer card authenticated in issuer mode, for its own contents).
import type { CommandApdu } from '../../../protocol/apdu.js';
import { toHex } from '../../../protocol/bytes.js';
import { PIN_REFERENCE } from '../../../protocol/settlement/commands.js';
import type { ContentItem } from '../../../protocol/settlement/contents-codec.js';
import { SESSION_MODE } from '../../../protocol/settlement/session-keys.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import type { SettlementContext } from './applet-context.js';
import { resetNoPinCounters } from './cardholder-verification.js';
import type { SettlementState } from './state.js';

export interface AccessLevel {
  owner: boolean;
  /** Contents issuer whose issuer card is authenticated in issuer mode, if any. */
  issuer?: string;
  /** An authenticated peer card (any mode). */
  session: boolean;
}

export function accessLevel(ctx: SettlementContext): AccessLevel {
  const auth = ctx.transient.auth;
  const established = auth?.stage === 'established';
  const issuer =
    established && auth.mode === SESSION_MODE.ISSUER && auth.peer?.issuerRole
      ? toHex(auth.peer.issuerRole)
      : undefined;
  return { owner: ctx.transient.ownerVerified === true, session: established, ...(issuer ? { issuer } : {}) };
}

const isIssuerOf = (level: AccessLevel, issuerId: string) => level.issuer === issuerId;

export function canReadBalance(level: AccessLevel, s: SettlementState): boolean {
  return level.owner || isIssuerOf(level, s.purseIssuerId);
}

export function canReadBody(level: AccessLevel, item: Pick<ContentItem, 'policy' | 'issuerId'>): boolean {
  switch (item.policy) {
    case 'public':
      return true;
    case 'issuer-alterable':
      return level.owner || isIssuerOf(level, item.issuerId);
    case 'owner-only':
      return level.owner;
    case 'secret':
      return false;
  }
}

export function canAlter(level: AccessLevel, item: Pick<ContentItem, 'policy' | 'issuerId'>): boolean {
  switch (item.policy) {
    case 'public':
    case 'issuer-alterable':
      return isIssuerOf(level, item.issuerId);
    case 'owner-only':
      return level.owner;
    case 'secret':
      return false;
  }
}

/** Giving an item away needs the holder's consent (PIN), or the item's issuer, or an issuer card dispensing its own issue. */
export function canSend(
  level: AccessLevel,
  item: Pick<ContentItem, 'issuerId'>,
  s: SettlementState,
): boolean {
  return level.owner || isIssuerOf(level, item.issuerId) || s.issuerRole === item.issuerId;
}

/** VERIFY (ISO 7816-4): no data asks for the remaining tries; a PIN sets owner mode or spends a try. */
export function verifyPin(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  if (cmd.p1 !== 0 || cmd.p2 !== PIN_REFERENCE) throw new CardStatusError(SW.INCORRECT_P1P2);
  const s = ctx.store.read();
  if (!s.owner) throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'this card has no owner PIN');
  if (s.owner.tries === 0) throw new CardStatusError(SW.AUTH_METHOD_BLOCKED, 'PIN blocked');
  if (cmd.data.length === 0) {
    if (ctx.transient.ownerVerified) return new Uint8Array(0);
    throw new CardStatusError(SW.VERIFICATION_FAILED | s.owner.tries);
  }
  const pin = pinText(cmd.data);
  // The try is spent before the comparison is known (a torn VERIFY never gives a free guess).
  ctx.store.transaction((d) => {
    d.owner!.tries -= 1;
  });
  if (!constantTimeEqual(pin, s.owner.pin)) {
    ctx.transient.ownerVerified = false;
    const left = s.owner.tries - 1;
    throw new CardStatusError(left === 0 ? SW.AUTH_METHOD_BLOCKED : SW.VERIFICATION_FAILED | left);
  }
  ctx.store.transaction((d) => {
    d.owner!.tries = d.owner!.tryLimit;
    resetNoPinCounters(d);
  });
  ctx.transient.ownerVerified = true;
  return new Uint8Array(0);
}

/** RESET RETRY COUNTER (ISO 7816-4, P1 00): the issuer's unblock code ‖ a new PIN. */
export function resetRetryCounter(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  if (cmd.p1 !== 0 || cmd.p2 !== PIN_REFERENCE) throw new CardStatusError(SW.INCORRECT_P1P2);
  const s = ctx.store.read();
  if (!s.owner || !s.puk)
    throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'this card has no owner PIN');
  if (cmd.data.length < 8 + 4 || cmd.data.length > 8 + 12) throw new CardStatusError(SW.WRONG_LENGTH);
  if (s.puk.tries === 0) throw new CardStatusError(SW.AUTH_METHOD_BLOCKED, 'unblock code blocked');
  const puk = pinText(cmd.data.subarray(0, 8));
  const newPin = pinText(cmd.data.subarray(8));
  ctx.store.transaction((d) => {
    d.puk!.tries -= 1;
  });
  if (!constantTimeEqual(puk, s.puk.puk)) {
    const left = s.puk.tries - 1;
    throw new CardStatusError(left === 0 ? SW.AUTH_METHOD_BLOCKED : SW.VERIFICATION_FAILED | left);
  }
  ctx.store.transaction((d) => {
    d.puk!.tries = d.puk!.tryLimit;
    d.owner = { pin: newPin, tries: d.owner!.tryLimit, tryLimit: d.owner!.tryLimit };
  });
  ctx.transient.ownerVerified = false;
  return new Uint8Array(0);
}

function pinText(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('latin1');
  if (!/^\d{4,12}$/.test(text)) throw new CardStatusError(SW.INCORRECT_DATA, 'a PIN is 4 to 12 ASCII digits');
  return text;
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a.padEnd(16, '\0'));
  const y = Buffer.from(b.padEnd(16, '\0'));
  let diff = a.length ^ b.length;
  for (let i = 0; i < 16; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}
