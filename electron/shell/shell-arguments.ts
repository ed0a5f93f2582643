// The shell's command line: `--config <file>` (default: the demo shop) and `--kiosk`. Electron puts its
// own path first, and in development the app folder ('.') second; Chromium may add switches of its
// own, so unknown options are ignored here rather than refused.
import { parseArgs } from 'node:util';

export interface ShellArguments {
  config?: string;
  kiosk: boolean;
}

export function shellArguments(argv: readonly string[], packaged: boolean): ShellArguments {
  const { values } = parseArgs({
    args: argv.slice(packaged ? 1 : 2),
    options: { config: { type: 'string' }, kiosk: { type: 'boolean' } },
    strict: false,
    allowPositionals: true,
  });
  return {
    config: typeof values.config === 'string' ? values.config : undefined,
    kiosk: values.kiosk === true,
  };
}
