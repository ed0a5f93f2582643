// The receipt of a completed operation: the same print view the printer prints (window.print prints
// the receipt alone, on an 80 mm roll), exported as a PDF or as ESC/POS bytes for a thermal receipt
// printer. The main process makes both; the screen says where the file went.
import { useState } from 'react';
import type { ErrorInfo } from '../../../electron/ipc/contract.js';
import type { Receipt } from '../../../electron/ipc/documents.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { Modal } from '../components/Modal.js';
import { ReceiptPrintView } from '../print/ReceiptPrintView.js';
import type { TerminalApi } from '../terminal-api.js';
import { finishDelivery } from './deliver-file.js';

export function ReceiptDialog({
  api,
  receipt,
  onClose,
}: {
  api: TerminalApi;
  receipt: Receipt;
  onClose: () => void;
}) {
  const [note, setNote] = useState<string | undefined>();
  const [error, setError] = useState<ErrorInfo | undefined>();
  const [exporting, setExporting] = useState(false);
  const save = async (format: 'pdf' | 'escpos') => {
    setExporting(true);
    const r = await api.call('receipts:export', { flowId: receipt.flowId, format });
    setExporting(false);
    if (!r.ok) {
      setError(r.error);
      setNote(undefined);
      return;
    }
    setError(undefined);
    setNote(finishDelivery(r.value));
  };
  return (
    <Modal id="receipt-dialog" title={`${receipt.title} receipt`} busy={exporting} onClose={onClose}>
      <div className="receipt-scroll">
        <ReceiptPrintView receipt={receipt} />
      </div>
      <div className="row">
        <button type="button" className="primary" onClick={() => window.print()}>
          Print
        </button>
        <button type="button" disabled={exporting} onClick={() => void save('pdf')}>
          Save as PDF
        </button>
        <button type="button" disabled={exporting} onClick={() => void save('escpos')}>
          Save for receipt printer
        </button>
      </div>
      <p className="note" role="status" data-testid="receipt-delivery">
        {note}
      </p>
      {error && <ErrorLine error={error} testId="receipt-error" />}
    </Modal>
  );
}
