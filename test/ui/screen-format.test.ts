// How the screen writes amounts, hints and contents for the configured currency and locale.
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../../protocol/money-format.js';
import { amountExample, amountPlaceholder } from '../../renderer/src/amount-hint.js';
import {
  bodyText,
  formatValidity,
  holderLabel,
  maybeMoney,
  sentence,
  shortId,
} from '../../renderer/src/format.js';

const hex = (text: string) => Buffer.from(text).toString('hex').toUpperCase();

describe('screen formatting', () => {
  it('formats amounts for the configured currency and locale', () => {
    expect(formatMoney(1250, { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' })).toBe('€12.50');
    expect(formatMoney(1250, { currencyCode: 'EUR', minorUnits: 2, locale: 'de-DE' })).toBe('12,50\u00a0€');
    expect(formatMoney(1250, { currencyCode: 'JPY', minorUnits: 0, locale: 'ja-JP' })).toMatch(
      /^[¥￥]1,250$/,
    );
    expect(formatMoney(123456, { currencyCode: 'CHF', minorUnits: 2, locale: 'de-CH' })).toMatch(
      /^CHF.1.234\.56$/,
    );
  });

  it('shows the amount field’s placeholder and example in the locale’s way', () => {
    expect(amountPlaceholder({ currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' })).toBe('0.00');
    expect(amountPlaceholder({ currencyCode: 'EUR', minorUnits: 2, locale: 'de-DE' })).toBe('0,00');
    expect(amountPlaceholder({ currencyCode: 'JPY', minorUnits: 0, locale: 'ja-JP' })).toBe('0');
    expect(amountExample({ currencyCode: 'EUR', minorUnits: 2, locale: 'fr-FR' })).toBe('12,50');
    expect(amountExample({ currencyCode: 'KWD', minorUnits: 3, locale: 'en-GB' })).toBe('12.500');
  });

  it('never shows a masked balance as a number', () => {
    expect(maybeMoney(undefined, { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' })).toBe(
      '•••• (hidden)',
    );
    expect(maybeMoney(0, { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' })).toBe('€0.00');
  });

  it('shows a content body as text when it is printable UTF-8, else as hex', () => {
    expect(bodyText(hex('seat B12'))).toBe('seat B12');
    expect(bodyText(hex('Platz für 2'))).toBe('Platz für 2');
    expect(bodyText('00FF10')).toBe('00FF10');
    expect(bodyText(hex('line\nbreak'))).toBe(hex('line\nbreak'));
    expect(bodyText('AB'.repeat(40))).toBe(`${'AB'.repeat(12)}…`);
    expect(bodyText('')).toBe('');
  });

  it('turns a service message into a sentence without touching an address at its start', () => {
    expect(sentence('wrong PIN on the payer card: 2 tries left')).toBe(
      'Wrong PIN on the payer card: 2 tries left.',
    );
    expect(sentence('Done.')).toBe('Done.');
    expect(sentence('http://127.0.0.1:80/ca.crl answered HTTP 503')).toBe(
      'http://127.0.0.1:80/ca.crl answered HTTP 503.',
    );
    expect(sentence('')).toBe('');
  });

  it('writes card facts briefly', () => {
    expect(shortId('00112233445566778899AABBCCDDEEFF')).toBe('00112233…');
    expect(shortId('AABB')).toBe('AABB');
    expect(holderLabel('CN=Corner Shop,O=Demo Transit')).toBe('Corner Shop');
    expect(holderLabel('O=No Name')).toBe('O=No Name');
    expect(formatValidity('20301231')).toBe('2030-12-31');
  });
});
