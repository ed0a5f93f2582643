// Refusals that come from who is at the terminal, not from a card: the main process's operator roles
// (services/operators/operator-roles.ts) and the customer's consent. They arrive as E_ACCESS_DENIED
// with a reason in their details; the screen says what the operator can do about each. And the words
// for an operator's own PIN (sign-in, a supervisor's confirmation), which a card's PIN words would
// get wrong.
import type { ErrorInfo } from '../../electron/ipc/contract.js';
import type { MessageContext, OperatorMessage } from './error-messages.js';

export const ROLE_MESSAGES: Readonly<Record<string, OperatorMessage>> = {
  'supervisor-pin-needed': {
    what: 'This needs a supervisor.',
    todo: 'Ask a supervisor to sign in, or to confirm it with their PIN where the screen asks for it.',
  },
  'not-a-supervisor': {
    what: 'The operator who confirmed is not a supervisor.',
    todo: 'Ask a supervisor to confirm with their own operator ID and PIN.',
  },
  'signed-out': {
    what: 'No operator is signed in.',
    todo: 'Sign in with your operator ID and PIN.',
  },
  locked: {
    what: 'The screen is locked.',
    todo: 'Sign in again with your operator PIN.',
  },
  'no-operators': {
    what: 'This needs a supervisor, and this terminal has no operators.',
    todo: 'Ask support to configure operators for this terminal.',
  },
  'owner-pin-needed': {
    what: 'The customer’s PIN is needed.',
    todo: 'Ask the customer to enter their card PIN, then try again.',
  },
};

/** The role message for a refusal that has one. */
export function roleMessage(error: ErrorInfo): OperatorMessage | undefined {
  const reason = error.details.reason;
  return error.code === 'E_ACCESS_DENIED' && typeof reason === 'string' ? ROLE_MESSAGES[reason] : undefined;
}

/** An operator's own PIN: at sign-in, or a supervisor's confirmation. */
export const OPERATOR_PIN_MESSAGES: MessageContext = {
  E_PIN_WRONG: {
    what: 'Wrong operator ID or PIN.',
    todo: 'Enter them again. After five wrong PINs in a row the terminal waits a minute before it takes another.',
  },
  E_PIN_BLOCKED: {
    what: 'Too many wrong operator PINs.',
    todo: 'Wait a minute, then enter the PIN again.',
  },
  E_BUSY: {
    what: 'Another operator PIN is being checked.',
    todo: 'Wait a moment and try again.',
  },
};

/** A PIN refusal of the operator desk (no card slot named) gets the operator PIN words. */
export function pinContextFor(error: ErrorInfo): MessageContext | undefined {
  const pinRefusal = error.code === 'E_PIN_WRONG' || error.code === 'E_PIN_BLOCKED';
  return pinRefusal && error.details.slot === undefined ? OPERATOR_PIN_MESSAGES : undefined;
}
