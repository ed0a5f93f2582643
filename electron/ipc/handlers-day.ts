// The contract's end-of-day and shop channels: the shop and its clock, the Z report of a business
// day, and the report exported as a file (handed to the host's DocumentDelivery).
import type { TerminalConfig } from '../services/config.js';
import type { DayReports } from '../services/reports/day-summary.js';
import type { DocumentDelivery } from './document-delivery.js';
import type { Handlers } from './handlers.js';

export interface DayServices {
  config: Pick<TerminalConfig, 'currencyCode' | 'minorUnits' | 'locale' | 'shop'>;
  reports: { day: DayReports };
  files: DocumentDelivery;
}

export function dayHandlers(s: DayServices): Pick<Handlers, 'terminal:info' | 'day:report' | 'day:export'> {
  return {
    'terminal:info': async () => ({
      shop: { ...s.config.shop },
      money: {
        currencyCode: s.config.currencyCode,
        minorUnits: s.config.minorUnits,
        locale: s.config.locale,
      },
      today: s.reports.day.today(),
    }),
    'day:report': async ({ day }) => s.reports.day.summary(day),
    'day:export': async ({ day, format }) => s.files.deliver(await s.reports.day.export(day, format)),
  };
}
