// The issuer host's CLI: `npm run issuer -- <command> --help`. The command-generating authority's
// operator keeps its allow-list of issuing terminals and reads its registrations and log. (The
// issuer's CA, CRL and card personalization tooling stays with the card simulator: `npm run card`.)

import { runCli } from '../../tooling/cli-kit.js';
import { authorityAllow, authorityDisallow, authorityStatus } from './commands-authority.js';

const commands = [authorityAllow, authorityDisallow, authorityStatus];

process.exitCode = await runCli('npm run issuer --', commands, process.argv.slice(2));
