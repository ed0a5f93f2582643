// Reading card files for the CLI with clear errors instead of stack traces.
import { existsSync } from 'node:fs';
import { isTerminalError, TerminalError } from '../../protocol/errors.js';
import { type SettlementState, settlementStateCodec } from '../applets/settlement/state.js';
import { FileBackend } from '../os/persistence-backend.js';
import { openCardFile, type SimulatedCard } from '../settlement-card.js';

export function loadCardState(path: string): SettlementState {
  const image = new FileBackend(path).load();
  if (image === undefined) throw new TerminalError('E_CARD_STATE', `no card file at ${path}`);
  try {
    return settlementStateCodec.decode(image);
  } catch (e) {
    if (isTerminalError(e, 'E_CARD_VERSION'))
      throw new TerminalError(e.code, `${path}: ${e.message}`, e.details);
    throw new TerminalError(
      'E_CARD_STATE',
      `${path} is not a valid card file: ${(e as Error).message.slice(0, 300)}`,
    );
  }
}

export function openCard(path: string): SimulatedCard {
  if (!existsSync(path)) throw new TerminalError('E_CARD_STATE', `no card file at ${path}`);
  loadCardState(path);
  return openCardFile(path);
}
