// Reads a PDF back as an independent reader would: poppler's pdftotext (text in its layout) and
// pdfinfo (pages, size).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PdfReadBack {
  text: string;
  pages: number;
  /** Page size in points. */
  width: number;
  height: number;
}

export function readPdf(bytes: Uint8Array): PdfReadBack {
  const dir = mkdtempSync(join(tmpdir(), 'pdf-read-'));
  try {
    const file = join(dir, 'doc.pdf');
    writeFileSync(file, bytes);
    const text = execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
    const size = /^Page size:\s+([\d.]+) x ([\d.]+) pts/m.exec(info);
    return { text, pages, width: Number(size?.[1]), height: Number(size?.[2]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
