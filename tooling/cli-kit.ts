// Shared plumbing of the project's command-line tools: strict option parsing with --help on every
// command, typed errors printed with their code, and --json output for scripts.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ERROR_CODES, errorMessage, TerminalError, toTerminalError } from '../protocol/errors.js';
import { setProgramLabel } from './process-lock.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** Describes each option for --help. */
  help: Record<string, string>;
  allowPositionals?: boolean;
  /** Returns an exit code (default 0) or throws a TerminalError (exit 2). */
  // biome-ignore lint/suspicious/noConfusingVoidType: a command that just prints returns nothing
  run(args: ParsedArgs): Promise<number | undefined | void> | number | undefined | void;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  json: boolean;
  out: (human: string, machine?: unknown) => void;
}

export function defineCommand(c: Command): Command {
  return c;
}

export async function runCli(program: string, commands: Command[], argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(programHelp(program, commands));
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(
      `error E_INPUT_INVALID: unknown command "${name}"\n\n${programHelp(program, commands)}`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(program, command));
    return 0;
  }
  // How another program refused a card or a terminal's data names this one.
  setProgramLabel(`${program} ${command.name}`);
  const json = rest.includes('--json');
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...command.options, json: { type: 'boolean' } },
        allowPositionals: command.allowPositionals ?? false,
        strict: true,
      });
    } catch (e) {
      throw new TerminalError('E_INPUT_INVALID', errorMessage(e));
    }
    const out = (human: string, machine?: unknown) => {
      if (json) process.stdout.write(`${JSON.stringify(machine ?? { message: human }, jsonReplacer, 2)}\n`);
      else process.stdout.write(`${human}\n`);
    };
    const code = await command.run({ values: parsed.values, positionals: parsed.positionals, json, out });
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    const error = toTerminalError(e);
    if (json) process.stdout.write(`${JSON.stringify({ error: error.toJSON() }, jsonReplacer, 2)}\n`);
    process.stderr.write(`error ${error.code}: ${error.message}\n  (${ERROR_CODES[error.code]})\n`);
    return error.code === 'E_INTERNAL' ? 1 : 2;
  }
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex').toUpperCase();
  return value;
}

function programHelp(program: string, commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `usage: ${program} <command> [options]`,
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run "${program} <command> --help" for a command's options. Every command accepts --json.`,
    '',
  ].join('\n');
}

function commandHelp(program: string, c: Command): string {
  const entries: [string, string][] = [...Object.entries(c.help), ['json', 'machine-readable output']];
  const width = Math.max(...entries.map(([k]) => k.length)) + 2;
  return [
    `usage: ${program} ${c.name} ${c.usage}`,
    '',
    c.summary,
    '',
    'options:',
    ...entries.map(([k, v]) => `  --${k.padEnd(width)}${v}`),
    '',
  ].join('\n');
}

/** Reads a required string option. */
export function requireString(args: ParsedArgs, name: string): string {
  const v = args.values[name];
  if (typeof v !== 'string' || v.length === 0)
    throw new TerminalError('E_INPUT_INVALID', `--${name} is required`);
  return v;
}

/** Parses a non-negative integer option (uint32 by default). */
export function integerOption(args: ParsedArgs, name: string, fallback?: number, max = 0xffffffff): number {
  const v = args.values[name];
  if (v === undefined) {
    if (fallback === undefined) throw new TerminalError('E_INPUT_INVALID', `--${name} is required`);
    return fallback;
  }
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) > max) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `--${name} must be an integer from 0 to ${max}, got "${String(v)}"`,
    );
  }
  return Number(v);
}
