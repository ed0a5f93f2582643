// Starts the terminal services for one CLI command and stops them afterwards. The configuration
// defaults to the demo shop, created on first use. STLM_FAULT_KILL_AFTER_APPEND=N makes the
// process kill itself (SIGKILL) right after its N-th journal write: the fault tests use it.
//
// While another terminal runs on the same data (the operator screen, say), a command that works
// with the cards or writes the log is refused (E_TERMINAL_IN_USE, naming that terminal): it would be
// a second writer. Commands that only read the log run beside it (withTerminalLog).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openSimulatedCard } from '../../card-sim/card-files.js';
import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import type { ParsedArgs } from '../../tooling/cli-kit.js';
import { loadConfig, type TerminalConfig } from '../services/config.js';
import { openLogReadOnly, type TerminalLogReader } from '../services/terminal-lock.js';
import { startTerminalServices, type TerminalServices } from '../services/terminal-services.js';

export const CONFIG_OPTION = { config: { type: 'string' } } as const;
export const CONFIG_HELP = { config: 'terminal configuration file (default: the demo shop in .state/demo)' };

function configOf(args: ParsedArgs): TerminalConfig {
  return loadConfig(typeof args.values.config === 'string' ? args.values.config : ensureDemoEnvironment());
}

/**
 * The terminal's log, read-only, for commands that only read it: SQLite's WAL gives a read-only
 * connection a consistent snapshot while a running terminal writes, so these need no lock and are
 * never refused. Before the terminal's first run there is no log: `work` gets undefined.
 */
export async function withTerminalLog<T>(
  args: ParsedArgs,
  work: (log: TerminalLogReader | undefined, config: TerminalConfig) => Promise<T>,
): Promise<T> {
  const config = configOf(args);
  if (!existsSync(join(config.dataDir, 'terminal.db'))) return work(undefined, config);
  const log = openLogReadOnly(config.dataDir);
  try {
    return await work(log, config);
  } finally {
    log.close();
  }
}

export async function withTerminal<T>(
  args: ParsedArgs,
  work: (t: TerminalServices) => Promise<T>,
): Promise<T> {
  const config = configOf(args);
  const killAfter = Number(process.env.STLM_FAULT_KILL_AFTER_APPEND ?? 0);
  let appends = 0;
  const services = await startTerminalServices(config, {
    openSimulatedCard,
    afterJournalAppend:
      killAfter > 0
        ? () => {
            if (++appends === killAfter) process.kill(process.pid, 'SIGKILL');
          }
        : undefined,
  });
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}
