// The end-of-day CSV: exact amounts (no floating point), RFC 4180 quoting, spreadsheet formulas
// defused, one row per direction, the day's total, the not-completed count and each in-doubt item.
import { describe, expect, it } from 'vitest';
import { csvField, plainAmount, summaryCsv, summaryFileName } from '../../renderer/src/summary-csv.js';

const EUR = { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' };

describe('end-of-day CSV', () => {
  it('writes amounts exactly, for any number of minor units', () => {
    expect(plainAmount(0, 2)).toBe('0.00');
    expect(plainAmount(5, 2)).toBe('0.05');
    expect(plainAmount(1250, 2)).toBe('12.50');
    expect(plainAmount(4294967295, 2)).toBe('42949672.95');
    expect(plainAmount(4294967295, 3)).toBe('4294967.295');
    expect(plainAmount(7, 0)).toBe('7');
    expect(plainAmount(-305, 2)).toBe('-3.05');
    expect(plainAmount(Number.MAX_SAFE_INTEGER, 2)).toBe('90071992547409.91');
  });

  it('quotes what needs quoting and defuses formulas', () => {
    expect(csvField(undefined)).toBe('');
    expect(csvField(12)).toBe('12');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@sum')).toBe("'@sum");
  });

  it('has a row per direction, the total, the not-completed count and each in-doubt item', () => {
    const csv = summaryCsv(
      {
        day: '2026-11-21',
        directions: [
          { payerId: 'AA', payeeId: 'BB', count: 2, total: 350 },
          { payerId: 'CC', payeeId: 'BB', count: 1, total: 50 },
        ],
        count: 3,
        total: 400,
        notCompleted: 1,
        inDoubt: [
          {
            flowId: 'f9',
            payerId: 'AA',
            payeeId: 'DD',
            amount: 100,
            currency: 978,
            lastStep: 'interrupted',
            startedAt: '2026-11-20T17:00:00.000Z',
            updatedAt: '2026-11-20T17:00:01.000Z',
          },
        ],
      },
      EUR,
    );
    expect(csv.split('\r\n')).toEqual([
      'record,day,payer_card,payee_card,count,amount_minor,amount,currency,flow_id,since',
      'direction,2026-11-21,AA,BB,2,350,3.50,EUR,,',
      'direction,2026-11-21,CC,BB,1,50,0.50,EUR,,',
      'total,2026-11-21,,,3,400,4.00,EUR,,',
      'not-completed,2026-11-21,,,1,,,,,',
      'in-doubt,2026-11-21,AA,DD,1,100,1.00,EUR,f9,2026-11-20T17:00:00.000Z',
      '',
    ]);
    expect(summaryFileName({ day: '2026-11-21' })).toBe('settlement-2026-11-21.csv');
  });

  it('still has the total and not-completed rows on a day without payments', () => {
    const csv = summaryCsv(
      { day: '2026-11-22', directions: [], count: 0, total: 0, notCompleted: 0, inDoubt: [] },
      { currencyCode: 'JPY', minorUnits: 0, locale: 'ja-JP' },
    );
    expect(csv.split('\r\n').slice(1, 3)).toEqual([
      'total,2026-11-22,,,0,0,0,JPY,,',
      'not-completed,2026-11-22,,,0,,,,,',
    ]);
  });
});
