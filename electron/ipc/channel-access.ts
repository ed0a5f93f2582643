// Who may call each channel of the contract, checked in the main process before its handler runs,
// whatever window or tab the call comes from: anyone (the sign-in screen's own channels, presence of
// the cards, the kiosk's exit with its own PIN), any signed-in operator (reading cards, the log, the
// receipts), or an operation of the role table (services/operators/operator-roles.ts: a sale, a key
// update, a refund with a supervisor's PIN for that refund...). A locked screen is signed in for
// nothing. The table is typed over every channel: a channel added to the contract without a rule here
// does not compile.
//
// A terminal whose configuration lists no operators has no desk: no one signs in, and every channel
// is open except the refund, which needs a supervisor that such a terminal does not have.
import { TerminalError } from '../../protocol/errors.js';
import type { Approval, OperatorDesk, SupervisorConfirmation } from '../services/operators/operator-desk.js';
import type { Permission } from '../services/operators/operator-roles.js';
import type { Channel, ValidRequestOf } from './contract.js';

type Access = 'anyone' | 'signed-in' | Permission;
type Rule<C extends Channel> = Access | ((request: ValidRequestOf<C>) => Access);

export const CHANNEL_ACCESS: { readonly [C in Channel]: Rule<C> } = {
  'slots:status': 'anyone',
  'cards:read': 'signed-in',
  'session:login': 'signed-in',
  'session:logout': 'signed-in',
  // Basic mutual authentication is part of selling; the issuer's view of a card is a supervisor's.
  'session:authenticate': (r) =>
    r.payerMode === 'issuer' || r.payeeMode === 'issuer' ? 'issuer-session' : 'signed-in',
  'transfer:run': 'sale',
  'keys:update': 'key-update',
  'log:page': 'signed-in',
  'log:verify': 'signed-in',
  'indoubt:list': 'signed-in',
  'recovery:run': 'recover',
  'crl:status': 'signed-in',
  'crl:refresh': 'crl',
  'host:status': 'signed-in',
  'terminal:info': 'signed-in',
  'day:report': 'signed-in',
  'day:export': 'signed-in',
  'contents:list': 'signed-in',
  'kiosk:status': 'anyone',
  'kiosk:exit': 'anyone',
  'operator:status': 'anyone',
  'operator:sign-in': 'anyone',
  'operator:sign-out': 'anyone',
  'operator:lock': 'anyone',
  'operator:activity': 'anyone',
  'items:issue': 'issue',
  'items:sell': 'exchange',
  'items:send': 'item-send',
  'items:alter': 'issuer-session',
  'refund:check': 'signed-in',
  'refund:run': 'refund',
  'pin:unblock': 'pin-unblock',
  'receipts:get': 'signed-in',
  'receipts:export': 'signed-in',
  'tray:status': 'signed-in',
  'tray:move': 'signed-in',
};

/** A supervisor's PIN given with a request for that one action (a refund's). */
function confirmationOf(request: unknown): SupervisorConfirmation | undefined {
  const s = (request as { supervisor?: { operatorId: string; pin: string } }).supervisor;
  return s ? { supervisorId: s.operatorId, pin: s.pin } : undefined;
}

/**
 * Admits a validated request to its channel or throws E_ACCESS_DENIED (details: permission, reason)
 * or the PIN refusals of a supervisor's confirmation. Returns the approval of an operation (who ran it,
 * who confirmed it), undefined for the channels that need none.
 */
export async function admitCall<C extends Channel>(
  desk: OperatorDesk | undefined,
  channel: C,
  request: ValidRequestOf<C>,
): Promise<Approval | undefined> {
  const rule = CHANNEL_ACCESS[channel] as Rule<C>;
  const access = typeof rule === 'function' ? rule(request) : rule;
  if (access === 'anyone') return undefined;
  if (!desk) {
    if (access === 'refund') {
      throw new TerminalError(
        'E_ACCESS_DENIED',
        'a refund needs a supervisor’s confirmation, and this terminal has no operators configured',
        { permission: access, reason: 'no-operators' },
      );
    }
    return undefined;
  }
  if (access === 'signed-in') {
    const state = desk.state();
    if (state.state === 'signed-in') return undefined;
    throw new TerminalError(
      'E_ACCESS_DENIED',
      state.state === 'locked' ? 'the screen is locked: sign in again' : 'sign in first',
      { reason: state.state === 'locked' ? 'locked' : 'signed-out' },
    );
  }
  return desk.authorize(access, confirmationOf(request));
}
