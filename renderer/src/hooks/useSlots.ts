// The two card slots as the screen shows them: presence (live, from card events), the card as read
// at its current access level, its contents as that level allows, and the owner and issuer sessions.
import { useCallback, useEffect, useState } from 'react';
import type {
  CardViewWire,
  ContentListingWire,
  ErrorInfo,
  MoneyFormatWire,
  SlotNameWire,
  SlotStatusWire,
} from '../../../electron/ipc/contract.js';
import type { TerminalApi } from '../terminal-api.js';
import type { CardQueue } from './useCardQueue.js';

export interface SlotState {
  status?: SlotStatusWire;
  view?: CardViewWire;
  error?: ErrorInfo;
  contents?: ContentListingWire;
  contentsError?: ErrorInfo;
  /** The last owner-PIN or session refusal on this card, and what was asked. */
  sessionError?: ErrorInfo;
  sessionAction?: 'pin' | 'issuer' | 'logout';
}

export type SlotsState = Record<SlotNameWire, SlotState>;

const DEFAULT_MONEY: MoneyFormatWire = { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' };
const SLOTS: readonly SlotNameWire[] = ['payer', 'payee'];

export function useSlots(api: TerminalApi, queued: CardQueue) {
  const [money, setMoney] = useState<MoneyFormatWire>(DEFAULT_MONEY);
  const [slots, setSlots] = useState<SlotsState>({ payer: {}, payee: {} });

  const patch = useCallback((slot: SlotNameWire, p: Partial<SlotState>) => {
    setSlots((s) => ({ ...s, [slot]: { ...s[slot], ...p } }));
  }, []);

  /** Reads the card in `slot` and its contents, as the card's access level shows them. */
  const readSlot = useCallback(
    async (slot: SlotNameWire) => {
      const card = await queued('reads', () => api.call('cards:read', { slot }));
      if (!card.ok) {
        patch(slot, { view: undefined, error: card.error, contents: undefined, contentsError: undefined });
        return;
      }
      patch(slot, { view: card.value, error: undefined });
      const listing = await queued('reads', () => api.call('contents:list', { slot }));
      if (listing.ok) patch(slot, { contents: listing.value, contentsError: undefined });
      else patch(slot, { contents: undefined, contentsError: listing.error });
    },
    [api, queued, patch],
  );

  /** Presence of both slots, then every present card read afresh. */
  const refreshSlots = useCallback(async () => {
    const status = await api.call('slots:status');
    if (!status.ok) return;
    setMoney(status.value.money);
    for (const s of status.value.slots) patch(s.slot, { status: s });
    for (const s of status.value.slots) {
      if (s.cardPresent) await readSlot(s.slot);
      else
        patch(s.slot, { view: undefined, error: undefined, contents: undefined, contentsError: undefined });
    }
  }, [api, patch, readSlot]);

  useEffect(() => {
    void refreshSlots();
    const offs = [
      api.on('card-inserted', (s) => {
        patch(s.slot, { status: s, sessionError: undefined });
        void readSlot(s.slot);
      }),
      // A lost link: nothing is known of the readers until it is back, then everything is read again.
      api.onConnection((up) => {
        if (up) void refreshSlots();
        else setSlots({ payer: {}, payee: {} });
      }),
      api.on('card-removed', (s) => {
        patch(s.slot, {
          status: s,
          view: undefined,
          error: undefined,
          contents: undefined,
          contentsError: undefined,
          sessionError: undefined,
        });
      }),
      // The terminal ended an owner login (after a sale, at the lock, when its screen went): the
      // card shows what it shows without it.
      api.on('owner-logout', ({ slot }) => void readSlot(slot)),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [api, patch, readSlot, refreshSlots]);

  /** Owner mode by PIN; true when the card accepted it. */
  const login = useCallback(
    async (slot: SlotNameWire, pin: string): Promise<boolean> => {
      const r = await queued('changes', () => api.call('session:login', { slot, pin }));
      if (!r.ok) {
        patch(slot, { sessionError: r.error, sessionAction: 'pin' });
        // The card counted the try: read what it says now (tries left, or blocked).
        await readSlot(slot);
        return false;
      }
      patch(slot, { view: r.value, sessionError: undefined, error: undefined });
      await readSlot(slot);
      return true;
    },
    [api, queued, patch, readSlot],
  );

  /** Ends owner mode and the card-to-card session on the card in `slot`. */
  const logout = useCallback(
    async (slot: SlotNameWire) => {
      const r = await queued('changes', () => api.call('session:logout', { slot }));
      patch(slot, { sessionError: r.ok ? undefined : r.error, sessionAction: 'logout' });
      for (const s of SLOTS) await readSlot(s);
    },
    [api, queued, patch, readSlot],
  );

  /**
   * Issuer access to the card in `slot`: the cards authenticate each other, this card requiring the
   * other to be its issuer card. Both cards are read again (the session changes what each shows).
   */
  const openIssuerSession = useCallback(
    async (slot: SlotNameWire) => {
      const r = await queued('changes', () =>
        api.call(
          'session:authenticate',
          slot === 'payer' ? { payerMode: 'issuer' } : { payeeMode: 'issuer' },
        ),
      );
      patch(slot, { sessionError: r.ok ? undefined : r.error, sessionAction: 'issuer' });
      for (const s of SLOTS) await readSlot(s);
    },
    [api, queued, patch, readSlot],
  );

  return { money, slots, refreshSlots, readSlot, login, logout, openIssuerSession };
}
