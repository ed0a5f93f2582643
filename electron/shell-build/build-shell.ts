// Bundles the Electron shell with esbuild (Electron runs JavaScript, not TypeScript):
//   electron/main.ts    -> dist-electron/main.cjs     (Node side: our code and its pure-JS dependencies)
//   electron/preload.ts -> dist-electron/preload.cjs  (sandboxed: may require nothing but 'electron')
// better-sqlite3 and pcsclite are bundled as JavaScript too; the `bindings` package through which both
// find their compiled addon is replaced by shell/electron-bindings.ts, which loads the copies built for
// Electron's ABI (electron-native.ts) from dist-electron/native/. node_modules' own copies stay built
// for Node, so the CLI, the browser host and the tests keep working on the same machine.
// `npm run build:electron` (build-electron.ts) runs this and the native build; so does `npm start`
// when Electron is there.
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT_DIR = join(ROOT, 'dist-electron');
/** Electron 45 runs Node 22 in its main process and Chromium 142 in its renderers. */
const NODE_TARGET = 'node22';
const CHROME_TARGET = 'chrome142';

/** `require('bindings')` inside the bundle is our loader of Electron-ABI addons. */
function electronBindingsPlugin(root: string): Plugin {
  const loader = join(root, 'electron', 'shell', 'electron-bindings.ts');
  return {
    name: 'electron-bindings',
    setup(b) {
      b.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'electron-bindings' }));
      b.onLoad({ filter: /.*/, namespace: 'electron-bindings' }, () => ({
        // bindings is a CommonJS function export: keep that shape.
        contents: `module.exports = require(${JSON.stringify(loader)}).electronBindings;`,
        loader: 'js',
        resolveDir: root,
      }));
    },
  };
}

/**
 * pdfkit's Node build (pdfkit.node.mjs) loads its standard fonts at run time through
 * `createRequire(import.meta.url)` and its package's `#standard-fonts/…` imports; in a CommonJS bundle
 * import.meta is empty, so createRequire throws as the bundle loads, and the '#' imports could not be
 * found from dist-electron/ anyway. This rewrites that file as it is bundled: each font is required by
 * its public export (`pdfkit/standard-fonts/X`, JavaScript data esbuild bundles in), and import.meta.url
 * becomes the bundle's own file URL. The PDFs then need no file of node_modules at run time.
 */
export function pdfkitFontsPlugin(): Plugin {
  return {
    name: 'pdfkit-standard-fonts',
    setup(b) {
      b.onLoad({ filter: /[\\/]pdfkit[\\/]js[\\/]pdfkit\.node\.mjs$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        const fonts = /require\$1\('#standard-fonts\/([A-Za-z]+)'\)/g;
        if (!fonts.test(source) || !source.includes('import.meta.url')) {
          throw new Error(
            'pdfkit.node.mjs no longer loads its fonts as this plugin expects: check the pdfkit update',
          );
        }
        const contents = source
          .replace(
            fonts,
            (_all, font: string) => `((m) => m.default ?? m)(require('pdfkit/standard-fonts/${font}'))`,
          )
          .replaceAll('import.meta.url', 'require("url").pathToFileURL(__filename).href');
        return { contents, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

export function shellBuildOptions(
  root = ROOT,
  outDir = OUT_DIR,
): { main: BuildOptions; preload: BuildOptions } {
  const common: BuildOptions = {
    bundle: true,
    format: 'cjs',
    external: ['electron'],
    metafile: true,
    logLevel: 'silent',
    legalComments: 'inline',
    sourcemap: false,
    minify: false,
  };
  return {
    main: {
      ...common,
      entryPoints: [join(root, 'electron', 'main.ts')],
      outfile: join(outDir, 'main.cjs'),
      platform: 'node',
      target: NODE_TARGET,
      // ws' optional native helpers: absent, ws uses its JavaScript code.
      external: ['electron', 'bufferutil', 'utf-8-validate'],
      plugins: [electronBindingsPlugin(root), pdfkitFontsPlugin()],
    },
    preload: {
      ...common,
      entryPoints: [join(root, 'electron', 'preload.ts')],
      outfile: join(outDir, 'preload.cjs'),
      platform: 'browser',
      target: CHROME_TARGET,
    },
  };
}

export interface ShellBundle {
  main: string;
  preload: string;
  warnings: string[];
}

/** Builds both bundles (in memory when write is false); throws on an error or a forbidden import. */
export async function buildShell(
  o: { root?: string; outDir?: string; write?: boolean } = {},
): Promise<ShellBundle> {
  const root = o.root ?? ROOT;
  const options = shellBuildOptions(root, o.outDir ?? OUT_DIR);
  const write = o.write ?? true;
  const [main, preload] = await Promise.all([
    build({ ...options.main, write }),
    build({ ...options.preload, write }),
  ]);
  const imports = externalImports(preload.metafile);
  if (imports.some((i) => i !== 'electron')) {
    throw new Error(`the sandboxed preload may require only 'electron', not ${imports.join(', ')}`);
  }
  const warnings = [...main.warnings, ...preload.warnings].map(
    (w) => `${w.location ? `${relative(root, w.location.file)}: ` : ''}${w.text}`,
  );
  const text = (r: typeof main) => r.outputFiles?.[0]?.text ?? '';
  return {
    main: write ? options.main.outfile! : text(main),
    preload: write ? options.preload.outfile! : text(preload),
    warnings,
  };
}

/** What a bundle still requires at run time. */
export function externalImports(metafile: Metafile | undefined): string[] {
  const found = new Set<string>();
  for (const output of Object.values(metafile?.outputs ?? {})) {
    for (const i of output.imports) if (i.external) found.add(i.path);
  }
  return [...found].sort();
}
