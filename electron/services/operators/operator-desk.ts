// Who is at the terminal: operator sign-in with a PIN, the idle lock, and the permission check every
// operation asks before it runs. Wrong PINs (sign-in and supervisor confirmations alike) count on the
// terminal's one counter (pin-attempts.ts). A sign-in for an unknown ID costs the same scrypt work as a
// real one and counts as a wrong PIN, so the answer says nothing about which IDs exist.
//
// A supervisor's confirmation is a PIN given with one request: it approves that action only, signs no
// one in and leaves the signed-in operator as they were.
import type { PinCountStore } from '../../../db/pin-attempt-store.js';
import { TerminalError } from '../../../protocol/errors.js';
import { createIdleLock, type IdleLock } from './idle-lock.js';
import type { OperatorEntry } from './operator-config.js';
import {
  type OperatorRole,
  PERMISSION_TABLE,
  type Permission,
  roleConfirms,
  roleMay,
} from './operator-roles.js';
import { createPinAttempts } from './pin-attempts.js';
import { checkPin, type PinHash, parsePinHash } from './pin-hash.js';

/** An operator as the screen, the journal and the receipts see them: never the PIN hash. */
export interface OperatorView {
  id: string;
  name: string;
  role: OperatorRole;
}

export type DeskState =
  | { state: 'signed-out' }
  | { state: 'signed-in'; operator: OperatorView; msUntilLock: number }
  /** The idle time ran out (or Lock was pressed): the operator (or another) signs in again. */
  | { state: 'locked'; operator: OperatorView };

export interface SupervisorConfirmation {
  supervisorId: string;
  pin: string;
}

/** What an operation journals about who did it. */
export interface Approval {
  permission: Permission;
  operator: OperatorView;
  /** The supervisor whose PIN confirmed this one action. */
  confirmedBy?: OperatorView;
}

export interface OperatorDesk {
  operators(): OperatorView[];
  state(): DeskState;
  /** Throws E_PIN_WRONG (triesLeft), E_PIN_BLOCKED (retryAfterSeconds) or E_BUSY; the state is unchanged then. */
  signIn(id: string, pin: string): Promise<OperatorView>;
  signOut(): void;
  lock(): void;
  /** Operator activity: the idle countdown starts again (no effect while locked or signed out). */
  touch(): void;
  /**
   * May the signed-in operator do this now? With a supervisor's confirmation where the role alone is
   * not enough (or the action needs one each time). Throws E_ACCESS_DENIED (details: permission,
   * reason) or the PIN refusals of signIn; counts as activity when approved.
   */
  authorize(permission: Permission, confirmation?: SupervisorConfirmation): Promise<Approval>;
}

export interface OperatorDeskOptions {
  operators: readonly OperatorEntry[];
  idleLockMinutes?: number;
  now?: () => number;
  check?: (pin: string, stored: PinHash) => Promise<boolean>;
  maxTries?: number;
  lockoutMs?: number;
  /** Where the wrong-PIN count lives between runs (the terminal's database); absent: memory only. */
  attemptStore?: PinCountStore;
}

interface Known extends OperatorView {
  pin: PinHash;
}

export function createOperatorDesk(o: OperatorDeskOptions): OperatorDesk {
  const check = o.check ?? checkPin;
  const known = new Map<string, Known>();
  for (const e of o.operators) {
    if (known.has(e.id)) throw new TerminalError('E_INPUT_INVALID', `operator "${e.id}" is listed twice`);
    const pin = parsePinHash(e.pinHash, `operators.${e.id}.pinHash`, 'npm run operator-pin');
    known.set(e.id, { id: e.id, name: e.name, role: e.role, pin });
  }
  const attempts = createPinAttempts({
    what: 'operator PIN',
    ...(o.maxTries !== undefined ? { maxTries: o.maxTries } : {}),
    ...(o.lockoutMs !== undefined ? { lockoutMs: o.lockoutMs } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(o.attemptStore ? { store: o.attemptStore } : {}),
  });
  const idle: IdleLock = createIdleLock({
    ...(o.idleLockMinutes !== undefined ? { idleMinutes: o.idleLockMinutes } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  const decoy = known.values().next().value?.pin;
  let current: Known | undefined;

  const view = (k: Known): OperatorView => ({ id: k.id, name: k.name, role: k.role });

  /** Checks a PIN against an operator, or against a decoy for an unknown ID (same cost, never right). */
  const verify = (id: string, pin: string) =>
    attempts.attempt(async () => {
      const who = known.get(id);
      if (who) return check(pin, who.pin);
      if (decoy) await check(pin, decoy);
      return false;
    });

  const denied = (permission: Permission, reason: string, message: string): never => {
    throw new TerminalError('E_ACCESS_DENIED', message, { permission, reason });
  };

  return {
    operators: () => [...known.values()].map(view),
    state() {
      if (!current) return { state: 'signed-out' };
      if (idle.locked()) return { state: 'locked', operator: view(current) };
      return { state: 'signed-in', operator: view(current), msUntilLock: idle.msUntilLock() };
    },
    async signIn(id, pin) {
      await verify(id, pin);
      current = known.get(id) as Known;
      idle.unlock();
      return view(current);
    },
    signOut() {
      current = undefined;
    },
    lock() {
      if (current) idle.lock();
    },
    touch() {
      if (current) idle.touch();
    },
    async authorize(permission, confirmation) {
      const rule = PERMISSION_TABLE[permission];
      if (!rule) denied(permission, 'unknown-permission', `"${String(permission)}" is not an operation`);
      if (!current) denied(permission, 'signed-out', `sign in to ${rule.description}`);
      if (idle.locked())
        denied(permission, 'locked', `the screen is locked: sign in again to ${rule.description}`);
      const operator = current as Known;
      if (roleMay(operator.role, permission) && !confirmation) {
        idle.touch();
        return { permission, operator: view(operator) };
      }
      if (!confirmation) {
        denied(permission, 'supervisor-pin-needed', `a supervisor's PIN is needed to ${rule.description}`);
      }
      const { supervisorId, pin } = confirmation as SupervisorConfirmation;
      const supervisor = known.get(supervisorId);
      if (supervisor && !roleConfirms(supervisor.role, permission)) {
        denied(permission, 'not-a-supervisor', `${supervisor.name} is not a supervisor`);
      }
      await verify(supervisorId, pin);
      idle.touch();
      return { permission, operator: view(operator), confirmedBy: view(supervisor as Known) };
    },
  };
}
