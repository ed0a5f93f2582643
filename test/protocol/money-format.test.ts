import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney, readAmount } from '../../protocol/money-format.js';

const eur = { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' };
const jpy = { currencyCode: 'JPY', minorUnits: 0, locale: 'ja-JP' };

describe('money', () => {
  it('parses operator input into minor units, refusing anything ambiguous', () => {
    expect(parseMoney('12.50', eur)).toBe(1250);
    expect(parseMoney('12,5', eur)).toBe(1250);
    expect(parseMoney(' 7 ', eur)).toBe(700);
    expect(parseMoney('0.01', eur)).toBe(1);
    expect(parseMoney('500', jpy)).toBe(500);
    // The largest amount a purse holds, and one minor unit more.
    expect(parseMoney('42949672.95', eur)).toBe(4294967295);
    expect(parseMoney('42949672.96', eur)).toBeUndefined();
    for (const bad of ['', 'abc', '-1', '1.234', '1e3', '12.', '.5', '1 000', '99999999999', '5.0'].map(
      (x) => [x, x === '5.0' ? jpy : eur] as const,
    )) {
      expect(parseMoney(bad[0], bad[1]), bad[0]).toBeUndefined();
    }
  });

  it('takes what the screen displays: the locale’s group separators, in en-IE, de-DE and fr-FR', () => {
    const de = { currencyCode: 'EUR', minorUnits: 2, locale: 'de-DE' };
    const fr = { currencyCode: 'EUR', minorUnits: 2, locale: 'fr-FR' };
    expect(parseMoney('1,000.00', eur)).toBe(100_000);
    expect(parseMoney('1,234,567.89', eur)).toBe(123_456_789);
    expect(parseMoney('1,000', eur)).toBe(100_000);
    expect(parseMoney('1.000,00', de)).toBe(100_000);
    expect(parseMoney('1.000', de)).toBe(100_000);
    expect(parseMoney('2.25', de)).toBe(225);
    expect(parseMoney('2,25', de)).toBe(225);
    // fr-FR groups with a narrow no-break space, as formatMoney writes it; a plain space is taken too.
    expect(parseMoney(formatMoney(100_050, fr).replace(/[^\d\s\u202f,]/g, ''), fr)).toBe(100_050);
    expect(parseMoney('1 000,50', fr)).toBe(100_050);
    // What the screen displays, read back, for amounts across the range.
    for (const minor of [1, 99, 1000, 100_000, 123_456_789, 4_294_967_295]) {
      for (const f of [eur, de, fr]) {
        const shown = formatMoney(minor, f)
          .replace(/[^\d\s\u00a0\u202f.,]/g, '')
          .trim();
        expect(parseMoney(shown, f), `${shown} (${f.locale})`).toBe(minor);
      }
    }
    // Mixed or broken grouping is refused, not guessed.
    for (const bad of ['1.000,00', '1,00,000', '10,00', '1,0000.00', ',100'])
      expect(parseMoney(bad, eur), bad).toBe(bad === '10,00' ? 1000 : undefined);
  });

  it('says why a text is not an amount: format, decimals, zero, too large', () => {
    expect(readAmount('', eur)).toEqual({ ok: false, problem: 'empty' });
    expect(readAmount('abc', eur)).toEqual({ ok: false, problem: 'format' });
    expect(readAmount('1.234', eur)).toEqual({ ok: false, problem: 'decimals' });
    expect(readAmount('0.00', eur)).toEqual({ ok: false, problem: 'zero' });
    expect(readAmount('99999999', eur)).toEqual({ ok: false, problem: 'too-large' });
    expect(readAmount('42,949,672.96', eur)).toEqual({ ok: false, problem: 'too-large' });
    expect(readAmount('9'.repeat(40), eur)).toEqual({ ok: false, problem: 'too-large' });
    expect(readAmount('42,949,672.95', eur)).toEqual({ ok: true, minor: 4_294_967_295 });
  });

  it('formats minor units for the currency and locale', () => {
    expect(formatMoney(1250, eur)).toBe('€12.50');
    expect(formatMoney(500, jpy)).toMatch(/500/);
    expect(formatMoney(0, eur)).toBe('€0.00');
  });
});
