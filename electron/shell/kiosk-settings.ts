// Kiosk mode is on with `--kiosk` or `"kiosk": { "enabled": true }` in the configuration, and then needs
// the exit PIN's hash there too: a kiosk without an exit PIN could never be left, so it does not start.
import { TerminalError } from '../../protocol/errors.js';
import type { TerminalConfig } from '../services/config.js';
import { type ExitPinHash, parseExitPinHash } from './kiosk-exit-pin.js';

export function kioskSettings(
  flag: boolean,
  config: TerminalConfig['kiosk'],
): { exitPin: ExitPinHash } | undefined {
  if (!flag && !config?.enabled) return undefined;
  if (!config?.exitPinHash) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      'kiosk mode needs an exit PIN: put "kiosk": { "exitPinHash": "…" } in the terminal configuration (npm run kiosk-pin prints one)',
    );
  }
  return { exitPin: parseExitPinHash(config.exitPinHash) };
}
