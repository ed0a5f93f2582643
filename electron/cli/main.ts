// Terminal CLI: `npm run terminal -- <command> --help`. Drives the same services as the UI.
import { runCli } from '../../tooling/cli-kit.js';
import {
  crlImportCommand,
  crlRefreshCommand,
  crlStatusCommand,
  demoSetupCommand,
  logCommand,
  readCommand,
  slotsCommand,
  transferCommand,
  updateKeysCommand,
  verifyLogCommand,
} from './commands.js';
import { contentCommands } from './commands-contents.js';
import { hostHelloCommand, hostKeyCommand, syncCommand } from './commands-host.js';
import { issueCommand, issuingStatusCommand } from './commands-issuing.js';
import { recoveryCommands } from './commands-recovery.js';

const commands = [
  slotsCommand,
  readCommand,
  updateKeysCommand,
  transferCommand,
  logCommand,
  verifyLogCommand,
  ...recoveryCommands,
  ...contentCommands,
  crlStatusCommand,
  crlImportCommand,
  crlRefreshCommand,
  issueCommand,
  issuingStatusCommand,
  hostKeyCommand,
  hostHelloCommand,
  syncCommand,
  demoSetupCommand,
];

process.exitCode = await runCli('npm run terminal --', commands, process.argv.slice(2));
