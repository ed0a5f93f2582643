// PDF documents through pdfkit (maintained, made for Node, no browser needed; its standard fonts are
// built in, so nothing is read from the system and the PDF is the same on every terminal). The
// standard fonts cover the Windows-1252 characters (Western European text and €); any other
// character is written as "?" rather than as a wrong glyph.
import PDFDocument from 'pdfkit';

export type Pdf = InstanceType<typeof PDFDocument>;

// The characters of Windows-1252 (WinAnsiEncoding) beyond Latin-1.
const WIN_ANSI_EXTRA = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';

export function winAnsi(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    out += (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || WIN_ANSI_EXTRA.includes(ch) ? ch : '?';
  }
  return out;
}

export interface PdfInfo {
  title: string;
  /** The page size in points (1 mm = 72 / 25.4 pt). */
  size: [number, number];
  margin: number;
}

function newDocument(info: PdfInfo): Pdf {
  return new PDFDocument({
    size: info.size,
    margin: info.margin,
    info: { Title: winAnsi(info.title), Creator: 'Settlement terminal' },
  });
}

/** Runs `measure` on a document that is never written: for layouts that size their page first. */
export function measure<T>(info: PdfInfo, measure: (doc: Pdf) => T): T {
  return measure(newDocument(info));
}

/** Runs `draw` on a new document and resolves to its bytes. */
export function pdfBytes(info: PdfInfo, draw: (doc: Pdf) => void): Promise<Uint8Array> {
  const doc = newDocument(info);
  const chunks: Buffer[] = [];
  const done = new Promise<Uint8Array>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    doc.on('error', reject);
  });
  draw(doc);
  doc.end();
  return done;
}

export const MM = 72 / 25.4;
