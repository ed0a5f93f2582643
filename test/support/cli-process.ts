// Running one of the project's command-line programs as its user does: a Node.js subprocess with
// the tsx loader (by absolute URL, so it runs from any working directory), in a chosen folder.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { vi } from 'vitest';
import { type Command, runCli } from '../../tooling/cli-kit.js';

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

/**
 * The same, without blocking this process while the program runs: for programs that talk to a
 * server this test process serves (a host started in the test).
 */
export function cliProcessAsync(program: string, cwd: string): (...args: string[]) => Promise<CliRun> {
  return (...args) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', TSX, join(ROOT, program), ...args], { cwd });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
      });
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }));
    });
}

/** A command line run in this process (its logic, quickly), with what it prints captured. */
export async function runCliHere(commands: Command[], ...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out.push(String(c));
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err.push(String(c));
    return true;
  });
  try {
    const code = await runCli('test', commands, argv);
    const text = out.join('');
    return { code, stdout: text, stderr: err.join(''), json: () => JSON.parse(text) };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
