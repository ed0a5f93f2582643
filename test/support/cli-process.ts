// Running one of the project's command-line programs as its user does: a Node.js subprocess with
// the tsx loader (by absolute URL, so it runs from any working directory), in a chosen folder.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '../..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json), typed as loosely as JSON.parse types it. */
  json(): ReturnType<typeof JSON.parse>;
}

/** A runner of `program` (a path from the repository root, e.g. 'card-sim/cli/main.ts') in `cwd`. */
export function cliProcess(program: string, cwd: string): (...args: string[]) => CliRun {
  return (...args) => {
    const r = spawnSync(process.execPath, ['--import', TSX, join(ROOT, program), ...args], {
      cwd,
      encoding: 'utf8',
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
  };
}
