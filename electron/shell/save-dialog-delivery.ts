// Exported documents in the Electron app: the shell's session cancels every download and blocks blob:
// URLs (session-policy.ts), so a receipt's PDF or ESC/POS bytes are saved by the main process, where
// the operator chooses in a save dialog on the operator window. The screen is told the path, or that
// the dialog was cancelled; a file that cannot be written is refused with the reason, nothing half-done.
import { writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { errorMessage, TerminalError } from '../../protocol/errors.js';
import type { DocumentDelivery } from '../ipc/document-delivery.js';
import type { ShellDialog, ShellWindow } from './platform.js';

const KINDS: Record<string, { name: string; extensions: string[] }> = {
  '.pdf': { name: 'PDF document', extensions: ['pdf'] },
  '.escpos': { name: 'ESC/POS receipt printer data', extensions: ['escpos', 'bin'] },
  '.csv': { name: 'CSV table', extensions: ['csv'] },
};

export interface SaveDialogDeliveryOptions {
  dialog: ShellDialog;
  /** The operator window the dialog belongs to. */
  window(): ShellWindow | undefined;
  /** The folder the dialog opens in (the operator's documents). */
  folder(): string;
  write?: (path: string, bytes: Uint8Array) => Promise<void>;
}

export function saveDialogDelivery(o: SaveDialogDeliveryOptions): DocumentDelivery {
  const write = o.write ?? ((path, bytes) => writeFile(path, bytes));
  return {
    async deliver(doc) {
      const window = o.window();
      if (!window || window.isDestroyed()) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          'the operator window is closed: there is nowhere to ask where to save',
        );
      }
      const kind = KINDS[extname(doc.fileName)];
      const chosen = await o.dialog.showSaveDialog(window, {
        title: `Save ${doc.fileName}`,
        defaultPath: join(o.folder(), doc.fileName),
        buttonLabel: 'Save',
        filters: kind ? [kind] : [],
        properties: ['createDirectory', 'showOverwriteConfirmation'],
      });
      if (chosen.canceled || !chosen.filePath) return { delivery: 'cancelled', fileName: doc.fileName };
      try {
        await write(chosen.filePath, doc.bytes);
      } catch (e) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          `cannot save ${chosen.filePath}: ${errorMessage(e)}; choose another place`,
          {
            path: chosen.filePath,
          },
        );
      }
      return { delivery: 'saved', fileName: doc.fileName, path: chosen.filePath };
    },
  };
}
