// The shop's clock for every time on the screen: its time zone (from the terminal's configuration,
// not the browser's) and its locale. Provided once by App; components format with useShopTime().
import { createContext, useContext } from 'react';
import { localDateTime } from './local-time.js';

export interface ShopClock {
  locale: string;
  timeZone: string;
}

export const ShopClockContext = createContext<ShopClock>({ locale: 'en-IE', timeZone: 'UTC' });

/** Formats an ISO instant on the shop's clock, with the offset ("21 Nov 2026, 17:05:09 GMT+1"). */
export function useShopTime(): (iso: string) => string {
  const { locale, timeZone } = useContext(ShopClockContext);
  return (iso) => localDateTime(iso, locale, timeZone);
}
