// The end of an export, as the host delivered it: in the browser host the page downloads the bytes
// (the browser puts them in its downloads folder); in the Electron app the main process has saved them
// where the operator chose. Returns the sentence that says where the file went.
import type { DeliveredDocumentWire } from '../../../electron/ipc/contract-shop.js';

export function finishDelivery(d: DeliveredDocumentWire): string {
  switch (d.delivery) {
    case 'download': {
      const bytes = Uint8Array.from(atob(d.base64), (c) => c.charCodeAt(0));
      const url = URL.createObjectURL(new Blob([bytes], { type: d.mimeType }));
      const a = document.createElement('a');
      a.href = url;
      a.download = d.fileName;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return `Downloaded ${d.fileName}: the browser saves it in its downloads folder.`;
    }
    case 'saved':
      return `Saved to ${d.path}.`;
    case 'cancelled':
      return `${d.fileName} was not saved: the save dialog was closed.`;
  }
}
