// What a card shows through an owner login, kept from every screen but the one that opened it
// (services/settlement/owner-logins.ts): to another screen the card reads as if no PIN had been given —
// no balance (unless an issuer session shows it), no owner-only bodies, not "owner logged in".
import type { ListedItem } from '../../protocol/settlement/contents-codec.js';
import { bodyVisible } from '../services/contents/card-to-card-session.js';
import type { CardViewWire, ContentListingWire } from './contract.js';
import type { HandlerServices } from './handlers.js';

type Services = Pick<HandlerServices, 'ownerLogins' | 'contents'>;

/** Whether the card in the slot granted its issuer card issuer access (which shows the balance too). */
function issuerSession(s: Services, slot: CardViewWire['slot']): boolean {
  return s.contents.currentSession()?.[slot]?.level === 'issuer';
}

export function maskViewForScreen(s: Services, view: CardViewWire, screen: string): CardViewWire {
  if (!view.ownerLoggedIn || s.ownerLogins.shownTo(view.slot, screen)) return view;
  const masked = { ...view, ownerLoggedIn: false };
  if (!issuerSession(s, view.slot)) {
    masked.balance = undefined;
    masked.maxBalance = undefined;
    masked.availableBalance = undefined;
  }
  return masked;
}

export function maskListingForScreen(
  s: Services,
  listing: ContentListingWire,
  screen: string,
): ContentListingWire {
  if (!listing.access.owner || s.ownerLogins.shownTo(listing.slot, screen)) return listing;
  const access = { ...listing.access, owner: false };
  return {
    ...listing,
    access,
    items: listing.items.map((i) => {
      // The listing's policy is the card's own (a ContentPolicy); the wire types it as a string.
      if (i.body === undefined || bodyVisible(access, i as Pick<ListedItem, 'policy' | 'issuerId'>)) return i;
      const { body: _hidden, ...rest } = i;
      return rest;
    }),
  };
}
