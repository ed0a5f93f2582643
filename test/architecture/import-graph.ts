// The project's own imports, read with the TypeScript compiler's parser (not a regular expression):
// static imports and re-exports, `import type`, dynamic import(), `typeof import('…')` types,
// require() and `import x = require()`. Only relative specifiers are project files; packages
// ('zod', 'node:fs') are not followed. A relative specifier that names no file is reported too,
// so a typo cannot hide an import from the rules.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

export interface ProjectImport {
  /** The importing file, relative to the root, with forward slashes. */
  from: string;
  /** The imported file, relative to the root; undefined when the specifier names no file. */
  to: string | undefined;
  specifier: string;
  line: number;
}

const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts'];
/** Folders that hold no source of the project: dependencies, build output, state, VCS. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'dist-electron', 'release', 'out', '.git', '.state']);

/** Every TypeScript source file below `root` (declaration files excluded), relative, sorted. */
export function sourceFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('test-output'))
          walk(join(dir, entry.name));
      } else if (isSource(entry.name)) {
        found.push(relative(root, join(dir, entry.name)).split(sep).join('/'));
      }
    }
  };
  walk(root);
  return found.sort();
}

function isSource(name: string): boolean {
  return SOURCE_EXTENSIONS.some((ext) => name.endsWith(ext)) && !/\.d\.[mc]?ts$/.test(name);
}

/** The module specifiers in one file's text, with their 1-based lines. */
export function specifiersOf(fileName: string, text: string): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) {
      out.push({
        specifier: node.text,
        line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
      });
    }
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    )
      add(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Every project-internal import of every source file below `root`. */
export function projectImports(root: string): ProjectImport[] {
  const files = sourceFiles(root);
  const known = new Set(files);
  const imports: ProjectImport[] = [];
  for (const from of files) {
    for (const { specifier, line } of specifiersOf(from, readFileSync(join(root, from), 'utf8'))) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
      imports.push({ from, to: resolveSpecifier(root, known, from, specifier), specifier, line });
    }
  }
  return imports;
}

/**
 * How NodeNext and Vite resolve a relative specifier here: './x.js' is x.ts or x.tsx, or a folder's
 * index; any other existing file (a stylesheet) is itself.
 */
function resolveSpecifier(
  root: string,
  known: Set<string>,
  from: string,
  specifier: string,
): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const stem = base.replace(/\.[mc]?js$/, '');
  const candidates = [
    base,
    ...SOURCE_EXTENSIONS.map((ext) => `${stem}${ext}`),
    ...SOURCE_EXTENSIONS.map((ext) => `${base}/index${ext}`),
  ];
  return candidates.find((c) => known.has(c)) ?? (existsSync(join(root, base)) ? base : undefined);
}
