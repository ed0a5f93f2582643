// Whose owner login is open on each card: a card holder's PIN is given on one screen (a window of
// the Electron app, a tab of the browser host), and what it opens — the balance, the holder's
// contents — belongs to that screen alone. Another screen, a new tab, or the same tab reloaded sees
// the card as if no PIN had been given. The login ends on the card (SESSION END) after each completed
// sale when the configuration says so, when the card leaves its slot, when the operator locks or signs
// out, and when the screen that opened it goes away; every screen is told (the 'owner-logout' event).
import { isTerminalError } from '../../../protocol/errors.js';
import type { ReaderSlots, SlotName } from '../slots/reader-slots.js';

export interface OwnerLogins {
  /** The screen `screen` verified the holder's PIN on the card in `slot`. */
  opened(slot: SlotName, screen: string): void;
  /** The screen that opened the login on the card in `slot`, if any is open. */
  owner(slot: SlotName): string | undefined;
  /** Whether `screen` may see what the login on the card in `slot` shows (true when none is open). */
  shownTo(slot: SlotName, screen: string): boolean;
  /** Ends the logins on the cards in `slots` (absent cards have lost theirs already); tells every screen. */
  end(slots: readonly SlotName[]): Promise<void>;
  /** The login on the card in `slot` was ended by hand (Log out): forget it and tell every screen. */
  ended(slot: SlotName): void;
  /** Ends every login the screen opened: it was closed, reloaded or lost its connection. */
  screenGone(screen: string): Promise<void>;
  /** Listens for ended logins; returns the unsubscribe function. */
  on(listener: (slot: SlotName) => void): () => void;
  close(): void;
}

export interface OwnerLoginsOptions {
  /** Ends owner mode and any card-to-card session on the card in a slot (ContentEngine.logout). */
  logout(slot: SlotName): Promise<void>;
  slots: Pick<ReaderSlots, 'on'>;
  /** How long to wait for another card operation to finish before logging out (default 15 s). */
  busyWaitMs?: number;
}

export function createOwnerLogins(o: OwnerLoginsOptions): OwnerLogins {
  const owners = new Map<SlotName, string>();
  const listeners = new Set<(slot: SlotName) => void>();
  const tell = (slot: SlotName) => {
    for (const l of [...listeners]) {
      try {
        l(slot);
      } catch {
        // a listener's failure is its own
      }
    }
  };
  // A card pulled or put in: the card lost power, and with it owner mode.
  const unsubscribe = o.slots.on((e) => {
    if (e.type === 'card-removed' || e.type === 'card-inserted') owners.delete(e.slot);
    else if (e.type === 'service-lost' || e.type === 'service-restored') owners.clear();
  });

  /** SESSION END on the card, waiting out another operation; an absent card has nothing to end. */
  const logout = async (slot: SlotName) => {
    const deadline = Date.now() + (o.busyWaitMs ?? 15_000);
    for (;;) {
      try {
        await o.logout(slot);
        return;
      } catch (e) {
        if (isTerminalError(e, 'E_BUSY') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        // No card, no reader, or a broken channel: the card session (and owner mode) is gone anyway.
        return;
      }
    }
  };

  const ended = (slot: SlotName) => {
    owners.delete(slot);
    tell(slot);
  };
  const end = async (slots: readonly SlotName[]) => {
    for (const slot of slots) {
      owners.delete(slot);
      await logout(slot);
      ended(slot);
    }
  };

  return {
    opened(slot, screen) {
      owners.set(slot, screen);
    },
    owner: (slot) => owners.get(slot),
    shownTo(slot, screen) {
      const owner = owners.get(slot);
      return owner === undefined || owner === screen;
    },
    end,
    ended,
    async screenGone(screen) {
      await end([...owners].filter(([, s]) => s === screen).map(([slot]) => slot));
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      unsubscribe();
      listeners.clear();
    },
  };
}
