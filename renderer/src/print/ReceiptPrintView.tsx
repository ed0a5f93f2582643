// A receipt as the screen shows it and the printer prints it: a narrow till slip (80 mm when
// printed), the shop's name on top, the terminal, date and time, the cards, items and amounts, the
// result and the flow ID. The document comes from the main process with every field already written
// (electron/services/receipts/receipt.ts); this only lays it out.
import type { Receipt, ReceiptRow } from '../../../electron/ipc/documents.js';
import './print.css';

function Rows({ rows }: { rows: ReceiptRow[] }) {
  return (
    <dl className="till-rows">
      {rows.map((r) => (
        <div key={r.label} className={r.total ? 'till-row total' : 'till-row'}>
          <dt>{r.label}</dt>
          <dd>{r.value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function ReceiptPrintView({ receipt }: { receipt: Receipt }) {
  return (
    <article
      className="print-sheet till-receipt"
      aria-label={`${receipt.title} receipt`}
      data-testid="receipt"
      data-result={receipt.result.code}
    >
      <header>
        <h1>{receipt.shopName}</h1>
        <h2>{receipt.title}</h2>
      </header>
      <Rows rows={receipt.header} />
      <Rows rows={receipt.body} />
      <p className={`till-result ${receipt.result.code}`}>{receipt.result.text}</p>
      <p className="till-flow">
        Flow <span className="mono">{receipt.flowId}</span>
      </p>
    </article>
  );
}
