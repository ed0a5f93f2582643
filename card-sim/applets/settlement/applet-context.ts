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

/** Card-to-card mutual authentication in progress or established (seed 000 Fig. 5). */
export interface AuthSession {
  stage: 'begun' | 'confirmed-peer' | 'established';
  /** What this card asked the peer to prove (SESSION_MODE). */
  mode: number;
  date: number;
  ephemeralPrivateKey: Uint8Array;
  ephemeralPublicKey: Uint8Array;
  random: Uint8Array;
  peer?: {
    holderId: Uint8Array;
    publicKey: Uint8Array;
    issuerRole?: Uint8Array;
    ephemeralPublicKey: Uint8Array;
    random: Uint8Array;
    mode: number;
  };
  transcript?: Uint8Array;
  sessionId?: Uint8Array;
  key?: Uint8Array;
}

export interface TransientState {
  keyUpdate?: KeyUpdateSession;
  auth?: AuthSession;
  /** The owner's PIN was verified since the last reset (owner mode). */
  ownerVerified?: boolean;
}

export interface SettlementContext {
  store: PersistentStore<SettlementState>;
  transient: TransientState;
  random(length: number): Uint8Array;
}
