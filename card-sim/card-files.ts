// Opening simulated card files, with clear errors instead of stack traces: for the card CLI, and
// for the terminal's hosts, which hand openSimulatedCard to the terminal services as the factory of
// the cards in simulated reader slots.
//
// A card file is one physical card: while a program holds it (a terminal's simulated reader slot,
// `card serve`, `card inspect`, `card migrate`), no other program can open it. Two programs each
// loading the image and writing it back would lose each other's writes: value moved on one side
// only, an item deleted. The lock (tooling/process-lock.ts) sits beside the file (`card.json.lock`)
// and the second program gets E_CARD_IN_USE naming the holder.
import { existsSync } from 'node:fs';
import { errorMessage, isTerminalError, TerminalError } from '../protocol/errors.js';
import type { VirtualCard } from '../protocol/virtual-card.js';
import { acquireLock, describeHolder, type HeldLock, LockBusyError } from '../tooling/process-lock.js';
import { type SettlementState, settlementStateCodec } from './applets/settlement/state.js';
import { FileBackend } from './os/persistence-backend.js';
import { openCardFile, type SimulatedCard } from './settlement-card.js';

export function loadCardState(path: string): SettlementState {
  const image = new FileBackend(path).load();
  if (image === undefined) throw new TerminalError('E_CARD_STATE', `no card file at ${path}`);
  try {
    return settlementStateCodec.decode(image);
  } catch (e) {
    // A card file of another version: its own typed error, naming the migration (protocol §11).
    if (isTerminalError(e, 'E_CARD_VERSION'))
      throw new TerminalError(e.code, `${path}: ${e.message}`, e.details);
    throw new TerminalError(
      'E_CARD_STATE',
      `${path} is not a valid card file: ${errorMessage(e).slice(0, 300)}`,
    );
  }
}

/** The lock of the card in `path`, or E_CARD_IN_USE naming the program that holds it. */
export function lockCardFile(path: string): HeldLock {
  try {
    return acquireLock(`${path}.lock`);
  } catch (e) {
    if (e instanceof LockBusyError) {
      throw new TerminalError(
        'E_CARD_IN_USE',
        `the card in ${path} is held by ${describeHolder(e.holder)}: a card is in one reader at a time`,
        { path, holder: e.holder },
      );
    }
    throw new TerminalError('E_CARD_STATE', `cannot lock the card file ${path}: ${errorMessage(e)}`, {
      path,
    });
  }
}

/** A card file opened and held by this program until release(). */
export interface HeldCardFile {
  card: SimulatedCard;
  release(): void;
}

/** Holds the card in `path` (E_CARD_IN_USE if another program does) and opens it. */
export function openCard(path: string): HeldCardFile {
  if (!existsSync(path)) throw new TerminalError('E_CARD_STATE', `no card file at ${path}`);
  return withCardFile(path, (release) => {
    loadCardState(path);
    return { card: openCardFile(path), release };
  });
}

/** Runs `work` while holding the card in `path`; the lock is released when it returns or throws. */
export function whileHolding<T>(path: string, work: () => T): T {
  return withCardFile(path, (release) => {
    try {
      return work();
    } finally {
      release();
    }
  });
}

function withCardFile<T>(path: string, work: (release: () => void) => T): T {
  const lock = lockCardFile(path);
  try {
    return work(() => lock.release());
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * The card OS of the card in `path`, held until release(): the factory terminal hosts give the
 * simulated reader slots.
 */
export function openSimulatedCard(path: string): { card: VirtualCard; release(): void } {
  const held = openCard(path);
  return { card: held.card.os, release: held.release };
}
