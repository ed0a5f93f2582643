// Assembles a simulated settlement card: persistent memory, the card OS and the settlement applet.

import { SettlementApplet } from './applets/settlement/settlement-applet.js';
import { type SettlementState, settlementStateCodec } from './applets/settlement/state.js';
import { CardOS } from './os/card-os.js';
import { FileBackend, type PersistenceBackend } from './os/persistence-backend.js';
import { PersistentStore } from './os/persistent-store.js';

/** T=1 ATR with historical bytes "STLM-SIM"; TCK computed below. */
export const SIMULATED_CARD_ATR = atrWithChecksum([0x3b, 0x88, 0x80, 0x01, ...Buffer.from('STLM-SIM')]);

function atrWithChecksum(bytes: number[]): Uint8Array {
  let tck = 0;
  for (const b of bytes.slice(1)) tck ^= b;
  return Uint8Array.from([...bytes, tck]);
}

export interface SimulatedCard {
  os: CardOS;
  store: PersistentStore<SettlementState>;
}

export function createSettlementCard(options: {
  backend: PersistenceBackend;
  initial?: SettlementState;
  random?: (length: number) => Uint8Array;
}): SimulatedCard {
  const store = new PersistentStore(options.backend, settlementStateCodec, options.initial);
  const applet = new SettlementApplet(store, options.random);
  const os = new CardOS({ atr: SIMULATED_CARD_ATR, applets: [applet], onPowerUp: () => store.reload() });
  return { os, store };
}

export function openCardFile(path: string): SimulatedCard {
  return createSettlementCard({ backend: new FileBackend(path) });
}
