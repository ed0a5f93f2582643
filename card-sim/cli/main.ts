// Card simulator CLI: `npm run card -- <command> --help`.

import { runCli } from '../../tooling/cli-kit.js';
import { cardInspect, cardMigrate, cardPersonalize, cardServe } from './commands-card.js';
import { issuerCreate, issuerCrl, issuerExportCa, issuerRevoke } from './commands-issuer.js';

const commands = [
  issuerCreate,
  cardPersonalize,
  cardInspect,
  cardMigrate,
  issuerRevoke,
  issuerCrl,
  issuerExportCa,
  cardServe,
];

process.exitCode = await runCli('npm run card --', commands, process.argv.slice(2));
