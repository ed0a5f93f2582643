// A Z report of a day without flows, for the IPC layer's fake services (no vitest: the soak runs the fuzzers too).
const line = (kind: 'sale' | 'total') => ({
  kind,
  label: kind,
  count: 0,
  notCompleted: 0,
  items: 0,
  valueIn: { minor: 0, text: '€0.00' },
  valueOut: { minor: 0, text: '€0.00' },
  net: { minor: 0, text: '€0.00' },
});

export const Z_REPORT = {
  reportNumber: 1,
  shopName: 'Corner Shop',
  terminalId: 'T-0001',
  businessDay: '2026-11-21',
  timeZone: 'Europe/Dublin',
  from: '21 Nov 2026 00:00:00 GMT+0',
  to: '22 Nov 2026 00:00:00 GMT+0',
  generatedAt: '21 Nov 2026 10:00:00 GMT+0',
  currencyCode: 'EUR',
  minorUnits: 2,
  kinds: [line('sale')],
  total: line('total'),
  operators: [],
  openInDoubt: [],
};
