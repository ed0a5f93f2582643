// The contract's operator channels: who is at the terminal, signing in with an operator PIN, signing
// out, locking the screen, and the screen's activity that keeps the idle lock away. A terminal without
// operators answers 'open' and refuses a sign-in.
import { TerminalError } from '../../protocol/errors.js';
import type { DeskState } from '../services/operators/operator-desk.js';
import type { DeskStateWire } from './contract-shop.js';
import type { HandlerServices, Handlers } from './handlers.js';

type OperatorChannel =
  | 'operator:status'
  | 'operator:sign-in'
  | 'operator:sign-out'
  | 'operator:lock'
  | 'operator:activity';

export function operatorHandlers(s: Pick<HandlerServices, 'desk'>): Pick<Handlers, OperatorChannel> {
  const state = (): DeskStateWire => (s.desk ? deskWire(s.desk.state()) : { state: 'open' });
  return {
    'operator:status': async () => state(),
    'operator:sign-in': async ({ operatorId, pin }) => {
      if (!s.desk) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          'this terminal has no operators: there is no one to sign in',
        );
      }
      await s.desk.signIn(operatorId, pin);
      return state();
    },
    'operator:sign-out': async () => {
      s.desk?.signOut();
      return state();
    },
    'operator:lock': async () => {
      s.desk?.lock();
      return state();
    },
    'operator:activity': async () => {
      s.desk?.touch();
      return state();
    },
  };
}

/** The desk's state as the contract carries it (never a PIN hash). */
export function deskWire(d: DeskState): DeskStateWire {
  switch (d.state) {
    case 'signed-out':
      return { state: 'signed-out' };
    case 'signed-in':
      return { state: 'signed-in', operator: { ...d.operator }, msUntilLock: d.msUntilLock };
    case 'locked':
      return { state: 'locked', operator: { ...d.operator } };
  }
}
