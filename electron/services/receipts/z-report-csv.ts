// The Z report as CSV for the shop's bookkeeping: RFC 4180 (CRLF, quoted where needed) through
// csv-stringify, one header and one column set for every row, in an order that never changes (new
// columns only ever go at the end). Amounts appear twice: in minor units (exact, for machines) and as
// a plain decimal without currency sign or grouping (for people and spreadsheets). Rows: one per kind,
// the total (the sum of the kind rows), per operator a row per kind and the operator's total, then
// each open in-doubt item (its e-money in flight, since when: an ISO instant in UTC). Text that a spreadsheet would run as a formula is defused.
import { stringify } from 'csv-stringify/sync';
import type { Amount, ZLine, ZReport } from './z-report.js';

export const Z_CSV_COLUMNS = [
  'record',
  'business_day',
  'report_number',
  'terminal_id',
  'operator_id',
  'operator_name',
  'kind',
  'count',
  'not_completed',
  'items',
  'value_in_minor',
  'value_in',
  'value_out_minor',
  'value_out',
  'net_minor',
  'net',
  'in_flight_minor',
  'in_flight',
  'currency',
  'flow_id',
  'since',
] as const;

type Row = Partial<Record<(typeof Z_CSV_COLUMNS)[number], string | number>>;

/** 1250 with 2 minor units → "12.50"; exact for every safe integer (no floating point). */
export function plainAmount(minor: number, minorUnits: number): string {
  const digits = String(Math.abs(minor)).padStart(minorUnits + 1, '0');
  const whole = digits.slice(0, digits.length - minorUnits);
  const fraction = minorUnits > 0 ? `.${digits.slice(-minorUnits)}` : '';
  return `${minor < 0 ? '-' : ''}${whole}${fraction}`;
}

/** A leading =, +, -, @, tab or CR makes a spreadsheet run the text: a quote in front keeps it text. */
function defused(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

export function zReportCsv(z: ZReport): string {
  const day = {
    business_day: z.businessDay,
    report_number: z.reportNumber,
    terminal_id: defused(z.terminalId),
  };
  const amounts = (prefix: 'value_in' | 'value_out' | 'net', a: Amount): Row => ({
    [`${prefix}_minor`]: a.minor,
    [prefix]: plainAmount(a.minor, z.minorUnits),
  });
  const lineRow = (record: string, l: ZLine, who?: { id: string; name: string }): Row => ({
    record,
    ...day,
    ...(who ? { operator_id: defused(who.id), operator_name: defused(who.name) } : {}),
    kind: l.kind,
    count: l.count,
    not_completed: l.notCompleted,
    items: l.items,
    ...amounts('value_in', l.valueIn),
    ...amounts('value_out', l.valueOut),
    ...amounts('net', l.net),
    currency: z.currencyCode,
  });
  const rows: Row[] = [
    ...z.kinds.map((l) => lineRow('kind', l)),
    lineRow('total', z.total),
    ...z.operators.flatMap((o) => [
      ...o.lines.map((l) => lineRow('operator', l, o)),
      lineRow('operator-total', o.total, o),
    ]),
    ...z.openInDoubt.map(
      (d): Row => ({
        record: 'in-doubt',
        ...day,
        operator_name: defused(d.operator),
        kind: d.kind,
        count: 1,
        ...(d.amount
          ? {
              in_flight_minor: d.amount.minor,
              in_flight: plainAmount(d.amount.minor, z.minorUnits),
              currency: z.currencyCode,
            }
          : {}),
        flow_id: d.flowId,
        since: d.sinceInstant,
      }),
    ),
  ];
  return stringify(
    rows.map((r) => Z_CSV_COLUMNS.map((c) => r[c] ?? '')),
    { header: true, columns: [...Z_CSV_COLUMNS], record_delimiter: 'windows', quoted_match: /^\s|\s$/ },
  );
}

export function zReportFileName(z: Pick<ZReport, 'businessDay' | 'reportNumber' | 'terminalId'>): string {
  const terminal = z.terminalId.replace(/[^A-Za-z0-9._-]/g, '_');
  return `z-report-${terminal}-${z.businessDay}-${String(z.reportNumber).padStart(4, '0')}.csv`;
}
