// The Electron app's FileDelivery: the main process asks where to save an exported file (the
// operating system's save dialog, over the operator window, in the documents folder by default) and
// writes it there itself. The renderer never downloads anything: the session policy cancels every
// download and blocks blob: URLs, and stays that way. The screen is told the path, or that the
// operator cancelled.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileDelivery } from '../ipc/file-delivery.js';
import type { ShellDialog, ShellWindow } from './platform.js';

export interface SaveDialogDeliveryOptions {
  dialog: ShellDialog;
  /** The operator window the dialog belongs to (modal over it). */
  window: () => ShellWindow | undefined;
  /** Where the dialog opens: the user's documents folder. */
  defaultDir: string;
  write?: (path: string, bytes: Uint8Array) => Promise<void>;
}

const FILTERS: Record<string, { name: string; extensions: string[] }> = {
  'text/csv': { name: 'CSV', extensions: ['csv'] },
  'application/pdf': { name: 'PDF', extensions: ['pdf'] },
};

export function saveDialogDelivery(o: SaveDialogDeliveryOptions): FileDelivery {
  const write = o.write ?? ((path: string, bytes: Uint8Array) => writeFile(path, bytes));
  return {
    async deliver(file) {
      const options = {
        title: `Save ${file.fileName}`,
        defaultPath: join(o.defaultDir, file.fileName),
        filters: FILTERS[file.mimeType] ? [FILTERS[file.mimeType]!] : [],
        properties: ['createDirectory', 'showOverwriteConfirmation'] as (
          | 'createDirectory'
          | 'showOverwriteConfirmation'
        )[],
      };
      const answer = await o.dialog.showSaveDialog(o.window(), options);
      if (answer.canceled || !answer.filePath) return { delivery: 'cancelled', fileName: file.fileName };
      await write(answer.filePath, file.bytes);
      return { delivery: 'saved', fileName: file.fileName, path: answer.filePath };
    },
  };
}
