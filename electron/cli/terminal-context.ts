// Starts the terminal services for one CLI command and stops them afterwards. The configuration
// defaults to the demo shop, created on first use. STLM_FAULT_KILL_AFTER_APPEND=N makes the
// process kill itself (SIGKILL) right after its N-th journal write: the fault tests use it.

import { openSimulatedCard } from '../../card-sim/card-files.js';
import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import type { ParsedArgs } from '../../tooling/cli-kit.js';
import { loadConfig } from '../services/config.js';
import { startTerminalServices, type TerminalServices } from '../services/terminal-services.js';

export const CONFIG_OPTION = { config: { type: 'string' } } as const;
export const CONFIG_HELP = { config: 'terminal configuration file (default: the demo shop in .state/demo)' };

export async function withTerminal<T>(
  args: ParsedArgs,
  work: (t: TerminalServices) => Promise<T>,
): Promise<T> {
  const path = typeof args.values.config === 'string' ? args.values.config : ensureDemoEnvironment();
  const config = loadConfig(path);
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
