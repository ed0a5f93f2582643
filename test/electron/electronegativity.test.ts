// Electronegativity (Doyensec's Electron security scanner) over the shell's sources and the preload as
// bundled: zero findings. The scan reads the TypeScript directly (it parses TS with Babel); the main
// bundle is not scanned, because it inlines third-party code the scanner cannot follow and attributes
// nothing to. A second scan of a deliberately weakened copy must find the weakness, so a scanner that
// silently saw nothing would fail this test rather than pass it.
//
// One check is left out: AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK downloads Electron's release list from
// GitHub to compare versions. It is about the Electron version in package.json, not about the shell's
// code, and these machines have no internet. One finding is switched off in the code, with its reason:
// PRELOAD_JS_CHECK (a "review the preload" reminder raised for any preload) in shell/main-window.ts.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildShell } from '../../electron/shell-build/build-shell.js';

interface Issue {
  id: string;
  file: string;
  location: { line: number; column: number };
  description: string;
  sample?: string;
}
interface ScanResult {
  errors: { file: string; message: string }[];
  issues: Issue[];
  atomicChecks: number;
  globalChecks: number;
}
type Electronegativity = (options: Record<string, unknown>, forCli: boolean) => Promise<ScanResult>;

const require = createRequire(import.meta.url);
const electronegativity = require('@doyensec/electronegativity') as Electronegativity;
const electronVersion = (require('electron/package.json') as { version: string }).version;
const root = join(import.meta.dirname, '../..');

/** The shell as the app runs it: main.ts, preload.ts, shell/*.ts, and the preload bundle. */
async function shellCopy(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'electronegativity-'));
  mkdirSync(join(dir, 'shell'));
  cpSync(join(root, 'electron', 'main.ts'), join(dir, 'main.ts'));
  cpSync(join(root, 'electron', 'preload.ts'), join(dir, 'preload.ts'));
  cpSync(join(root, 'electron', 'shell'), join(dir, 'shell'), { recursive: true });
  writeFileSync(join(dir, 'preload.cjs'), (await buildShell({ write: false })).preload);
  return dir;
}

function scan(input: string): Promise<ScanResult> {
  return electronegativity(
    {
      input,
      isRelative: true,
      isVerbose: false,
      customScan: [],
      excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
      electronVersionOverride: electronVersion,
      parserPlugins: [],
    },
    false,
  );
}

const describeIssues = (issues: Issue[]) =>
  issues
    .map((i) => `${i.id} ${i.file}:${i.location.line} ${i.description}\n    ${i.sample ?? ''}`)
    .join('\n');

describe('the Electronegativity scan', () => {
  it('finds nothing in the shell and the preload', async () => {
    const result = await scan(await shellCopy());
    if (result.issues.length > 0) console.log(describeIssues(result.issues));
    expect(result.atomicChecks).toBeGreaterThan(30);
    // A file the scanner cannot parse is a file it did not check.
    expect(result.errors).toEqual([]);
    expect(result.issues.map((i) => `${i.id} ${i.file}:${i.location.line}`)).toEqual([]);
  });

  it('finds a weakened copy: no context isolation, inline scripts, no navigation, window or permission limits', async () => {
    const dir = await shellCopy();
    const edit = (file: string, from: string | RegExp, to: string) => {
      const path = join(dir, 'shell', file);
      const text = readFileSync(path, 'utf8');
      expect(text).toMatch(from);
      writeFileSync(path, text.replace(from, to));
    };
    edit('main-window.ts', 'contextIsolation: true', 'contextIsolation: false');
    edit('response-headers.ts', 'script-src app://terminal', "script-src 'unsafe-inline' app://terminal");
    edit('navigation-guard.ts', /contents\.on\('will-navigate'.*\n/, '');
    edit('navigation-guard.ts', /contents\.setWindowOpenHandler\(.*\n/, '');
    edit('session-policy.ts', /session\.setPermissionRequestHandler\(.*\n/, '');
    const ids = (await scan(dir)).issues.map((i) => i.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'CONTEXT_ISOLATION_JS_CHECK',
        'CSP_GLOBAL_CHECK',
        'LIMIT_NAVIGATION_GLOBAL_CHECK',
        'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK',
      ]),
    );
  });
});
