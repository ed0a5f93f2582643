// The issuer host: `npm run host` runs it (serve is the default command); `npm run host -- --help`
// lists the commands that set it up and look after it.
import { runCli } from '../tooling/cli-kit.js';
import { hostSetupCommands } from './host-commands.js';
import { terminalCommands } from './terminal-commands.js';
import { tokenCommands } from './token-commands.js';

const argv = process.argv.slice(2);
const first = argv[0];
// `npm run host` and `npm run host -- --config x.json` mean serve.
const defaulted =
  first === undefined || (first.startsWith('-') && first !== '--help' && first !== '-h')
    ? ['serve', ...argv]
    : argv;
process.exitCode = await runCli(
  'npm run host --',
  [...hostSetupCommands, ...tokenCommands, ...terminalCommands],
  defaulted,
);
