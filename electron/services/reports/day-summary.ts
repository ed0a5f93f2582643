// The end of a business day as an accountant accepts it: the Z report of a calendar day on the shop's
// clock (its time zone from the configuration; 23 or 25 hours where the clocks change), from the
// flows that ended in it: sales, refunds, exchanges with their e-money leg, items sent and issued,
// counted and summed per kind and per operator, with what did not complete, the transfers still in
// doubt, and the day's sales that were refunded. Printable (the Z report document), and as CSV and PDF.
//
// The report's number is the day's place in the terminal's history: 1 for the business day of the
// log's first flow, one more for each calendar day after. It needs no counter that could be lost or
// reused, the same day always has the same number, and no two days share one.
import { TerminalError } from '../../../protocol/errors.js';
import type { ZReport } from '../../ipc/documents.js';
import { businessDayBounds, businessDayOf } from '../receipts/business-day.js';
import type { DocumentSettings } from '../receipts/document-settings.js';
import { buildZReport, type InDoubtEntry } from '../receipts/z-report.js';
import { zReportCsv, zReportFileName } from '../receipts/z-report-csv.js';
import { zReportPdf } from '../receipts/z-report-pdf.js';
import { type DayFlowFacts, shopFlow } from './flow-facts.js';
import type { FlowFactsSource } from './journal-facts.js';

export interface RefundedSale {
  flowId: string;
  amount: number;
  /** What the refunds of it (any day's) paid back, completed ones only. */
  refunded: number;
  refundFlowIds: string[];
}

export interface DaySummary {
  /** The business day now, on the shop's clock. */
  today: string;
  report: ZReport;
  /** The day's completed sales that have a completed refund. */
  refundedSales: RefundedSale[];
}

export interface ExportedFile {
  fileName: string;
  mimeType: string;
  bytes: Uint8Array;
}

/** What the screen, the CLI and the hosts ask of the end of day; independent of how flows are read. */
export interface DayReports {
  /** The business day now (YYYY-MM-DD in the shop's time zone). */
  today(): string;
  /** The summary and Z report of `day` (today when omitted). */
  summary(day?: string): DaySummary;
  /** The Z report as a file: CSV (RFC 4180) or PDF (A4). */
  export(day: string, format: 'csv' | 'pdf'): Promise<ExportedFile>;
}

export interface DayReportsOptions {
  source: FlowFactsSource;
  settings: DocumentSettings;
  /** The configuration's operators, for their names (an unknown ID is shown as itself). */
  operators?: readonly { id: string; name: string }[];
  now?: () => Date;
}

export function createDayReports(o: DayReportsOptions): DayReports {
  const now = o.now ?? (() => new Date());
  const { timeZone } = o.settings;
  const names = new Map((o.operators ?? []).map((op) => [op.id, op.name]));
  const operatorName = (id: string) => names.get(id) ?? id;
  const today = () => businessDayOf(now(), timeZone);

  function summary(day = today()): DaySummary {
    const { start, end } = businessDayBounds(day, timeZone);
    const at = now();
    if (start > at)
      throw new TerminalError('E_INPUT_INVALID', `${day} has not begun yet (${timeZone}): no report for it`);
    const open = o.source.open();
    const startedInDay = (f: DayFlowFacts) => {
      const t = Date.parse(f.startedAt);
      return t >= start.getTime() && t < end.getTime();
    };
    const dayFlows = [
      ...o.source.closedBetween(start, end),
      ...open.filter((f) => f.outcome === 'in-doubt' && startedInDay(f)),
    ];
    const shopFlows = dayFlows.map((f) => shopFlow(f, operatorName)).filter((f) => f !== undefined);
    const openInDoubt: InDoubtEntry[] = [];
    for (const f of open) {
      if (f.outcome !== 'in-doubt') continue;
      const s = shopFlow(f, operatorName);
      if (!s) continue;
      openInDoubt.push({
        flowId: f.flowId,
        kind: s.kind,
        amount: f.amount,
        since: f.startedAt,
        operator: s.operator,
      });
    }
    const report = buildZReport(
      {
        reportNumber: reportNumber(day),
        businessDay: day,
        generatedAt: at.toISOString(),
        flows: shopFlows,
        openInDoubt,
      },
      o.settings,
    );
    const sales = dayFlows.filter((f) => f.business === 'sale' && f.outcome === 'completed');
    const refunds = o.source.refundsOf(sales.map((f) => f.flowId));
    const refundedSales: RefundedSale[] = [];
    for (const f of sales) {
      const done = (refunds.get(f.flowId) ?? []).filter((r) => r.outcome === 'completed');
      if (done.length === 0 || f.amount === undefined) continue;
      refundedSales.push({
        flowId: f.flowId,
        amount: f.amount,
        refunded: done.reduce((n, r) => n + (r.amount ?? 0), 0),
        refundFlowIds: done.map((r) => r.flowId),
      });
    }
    return { today: today(), report, refundedSales };
  }

  /** 1 for the business day of the log's first flow (or today, on an empty log), +1 per day after. */
  function reportNumber(day: string): number {
    const first = o.source.firstStartedAt();
    const base = first ? businessDayOf(new Date(first), timeZone) : today();
    const days = (Date.parse(`${day}T00:00:00Z`) - Date.parse(`${base}T00:00:00Z`)) / 86_400_000;
    if (days < 0)
      throw new TerminalError('E_INPUT_INVALID', `${day} is before this terminal's log begins (${base})`, {
        firstDay: base,
      });
    return days + 1;
  }

  return {
    today,
    summary,
    async export(day, format) {
      const { report } = summary(day);
      const csvName = zReportFileName(report);
      if (format === 'csv') {
        return {
          fileName: csvName,
          mimeType: 'text/csv',
          bytes: new TextEncoder().encode(zReportCsv(report)),
        };
      }
      return {
        fileName: csvName.replace(/\.csv$/, '.pdf'),
        mimeType: 'application/pdf',
        bytes: await zReportPdf(report),
      };
    },
  };
}
