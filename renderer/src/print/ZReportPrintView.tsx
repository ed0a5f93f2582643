// The Z report as the screen shows it and an A4 printer prints it: the day on the shop's clock, the
// lines per kind with the total, the same per operator, and the transfers still in doubt. The document
// comes from the main process (electron/services/receipts/z-report.ts); this only lays it out.
import type { ZLine, ZReport } from '../../../electron/ipc/documents.js';
import './print.css';

function Lines({ caption, lines, total }: { caption: string; lines: ZLine[]; total: ZLine }) {
  return (
    <table className="z-lines">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Kind</th>
          <th scope="col" className="num">
            Count
          </th>
          <th scope="col" className="num">
            Not completed
          </th>
          <th scope="col" className="num">
            Items
          </th>
          <th scope="col" className="num">
            In
          </th>
          <th scope="col" className="num">
            Out
          </th>
          <th scope="col" className="num">
            Net
          </th>
        </tr>
      </thead>
      <tbody>
        {[...lines, total].map((l) => (
          <tr key={l.kind} className={l.kind === 'total' ? 'total' : undefined} data-kind={l.kind}>
            <th scope="row">{l.label}</th>
            <td className="num">{l.count}</td>
            <td className="num">{l.notCompleted}</td>
            <td className="num">{l.items}</td>
            <td className="num">{l.valueIn.text}</td>
            <td className="num">{l.valueOut.text}</td>
            <td className="num">{l.net.text}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ZReportPrintView({ report: z }: { report: ZReport }) {
  const number = String(z.reportNumber).padStart(4, '0');
  return (
    <article className="print-sheet z-report" aria-label={`Z report ${number}`} data-testid="z-report">
      <header>
        <h1>Z report No. {number}</h1>
        <p className="z-shop">{z.shopName}</p>
        <dl className="z-meta">
          <dt>Terminal</dt>
          <dd>{z.terminalId}</dd>
          <dt>Business day</dt>
          <dd>
            {z.businessDay} ({z.timeZone})
          </dd>
          <dt>From</dt>
          <dd>{z.from}</dd>
          <dt>To</dt>
          <dd>{z.to}</dd>
          <dt>Generated</dt>
          <dd>{z.generatedAt}</dd>
        </dl>
      </header>
      <Lines caption="By kind" lines={z.kinds} total={z.total} />
      <h2>By operator</h2>
      {z.operators.length === 0 && <p>No flows on this day.</p>}
      {z.operators.map((o) => (
        <Lines key={o.id} caption={o.id ? `${o.name} (${o.id})` : o.name} lines={o.lines} total={o.total} />
      ))}
      <h2>Open in doubt</h2>
      {z.openInDoubt.length === 0 ? (
        <p>None.</p>
      ) : (
        <table className="z-doubt">
          <thead>
            <tr>
              <th scope="col">Flow</th>
              <th scope="col">Kind</th>
              <th scope="col" className="num">
                Amount
              </th>
              <th scope="col">Since</th>
              <th scope="col">Operator</th>
            </tr>
          </thead>
          <tbody>
            {z.openInDoubt.map((d) => (
              <tr key={d.flowId}>
                <td className="mono">{d.flowId}</td>
                <td>{d.kind}</td>
                <td className="num">{d.amount?.text ?? ''}</td>
                <td>{d.since}</td>
                <td>{d.operator}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}
