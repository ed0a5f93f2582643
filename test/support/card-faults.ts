// Faults on a content command between the terminal and a simulated card in a reader: the
// communication monitor's timeout before or after the card acted, or the card pulled before or after.
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import type { TerminalUnderTest } from './terminal-fixtures.js';

export type Fault = 'timeout-before-card' | 'timeout-after-card' | 'pulled-before' | 'pulled-after';
export const FAULTS: Fault[] = ['timeout-before-card', 'timeout-after-card', 'pulled-before', 'pulled-after'];

/** Arms one fault on the first content command `ins` sent to the card in `slot`. */
export function arm(t: TerminalUnderTest, slot: SlotName, ins: number, fault: Fault): () => boolean {
  let fired = false;
  const once = (apdu: Uint8Array) => {
    if (fired || apdu[0] !== 0x80 || apdu[1] !== ins) return false;
    fired = true;
    return true;
  };
  if (fault === 'timeout-before-card') t.slots.stall(slot, { when: once });
  else if (fault === 'timeout-after-card') t.slots.stallAfterCard(slot, { when: once });
  else {
    const os: VirtualCard = t.cards[slot].os;
    const transmit = os.transmit.bind(os);
    os.transmit = (apdu) => {
      if (!once(apdu)) return transmit(apdu);
      if (fault === 'pulled-after') transmit(apdu);
      queueMicrotask(() => t.slots.remove(slot));
      return new Uint8Array(0);
    };
  }
  return () => fired;
}

export function presentAgain(t: TerminalUnderTest): void {
  for (const slot of ['payer', 'payee'] as const) {
    t.slots.clearFaults(slot);
    if (!t.slots.card(slot)) t.slots.insert(slot, t.cards[slot].os);
  }
}
