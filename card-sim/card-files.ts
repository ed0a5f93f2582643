// Opening simulated card files, with clear errors instead of stack traces: for the card CLI, and
// for the terminal's hosts, which hand openSimulatedCard to the terminal services as the factory of
// the cards in simulated reader slots.
import { existsSync } from 'node:fs';
import { errorMessage, isTerminalError, TerminalError } from '../protocol/errors.js';
import type { VirtualCard } from '../protocol/virtual-card.js';
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

export function openCard(path: string): SimulatedCard {
  if (!existsSync(path)) throw new TerminalError('E_CARD_STATE', `no card file at ${path}`);
  loadCardState(path);
  return openCardFile(path);
}

/** The card OS of the card in `path`: the factory terminal hosts give the simulated reader slots. */
export function openSimulatedCard(path: string): VirtualCard {
  return openCard(path).os;
}
