// A copy of electron/services/money-format.ts for the renderer (that module is Node-side);
// test/ui/money-parse.test.ts keeps the two identical in behaviour.

export interface MoneyFormat {
  currencyCode: string;
  minorUnits: number;
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
  return Number.isSafeInteger(minor) && minor <= 0xffffffff ? minor : undefined;
}
