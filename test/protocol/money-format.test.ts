import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../../protocol/money-format.js';

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

  it('formats minor units for the currency and locale', () => {
    expect(formatMoney(1250, eur)).toBe('€12.50');
    expect(formatMoney(500, jpy)).toMatch(/500/);
    expect(formatMoney(0, eur)).toBe('€0.00');
  });
});
