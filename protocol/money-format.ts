// Amounts are integers in minor units everywhere; only display turns them into currency text. One
// module for every operator surface: the screen (the renderer bundles it, so it is pure), the
// terminal CLI and the console. What the screen accepts is what the CLI accepts.
import { MAX_AMOUNT } from './amount.js';

/** The configured currency display (the contract's `money` of slots:status). */
export interface MoneyFormat {
  /** ISO 4217 alphabetic code, e.g. EUR. */
  currencyCode: string;
  /** Digits after the decimal point (2 for EUR, 0 for JPY). */
  minorUnits: number;
  /** BCP 47 locale of the display, e.g. en-IE. */
  locale: string;
}

export function formatMoney(minor: number, f: MoneyFormat): string {
  const major = minor / 10 ** f.minorUnits;
  return new Intl.NumberFormat(f.locale, {
    style: 'currency',
    currency: f.currencyCode,
    minimumFractionDigits: f.minorUnits,
    maximumFractionDigits: f.minorUnits,
  }).format(major);
}

/** Parses operator input such as "12.50" or "12,5" into minor units; undefined when not a valid amount. */
export function parseMoney(text: string, f: Pick<MoneyFormat, 'minorUnits'>): number | undefined {
  const m = /^\s*(\d{1,9})(?:[.,](\d+))?\s*$/.exec(text);
  if (!m) return undefined;
  const fraction = m[2] ?? '';
  if (fraction.length > f.minorUnits) return undefined;
  const minor = Number(m[1]) * 10 ** f.minorUnits + Number(fraction.padEnd(f.minorUnits, '0') || '0');
  return Number.isSafeInteger(minor) && minor <= MAX_AMOUNT ? minor : undefined;
}
