// A page of its own for one document: window.showDocument({ receipt }) or ({ zReport }) renders it.
// For a print window (load it, show the document, print) and for the UI tests of the print views; the
// operator screen itself does not load it.
import { createRoot } from 'react-dom/client';
import type { Receipt, ZReport } from '../../../electron/ipc/documents.js';
import { ReceiptPrintView } from './ReceiptPrintView.js';
import { ZReportPrintView } from './ZReportPrintView.js';

export type PrintableDocument = { receipt: Receipt } | { zReport: ZReport };

declare global {
  interface Window {
    showDocument?: (d: PrintableDocument) => void;
  }
}

const root = createRoot(document.getElementById('root') as HTMLElement);
window.showDocument = (d) => {
  root.render(
    <main>
      {'receipt' in d ? <ReceiptPrintView receipt={d.receipt} /> : <ZReportPrintView report={d.zReport} />}
    </main>,
  );
};
