// What every settlement handler works with: persistent memory, transient (RAM) state and the
// card's random source.

import type { KeyRoute } from '../../../protocol/settlement/commands.js';
import type { PersistentStore } from '../../os/persistent-store.js';
import type { SettlementState } from './state.js';

export interface KeyUpdateSession {
  route: KeyRoute;
  random: Uint8Array;
  date: number;
  /** The sending card, from its certificate (public-key route only). */
  peer?: { holderId: Uint8Array; publicKey: Uint8Array };
}

export interface TransientState {
  keyUpdate?: KeyUpdateSession;
}

export interface SettlementContext {
  store: PersistentStore<SettlementState>;
  transient: TransientState;
  random(length: number): Uint8Array;
}
