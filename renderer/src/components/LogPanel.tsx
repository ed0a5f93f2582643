// The transaction log: search (Enter runs it), pages of entries newest first with each flow's
// details, times on the shop's clock with its zone named, and the hash-chain check.
import type { MoneyFormatWire } from '../../../electron/ipc/contract.js';
import { formatMoney } from '../../../protocol/money-format.js';
import type { useTransactionLog } from '../hooks/useTransactionLog.js';
import { stepLabel } from '../labels.js';
import { localDateTime } from '../local-time.js';
import { flowTitle, recordDetails } from '../log-details.js';
import { ErrorLine } from './ErrorLine.js';

export function LogPanel({
  log,
  money,
  timeZone,
}: {
  log: ReturnType<typeof useTransactionLog>;
  money: MoneyFormatWire;
  timeZone: string;
}) {
  const searched = log.page.search;
  return (
    <div className="log" data-testid="log-panel">
      <form
        className="row"
        aria-label="Search the log"
        onSubmit={(e) => {
          e.preventDefault();
          void log.submitSearch();
        }}
      >
        <label htmlFor="log-search">Search</label>
        <input
          id="log-search"
          type="search"
          maxLength={200}
          value={log.search}
          onChange={(e) => log.setSearch(e.target.value)}
          placeholder="name, amount, flow or card ID"
        />
        <button type="submit">Search</button>
        <button type="button" onClick={() => void log.verifyLog()}>
          Verify log
        </button>
        {log.verify?.ok && (
          <span className="note" role="status" data-testid="log-verify">
            Log verified: {log.verify.count} entries, hash chain intact.
          </span>
        )}
      </form>
      {log.verify && !log.verify.ok && <ErrorLine error={log.verify.error} testId="log-verify" />}
      {/* The rows hold nothing focusable: the scrolling box itself takes the focus, so that the
          arrow keys scroll a log taller than the panel (axe: scrollable-region-focusable). */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take the focus to scroll by keys */}
      <section className="table-wrap" tabIndex={0} aria-label="Log entries">
        <table data-testid="log-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time ({timeZone})</th>
              <th scope="col">Flow</th>
              <th scope="col">Step</th>
              <th scope="col">Details</th>
              <th scope="col">Flow ID</th>
            </tr>
          </thead>
          <tbody>
            {log.page.records.map((r) => (
              <tr
                key={r.seq}
                data-testid="log-row"
                data-flow-kind={r.flow?.business ?? r.flowKind}
                data-step={r.step}
              >
                <td>{r.seq}</td>
                <td data-testid="log-time">{localDateTime(r.at, money.locale, timeZone)}</td>
                <td>{flowTitle(r)}</td>
                <td>{stepLabel(r.step)}</td>
                <td className="details">{recordDetails(r, money)}</td>
                <td className="mono" title={r.flowId}>
                  {r.flowId.slice(0, 8)}
                </td>
              </tr>
            ))}
            {log.page.records.length === 0 && (
              <tr>
                <td colSpan={6}>{log.applied ? `No entries match “${log.applied}”.` : 'No entries.'}</td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
      <div className="row pager">
        <button type="button" disabled={!log.hasNewer} onClick={() => void log.newer()}>
          ← Newer
        </button>
        <span className="page-no" data-testid="log-page">
          Page {log.pageNumber}
          {log.applied ? ` of “${log.applied}”` : ''}
          {searched?.amount !== undefined ? ` (flows of ${formatMoney(searched.amount, money)} too)` : ''}
        </span>
        <button type="button" disabled={!log.hasOlder} onClick={() => void log.older()}>
          Older →
        </button>
      </div>
    </div>
  );
}
