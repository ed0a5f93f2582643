// The print views (renderer/src/print/) in headless Chromium: the preview page's script built from the
// current sources, served from a made-up origin through Playwright's routing (no server, no port), and
// a document shown with window.showDocument. `print()` prints the page as Chromium's print would,
// to PDF bytes, with the page sizes the print CSS asks for.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { Receipt, ZReport } from '../../../electron/ipc/documents.js';
import { builtRenderer } from './built-renderer.js';
import { CHROMIUM, CHROMIUM_ARGS } from './operator-fixture.js';

const ORIGIN = 'http://print-preview.test';

export interface PrintPreview {
  page: Page;
  show(d: { receipt: Receipt } | { zReport: ZReport }): Promise<void>;
  /** The page printed (print media, CSS page sizes) as PDF bytes. */
  print(): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function startPrintPreview(): Promise<PrintPreview> {
  const dir = await builtRenderer('print-preview');
  const manifest = JSON.parse(readFileSync(join(dir, '.vite', 'manifest.json'), 'utf8')) as Record<
    string,
    { file: string; css?: string[]; isEntry?: boolean }
  >;
  const entry = Object.values(manifest).find((m) => m.isEntry);
  if (!entry) throw new Error('the print preview build has no entry');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Print preview</title>
${(entry.css ?? []).map((c) => `<link rel="stylesheet" href="/${c}">`).join('\n')}
</head><body><div id="root"></div><script type="module" src="/${entry.file}"></script></body></html>`;
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/') return route.fulfill({ contentType: 'text/html', body: html });
      return route.fulfill({ path: join(dir, path) });
    });
    await page.goto(`${ORIGIN}/`);
    await page.waitForFunction('typeof window.showDocument === "function"');
    return {
      page,
      async show(d) {
        await page.evaluate(
          (doc) => (globalThis as unknown as { showDocument(d: unknown): void }).showDocument(doc),
          d,
        );
        await page.waitForSelector('.print-sheet');
      },
      async print() {
        return new Uint8Array(await page.pdf({ preferCSSPageSize: true, printBackground: true }));
      },
      close: () => browser.close(),
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}
