// The terminal's two reader slots (seed 002: smart-card read/write means 301A and 301B). Which
// reader serves which slot is configuration; the backends are PC/SC (physical and vpcd readers)
// and in-process simulated cards.
import type { CardChannel } from '../../../protocol/card-channel.js';

export const SLOT_NAMES = ['payer', 'payee'] as const;
export type SlotName = (typeof SLOT_NAMES)[number];

export interface SlotStatus {
  slot: SlotName;
  /** Reader bound to the slot, if one is attached. */
  reader?: string;
  readerPresent: boolean;
  cardPresent: boolean;
  /** Hex ATR of the present card. */
  atr?: string;
}

export type SlotEvent =
  | { type: 'reader-attached' | 'reader-detached'; slot: SlotName; reader: string }
  | { type: 'card-inserted'; slot: SlotName; reader: string; atr: string }
  | { type: 'card-removed'; slot: SlotName; reader: string }
  | { type: 'service-lost'; detail: string }
  | { type: 'service-restored' };

export interface ReaderSlots {
  status(): SlotStatus[];
  /** Subscribes to slot events; returns the unsubscribe function. */
  on(listener: (event: SlotEvent) => void): () => void;
  /**
   * Opens a session with the card in `slot`. Every transmit on the channel is bounded by the
   * communication monitor's waiting time: no answer in time rejects with E_TRANSPORT_TIMEOUT.
   * Rejects with E_CARD_ABSENT or E_READER_UNAVAILABLE when there is nothing to talk to.
   */
  connect(slot: SlotName): Promise<CardChannel>;
  close(): Promise<void>;
}
