// The end-of-day summary as CSV (RFC 4180: CRLF, quoted where needed) for the shop's bookkeeping.
// One column set for every row, the row's kind first: a row per direction (payer card → payee card),
// the day's total, the transfers that did not complete, and each open in-doubt item. Amounts appear
// twice: in minor units (exact, for machines) and as a plain decimal (no currency sign, no grouping).
import type { SettlementSummaryWire } from '../../electron/ipc/contract.js';
import type { MoneyFormat } from '../../protocol/money-format.js';

export const CSV_COLUMNS = [
  'record',
  'day',
  'payer_card',
  'payee_card',
  'count',
  'amount_minor',
  'amount',
  'currency',
  'flow_id',
  'since',
] as const;

type Row = Partial<Record<(typeof CSV_COLUMNS)[number], string | number>>;

/** 1250 with 2 minor units → "12.50"; exact for every safe integer (no floating point). */
export function plainAmount(minor: number, minorUnits: number): string {
  const digits = String(Math.abs(minor)).padStart(minorUnits + 1, '0');
  const whole = digits.slice(0, digits.length - minorUnits);
  const fraction = minorUnits > 0 ? `.${digits.slice(-minorUnits)}` : '';
  return `${minor < 0 ? '-' : ''}${whole}${fraction}`;
}

/** Quotes a field when it needs it; a leading formula character is defused for spreadsheets. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function summaryCsv(s: SettlementSummaryWire, money: MoneyFormat): string {
  const amount = (minor: number): Row => ({
    amount_minor: minor,
    amount: plainAmount(minor, money.minorUnits),
    currency: money.currencyCode,
  });
  const rows: Row[] = [
    ...s.directions.map((d) => ({
      record: 'direction',
      day: s.day,
      payer_card: d.payerId,
      payee_card: d.payeeId,
      count: d.count,
      ...amount(d.total),
    })),
    { record: 'total', day: s.day, count: s.count, ...amount(s.total) },
    { record: 'not-completed', day: s.day, count: s.notCompleted },
    ...s.inDoubt.map((i) => ({
      record: 'in-doubt',
      day: s.day,
      payer_card: i.payerId,
      payee_card: i.payeeId,
      count: 1,
      ...amount(i.amount),
      flow_id: i.flowId,
      since: i.startedAt,
    })),
  ];
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => csvField(r[c])).join(','))]
    .map((line) => `${line}\r\n`)
    .join('');
}

export function summaryFileName(s: Pick<SettlementSummaryWire, 'day'>): string {
  return `settlement-${s.day}.csv`;
}
