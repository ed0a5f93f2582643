// pdfkit inside the Electron main bundle: its Node build loads the standard fonts through
// createRequire(import.meta.url) and '#standard-fonts/…' imports, which a CommonJS bundle breaks (the
// bundle would throw as it loads). The shell build rewrites that file (pdfkitFontsPlugin). Checked on the
// real main bundle's text, and by running a bundle made with the same options, copied far from the
// project's node_modules, that writes a receipt's PDF: poppler reads it back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { buildShell, ROOT, shellBuildOptions } from '../../electron/shell-build/build-shell.js';
import { readPdf } from '../terminal/receipts/pdf-text.js';

const away = mkdtempSync(join(tmpdir(), 'bundled-pdf-'));
afterAll(() => rmSync(away, { recursive: true, force: true }));

const PROBE = `
import { writeFileSync } from 'node:fs';
import { buildReceipt } from './electron/services/receipts/receipt.js';
import { receiptPdf } from './electron/services/receipts/receipt-pdf.js';
const receipt = buildReceipt(
  {
    kind: 'sale',
    flowId: '3f2a6c1e-8b7d-4c2a-9e1f-0a1b2c3d4e5f',
    at: '2026-07-14T16:05:09.000Z',
    result: 'completed',
    amount: 1250,
    shopCard: { holderId: '00112233445566ff', label: 'Corner Shop' },
    customerCard: { holderId: 'a1b2c3d4e5f60718', label: 'Alice' },
  },
  {
    shopName: 'Bundled Shop',
    terminalId: 'T-0001',
    timeZone: 'Europe/Dublin',
    money: { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' },
  },
);
receiptPdf(receipt).then((bytes) => writeFileSync(process.argv[2], bytes));
`;

describe('pdfkit in the Electron main bundle', () => {
  it('leaves no import.meta and no run-time font lookup in main.cjs', async () => {
    const { main } = await buildShell({ write: false });
    expect(main).toContain('node_modules/pdfkit/js/pdfkit.node.mjs');
    // esbuild gives a module that reads import.meta an empty one in a CommonJS bundle. The only such
    // module may be the journal's parallel verify, which then verifies on the calling thread.
    const emptyMetaModules = [...main.matchAll(/import_meta\d*\s*=\s*\{\}/g)].map((m) => {
      const start = main.lastIndexOf('\n// ', m.index);
      return main.slice(start + 4, main.indexOf('\n', start + 1));
    });
    expect(emptyMetaModules.filter((m) => m !== 'db/journal-verify.ts')).toEqual([]);
    expect(main).not.toContain("'#standard-fonts/");
    expect(main).not.toContain('"#standard-fonts/');
    expect(main).toContain('node_modules/pdfkit/js/standard-fonts/Helvetica.cjs');
  });

  it('makes a valid receipt PDF when run far from node_modules', async () => {
    const options = shellBuildOptions(ROOT, away).main;
    const { entryPoints: _main, ...rest } = options;
    const outfile = join(away, 'probe.cjs');
    await build({
      ...rest,
      stdin: { contents: PROBE, resolveDir: ROOT, loader: 'ts', sourcefile: 'pdf-probe.ts' },
      outfile,
      write: true,
      external: ['electron'],
    });
    const pdf = join(away, 'receipt.pdf');
    // No NODE_PATH, a working directory without node_modules: only the bundle itself.
    execFileSync(process.execPath, [outfile, pdf], { cwd: away, env: { PATH: process.env.PATH ?? '' } });
    const bytes = new Uint8Array(readFileSync(pdf));
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('%PDF-');
    const read = readPdf(bytes);
    expect(read.pages).toBe(1);
    expect(read.text).toContain('Bundled Shop');
    expect(read.text).toMatch(/Paid\s+€12\.50/);
    writeFileSync(join(away, 'done'), '');
  });
});
