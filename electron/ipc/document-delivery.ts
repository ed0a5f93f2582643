// Where an exported document (a receipt's PDF or ESC/POS bytes) goes: one small interface, an
// implementation per host. The browser host hands the bytes back for the page to download (the
// browser saves them where it saves downloads); the Electron app, whose session cancels every download
// and blocks blob: URLs, saves them in the main process through a save dialog
// (electron/shell/save-dialog-delivery.ts). Either way the screen is told where the file went.
import type { ExportedDocument } from '../services/receipts/receipt-book.js';
import type { DeliveredDocumentWire } from './contract-shop.js';

export type { ExportedDocument };

export interface DocumentDelivery {
  deliver(doc: ExportedDocument): Promise<DeliveredDocumentWire>;
}

/** The browser host's: the page receives the bytes and downloads them itself. */
export const pageDownload: DocumentDelivery = {
  async deliver(doc) {
    return {
      delivery: 'download',
      fileName: doc.fileName,
      mimeType: doc.mimeType,
      base64: Buffer.from(doc.bytes).toString('base64'),
    };
  },
};
