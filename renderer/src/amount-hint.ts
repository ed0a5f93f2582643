// How amounts look in the configured locale, for the amount field's placeholder and help: the
// decimal separator of the locale, the currency's number of decimals.
import type { MoneyFormat } from '../../protocol/money-format.js';

/** "0.00" (en-IE), "0,00" (de-DE), "0" (a currency without minor units). */
export function amountPlaceholder(f: MoneyFormat): string {
  return new Intl.NumberFormat(f.locale, {
    minimumFractionDigits: f.minorUnits,
    maximumFractionDigits: f.minorUnits,
    useGrouping: false,
  }).format(0);
}

/** An example amount for the help text: 12.50 in the locale's way. */
export function amountExample(f: MoneyFormat): string {
  return new Intl.NumberFormat(f.locale, {
    minimumFractionDigits: f.minorUnits,
    maximumFractionDigits: f.minorUnits,
    useGrouping: false,
  }).format(12.5);
}
