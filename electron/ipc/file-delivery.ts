// Where an exported file (the Z report's CSV or PDF) goes: one small interface, two implementations.
// In the Electron app the main process saves it through a save dialog (the shell's session policy
// cancels every download and blocks blob: URLs, so the page cannot); in the browser host the page
// downloads it, so the file comes back to it. Either way the screen says where the file went.
import type { ExportedFile } from '../services/reports/day-summary.js';
import type { FileDeliveryWire } from './contract.js';

export interface FileDelivery {
  deliver(file: ExportedFile): Promise<FileDeliveryWire>;
}

/** The browser host's delivery: the bytes go back to the page, which downloads them. */
export const pageDownload: FileDelivery = {
  async deliver(file) {
    return {
      delivery: 'download',
      fileName: file.fileName,
      mimeType: file.mimeType,
      base64: Buffer.from(file.bytes).toString('base64'),
    };
  },
};
