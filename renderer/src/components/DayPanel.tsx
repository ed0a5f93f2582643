// End of day: a business day on the shop's clock (picked in the shop's own date format, or a day
// back and forth), its Z report in figures (per kind with the e-money in and out, the sales refunded,
// per operator, the transfers still in doubt), the printable Z report, and the report exported as
// CSV or PDF with a sentence saying where the file went.
import { useEffect, useRef, useState } from 'react';
import type { MoneyFormatWire } from '../../../electron/ipc/contract.js';
import { formatMoney } from '../../../protocol/money-format.js';
import type { useDayReport } from '../hooks/useDayReport.js';
import { addDays, dayPattern, formatDay, longDay, parseDay } from '../local-time.js';
import { ZLinesTable, ZReportPrintView } from '../print/ZReportPrintView.js';
import { ErrorLine } from './ErrorLine.js';

export function DayPanel({
  day: d,
  money,
}: {
  day: ReturnType<typeof useDayReport>;
  money: MoneyFormatWire;
}) {
  const locale = money.locale;
  const [typed, setTyped] = useState('');
  const [typedBad, setTypedBad] = useState(false);
  const [printing, setPrinting] = useState(false);
  const z = d.report?.report;
  const refunded = d.report?.refundedSales ?? [];

  // The field shows the day chosen, in the shop's format, whenever it changes.
  useEffect(() => {
    if (d.day) setTyped(formatDay(d.day, locale));
    setTypedBad(false);
  }, [d.day, locale]);

  const go = (next: string | undefined) => {
    if (!next) return setTypedBad(true);
    setTypedBad(false);
    d.choose(next);
  };

  return (
    <div className="day" data-testid="summary-panel">
      <form
        className="row"
        aria-label="Business day"
        onSubmit={(e) => {
          e.preventDefault();
          const next = parseDay(typed, locale);
          if (next === d.day) void d.refresh();
          else go(next);
        }}
      >
        <label htmlFor="summary-day">Business day</label>
        <button
          type="button"
          className="small"
          aria-label="Previous day"
          disabled={!d.day}
          onClick={() => go(addDays(d.day, -1))}
        >
          ‹
        </button>
        <input
          id="summary-day"
          className="day-input"
          inputMode="numeric"
          autoComplete="off"
          maxLength={10}
          value={typed}
          placeholder={dayPattern(locale)}
          aria-invalid={typedBad}
          aria-describedby="summary-day-help"
          onChange={(e) => setTyped(e.target.value)}
        />
        <button
          type="button"
          className="small"
          aria-label="Next day"
          disabled={!d.day || d.day === d.today}
          onClick={() => go(addDays(d.day, 1))}
        >
          ›
        </button>
        <button type="button" className="small" disabled={d.day === d.today} onClick={() => go(d.today)}>
          Today
        </button>
        <button type="submit">Update</button>
        <span
          id="summary-day-help"
          className={typedBad ? 'hint error' : 'hint'}
          data-testid="summary-day-long"
        >
          {typedBad ? `Not a day: type it as ${dayPattern(locale)}.` : d.day ? longDay(d.day, locale) : ''}
        </span>
      </form>
      {d.error && <ErrorLine error={d.error} testId="summary-error" />}
      {z && (
        <>
          <p data-testid="summary-totals">
            Z report No. {String(z.reportNumber).padStart(4, '0')}, {z.from} to {z.to} ({z.timeZone}):{' '}
            <strong>{z.total.count}</strong> completed, net <strong>{z.total.net.text}</strong>
            {z.total.notCompleted ? `; ${z.total.notCompleted} not completed` : ''}; {z.openInDoubt.length} in
            doubt.
          </p>
          <ZLinesTable caption="By kind" lines={z.kinds} total={z.total} testId="summary-kinds" />
          {refunded.length > 0 && (
            <p data-testid="summary-refunded">
              Refunded: {refunded.length} of the day’s sales (
              {refunded
                .map((r) => `${formatMoney(r.amount, money)} sale, ${formatMoney(r.refunded, money)} back`)
                .join('; ')}
              ).
            </p>
          )}
          {z.operators.length > 0 && (
            <p data-testid="summary-operators">
              By operator:{' '}
              {z.operators
                .map((o) => `${o.name}: ${o.total.count} completed, net ${o.total.net.text}`)
                .join(' · ')}
            </p>
          )}
          {z.openInDoubt.length > 0 && (
            <p className="warn-text">
              {z.openInDoubt.length} transfer(s) in doubt: recover them before closing the day.
            </p>
          )}
          <div className="row">
            <button type="button" onClick={() => setPrinting(true)}>
              Print Z report
            </button>
            <button
              type="button"
              disabled={d.exported?.state === 'working'}
              onClick={() => void d.exportAs('csv')}
            >
              Export CSV
            </button>
            <button
              type="button"
              disabled={d.exported?.state === 'working'}
              onClick={() => void d.exportAs('pdf')}
            >
              Export PDF
            </button>
            <ExportNoteLine note={d.exported} />
          </div>
        </>
      )}
      {z && printing && <ZReportDialog report={z} onClose={() => setPrinting(false)} />}
    </div>
  );
}

function ExportNoteLine({ note }: { note: ReturnType<typeof useDayReport>['exported'] }) {
  if (!note) return null;
  if (note.state === 'error') return <ErrorLine error={note.error} testId="export-note" />;
  const text =
    note.state === 'working'
      ? `Making the ${note.format.toUpperCase()}…`
      : note.delivery.delivery === 'saved'
        ? `Saved to ${note.delivery.path}`
        : note.delivery.delivery === 'cancelled'
          ? `Not saved: the save was cancelled (${note.delivery.fileName}).`
          : `Downloaded as ${note.delivery.fileName} to this browser’s downloads folder.`;
  return (
    <span className="note" role="status" data-testid="export-note">
      {text}
    </span>
  );
}

/** The Z report as it prints, in a dialog: Print sends the sheet alone to the printer. */
function ZReportDialog({
  report,
  onClose,
}: {
  report: NonNullable<ReturnType<typeof useDayReport>['report']>['report'];
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      className="document-dialog"
      aria-labelledby="z-dialog-title"
      data-testid="z-report-dialog"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div className="row dialog-head">
        <h2 id="z-dialog-title">Z report {report.businessDay}</h2>
        <button type="button" className="primary" onClick={() => window.print()}>
          Print
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {/* Focusable, so the report can be scrolled from the keyboard. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take the focus to scroll by keys */}
      <section className="document-scroll" tabIndex={0} aria-label="The Z report as it prints">
        <ZReportPrintView report={report} />
      </section>
    </dialog>
  );
}
