// The renderer's copy of the money functions (renderer/src/money.ts) must behave exactly as the
// main process's electron/services/money-format.ts: what the screen accepts is what the CLI accepts.
import { describe, expect, it } from 'vitest';
import * as main from '../../electron/services/money-format.js';
import * as screen from '../../renderer/src/money.js';

const INPUTS = [
  '12.50',
  '12,5',
  '12',
  ' 7.05 ',
  '0',
  '0.00',
  '0.001',
  '12.505',
  '-1',
  '+1',
  '1e3',
  '1 000',
  '1.000,00',
  '',
  ' ',
  '.5',
  '5.',
  'abc',
  '999999999',
  '999999999.99',
  '42949672.95',
  '42949672.96',
  '１２',
  '12.5.0',
  '0012.30',
  '12;50',
  '\t3,10\n',
  'Infinity',
  'NaN',
  '0x10',
];

describe('renderer money parsing', () => {
  for (const minorUnits of [0, 2, 3]) {
    it(`agrees with the main process for ${minorUnits} minor units`, () => {
      for (const text of INPUTS) {
        expect(screen.parseMoney(text, { minorUnits }), JSON.stringify(text)).toBe(
          main.parseMoney(text, { minorUnits }),
        );
      }
    });
  }

  it('formats the same', () => {
    const f = { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' };
    for (const minor of [0, 1, 1250, 20000, 4294967295])
      expect(screen.formatMoney(minor, f)).toBe(main.formatMoney(minor, f));
  });

  it('has the same source text apart from its header comment', async () => {
    const { readFileSync } = await import('node:fs');
    const body = (p: string) => readFileSync(p, 'utf8').replace(/^(\/\/.*\n)+\n?/, '');
    expect(body('renderer/src/money.ts')).toBe(body('electron/services/money-format.ts'));
  });
});
