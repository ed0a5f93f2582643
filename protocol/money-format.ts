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

/** Why a text is not an amount the cards can move. */
export type AmountProblem = 'empty' | 'format' | 'decimals' | 'zero' | 'too-large';

export type AmountReading = { ok: true; minor: number } | { ok: false; problem: AmountProblem };

const SPACE_LIKE = /[\u0020\u00a0\u2007\u2009\u202f]/g;
const IS_SPACE_LIKE = /^[\u0020\u00a0\u2007\u2009\u202f]$/;

/** The locale's group and decimal separators ("," and "." in en-IE, "." and "," in de-DE). */
export function separators(locale: string): { group: string; decimal: string } {
  const parts = new Intl.NumberFormat(locale, { useGrouping: true }).formatToParts(1234567.5);
  const group = parts.find((p) => p.type === 'group')?.value ?? ',';
  const decimal = parts.find((p) => p.type === 'decimal')?.value ?? '.';
  // Locales that group with a (narrow, no-break) space: any of those spaces is taken.
  return { group: IS_SPACE_LIKE.test(group) ? ' ' : group, decimal };
}

const literal = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Reads operator input as minor units, the way the screen writes amounts: digits with the locale's
 * group separators and decimal separator ("1,000.00" in en-IE, "1.000,00" in de-DE), or plain
 * digits with either "." or "," before the decimals ("12.50", "12,5"). Grouping wins where both
 * fit ("1,000" is a thousand in en-IE). Says why it is not an amount: too many decimals, zero, or
 * more than a card's purse can move. Exact: no floating point.
 */
export function readAmount(
  text: string,
  f: Pick<MoneyFormat, 'minorUnits'> & Partial<Pick<MoneyFormat, 'locale'>>,
): AmountReading {
  const t = text.replace(SPACE_LIKE, ' ').trim();
  if (t === '') return { ok: false, problem: 'empty' };
  let whole: string | undefined;
  let fraction = '';
  if (f.locale) {
    const { group, decimal } = separators(f.locale);
    const grouped = new RegExp(`^(\\d{1,3}(?:${literal(group)}\\d{3})+)(?:${literal(decimal)}(\\d+))?$`).exec(
      t,
    );
    if (grouped) {
      whole = grouped[1]!.split(group).join('');
      fraction = grouped[2] ?? '';
    }
  }
  if (whole === undefined) {
    const plain = /^(\d+)(?:[.,](\d+))?$/.exec(t);
    if (!plain) return { ok: false, problem: 'format' };
    whole = plain[1]!;
    fraction = plain[2] ?? '';
  }
  if (fraction.length > f.minorUnits) return { ok: false, problem: 'decimals' };
  const minor =
    BigInt(whole) * 10n ** BigInt(f.minorUnits) + BigInt(fraction.padEnd(f.minorUnits, '0') || '0');
  if (minor === 0n) return { ok: false, problem: 'zero' };
  if (minor > BigInt(MAX_AMOUNT)) return { ok: false, problem: 'too-large' };
  return { ok: true, minor: Number(minor) };
}

/** readAmount() as a number, or undefined when the text is not an amount. */
export function parseMoney(
  text: string,
  f: Pick<MoneyFormat, 'minorUnits'> & Partial<Pick<MoneyFormat, 'locale'>>,
): number | undefined {
  const r = readAmount(text, f);
  return r.ok ? r.minor : undefined;
}
