// The demo card tray over simulated slots: each card in one place at a time, moves as a hand makes
// them, refusals that move nothing, and the slots' own events (so the engines see a pulled card).
import { describe, expect, it } from 'vitest';
import { createCardTray } from '../../../electron/services/slots/card-tray.js';
import type { SlotEvent } from '../../../electron/services/slots/reader-slots.js';
import { createSimulatedSlots } from '../../../electron/services/slots/simulated-slots.js';
import type { VirtualCard } from '../../../protocol/virtual-card.js';

const card = (n: number): VirtualCard => ({
  atr: Uint8Array.of(0x3b, n),
  powerUp: () => undefined,
  powerDown: () => undefined,
  reset: () => undefined,
  transmit: () => Uint8Array.of(0x90, 0x00),
});

function tray() {
  const slots = createSimulatedSlots({ waitingTimeMs: 100 });
  const cards = { alice: card(1), shop: card(2), bob: card(3) };
  slots.insert('payer', cards.alice);
  slots.insert('payee', cards.shop);
  const events: SlotEvent[] = [];
  slots.on((e) => events.push(e));
  const t = createCardTray(slots, [
    { id: 'alice', label: 'Alice', note: 'the first customer', card: cards.alice },
    { id: 'shop', label: 'Corner Shop', note: 'the shop', card: cards.shop },
    { id: 'bob', label: 'Bob', note: 'a second customer', card: cards.bob },
  ]);
  return { slots, cards, events, t };
}
const places = (t: ReturnType<typeof tray>['t']) => Object.fromEntries(t.cards().map((c) => [c.id, c.place]));

describe('the demo card tray', () => {
  it('knows where each card is, from the slots themselves', () => {
    const { t } = tray();
    expect(places(t)).toEqual({ alice: 'payer', shop: 'payee', bob: 'tray' });
  });

  it('takes a card out and puts another in, through the slots (their events fire)', () => {
    const { t, slots, cards, events } = tray();
    t.move('alice', 'tray');
    t.move('bob', 'payer');
    expect(places(t)).toEqual({ alice: 'tray', shop: 'payee', bob: 'payer' });
    expect(slots.card('payer')).toBe(cards.bob);
    expect(events.map((e) => `${e.type} ${'slot' in e ? e.slot : ''}`)).toEqual([
      'card-removed payer',
      'card-inserted payer',
    ]);
  });

  it('moves a card from one slot straight to the other when it is empty', () => {
    const { t } = tray();
    t.move('shop', 'tray');
    t.move('alice', 'payee');
    expect(places(t)).toEqual({ alice: 'payee', shop: 'tray', bob: 'tray' });
  });

  it('refuses an occupied slot, an unknown card and an unknown place, moving nothing', () => {
    const { t, events } = tray();
    expect(() => t.move('bob', 'payer')).toThrow(expect.objectContaining({ code: 'E_INPUT_INVALID' }));
    expect(() => t.move('zed', 'tray')).toThrow(expect.objectContaining({ code: 'E_INPUT_INVALID' }));
    expect(() => t.move('bob', 'pocket' as never)).toThrow(
      expect.objectContaining({ code: 'E_INPUT_INVALID' }),
    );
    expect(places(t)).toEqual({ alice: 'payer', shop: 'payee', bob: 'tray' });
    expect(events).toEqual([]);
  });

  it('is a no-op for a card already where it should go', () => {
    const { t, events } = tray();
    t.move('alice', 'payer');
    t.move('bob', 'tray');
    expect(events).toEqual([]);
  });

  it('refuses the same card ID twice', () => {
    const slots = createSimulatedSlots({ waitingTimeMs: 100 });
    const c = card(1);
    expect(() =>
      createCardTray(slots, [
        { id: 'a', label: 'A', note: '', card: c },
        { id: 'a', label: 'B', note: '', card: card(2) },
      ]),
    ).toThrow(expect.objectContaining({ code: 'E_INPUT_INVALID' }));
  });
});
