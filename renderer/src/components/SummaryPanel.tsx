// End of day: completed payments of a UTC day, counted and summed per direction, the payments that
// did not complete, and the open in-doubt items; exported as CSV for the shop's bookkeeping.
import type { ErrorInfo, MoneyFormatWire, SettlementSummaryWire } from '../../../electron/ipc/contract.js';
import { formatMoney } from '../../../protocol/money-format.js';
import { shortId } from '../format.js';
import { summaryCsv, summaryFileName } from '../summary-csv.js';
import { ErrorLine } from './ErrorLine.js';

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function SummaryPanel(props: {
  summary: SettlementSummaryWire | undefined;
  error: ErrorInfo | undefined;
  money: MoneyFormatWire;
  day: string;
  onDay: (day: string) => void;
  onRefresh: () => Promise<void>;
}) {
  const { summary: s, money } = props;
  return (
    <div data-testid="summary-panel">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void props.onRefresh();
        }}
      >
        <label htmlFor="summary-day">Day (UTC)</label>
        <input
          id="summary-day"
          type="date"
          value={props.day || s?.day || ''}
          onChange={(e) => props.onDay(e.target.value)}
        />
        <button type="submit">Update summary</button>
        <button
          type="button"
          disabled={!s}
          onClick={() => s && download(summaryFileName(s), summaryCsv(s, money))}
        >
          Export CSV
        </button>
      </form>
      {props.error && <ErrorLine error={props.error} />}
      {s && (
        <>
          <p data-testid="summary-totals">
            {s.day}: <strong>{s.count}</strong> payment(s), total{' '}
            <strong>{formatMoney(s.total, money)}</strong>
            {s.notCompleted ? `; ${s.notCompleted} not completed` : ''}; {s.inDoubt.length} in doubt.
          </p>
          {s.directions.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th scope="col">From card (payer)</th>
                  <th scope="col">To card (payee)</th>
                  <th scope="col" className="num">
                    Payments
                  </th>
                  <th scope="col" className="num">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {s.directions.map((d) => (
                  <tr key={`${d.payerId}>${d.payeeId}`}>
                    <td className="mono" title={d.payerId}>
                      {shortId(d.payerId)}
                    </td>
                    <td className="mono" title={d.payeeId}>
                      {shortId(d.payeeId)}
                    </td>
                    <td className="num">{d.count}</td>
                    <td className="num">{formatMoney(d.total, money)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {s.inDoubt.length > 0 && (
            <p className="warn-text">
              {s.inDoubt.length} transfer(s) in doubt,{' '}
              {formatMoney(
                s.inDoubt.reduce((n, i) => n + i.amount, 0),
                money,
              )}
              : recover them before closing the day.
            </p>
          )}
        </>
      )}
    </div>
  );
}
