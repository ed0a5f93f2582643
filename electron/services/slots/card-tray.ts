// The demo card tray: the simulated cards of a demo shop, each either in a slot or on the tray beside
// the terminal, moved by hand from the operator screen (take a card out, put it back, put another
// customer's card in) so that every interruption and refusal can be shown without a reader. It moves
// cards only through the running terminal's simulated slots and holds the cards those slots were
// given: a card file is opened once per process, never a second time (a simulated card is one
// program per card, as a real card is one chip). Real readers have no tray: the hosts build one only
// over simulated slots.
import { TerminalError } from '../../../protocol/errors.js';
import type { VirtualCard } from '../../../protocol/virtual-card.js';
import { SLOT_NAMES, type SlotName } from './reader-slots.js';
import type { SimulatedSlots } from './simulated-slots.js';

export interface TrayCard {
  id: string;
  /** The holder's name as the card's certificate gives it. */
  label: string;
  /** What it shows: "a second customer", "an expired card"… */
  note: string;
  card: VirtualCard;
}

export type TrayPlace = SlotName | 'tray';

export interface TrayCardView {
  id: string;
  label: string;
  note: string;
  place: TrayPlace;
}

export interface CardTray {
  /** Every demo card and where it is now. */
  cards(): TrayCardView[];
  /**
   * Moves a card: into an empty slot, or out of its slot onto the tray (the card loses power, as one
   * pulled from a reader). E_INPUT_INVALID for an unknown card or a slot that holds another card.
   */
  move(id: string, to: TrayPlace): TrayCardView[];
}

export function createCardTray(slots: SimulatedSlots, cards: readonly TrayCard[]): CardTray {
  const byId = new Map<string, TrayCard>();
  for (const c of cards) {
    if (byId.has(c.id)) throw new TerminalError('E_INPUT_INVALID', `demo card "${c.id}" is listed twice`);
    byId.set(c.id, c);
  }
  const placeOf = (c: TrayCard): TrayPlace => SLOT_NAMES.find((s) => slots.card(s) === c.card) ?? 'tray';
  const cardsNow = () => cards.map((c) => ({ id: c.id, label: c.label, note: c.note, place: placeOf(c) }));

  return {
    cards: cardsNow,
    move(id, to) {
      const c = byId.get(id);
      if (!c) throw new TerminalError('E_INPUT_INVALID', `there is no demo card "${id}"`, { card: id });
      if (to !== 'tray' && !SLOT_NAMES.includes(to)) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          'a card goes into the payer or payee slot, or onto the tray',
        );
      }
      const from = placeOf(c);
      if (from === to) return cardsNow();
      if (to !== 'tray' && slots.card(to)) {
        throw new TerminalError('E_INPUT_INVALID', `the ${to} slot holds another card: take it out first`, {
          slot: to,
        });
      }
      if (from !== 'tray') slots.remove(from);
      if (to !== 'tray') slots.insert(to, c.card);
      return cardsNow();
    },
  };
}
