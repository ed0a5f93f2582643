// The issuer host's CLI: `npm run issuer -- <command> --help`. The command-generating authority's
// operator keeps its allow-list of issuing terminals and reads its registrations and log; the
// issuer's staff record the issuance of cards personalized offline (issuance-record). (The
// issuer's CA, CRL and card personalization tooling stays with the card simulator: `npm run card`.)

import { runCli } from '../../tooling/cli-kit.js';
import { authorityAllow, authorityDisallow, authorityStatus } from './commands-authority.js';
import { issuanceRecord } from './commands-issuance.js';

const commands = [authorityAllow, authorityDisallow, authorityStatus, issuanceRecord];

process.exitCode = await runCli('npm run issuer --', commands, process.argv.slice(2));
