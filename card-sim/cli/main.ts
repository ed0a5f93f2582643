// Card simulator CLI: `npm run card -- <command> --help`.

import { runCli } from './cli-kit.js';
import { authorityAllow, authorityDisallow, authorityStatus } from './commands-authority.js';
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
  authorityAllow,
  authorityDisallow,
  authorityStatus,
  cardServe,
];

process.exitCode = await runCli('npm run card --', commands, process.argv.slice(2));
