// The command-generating authority opened from an issuer file: its signing key and issuer ID come
// from the issuer, its database lives next to the issuer file by default (the demo shop:
// .state/demo/issuer.json and .state/demo/authority.db).
import { dirname, join } from 'node:path';
import { loadIssuer } from '../../card-sim/issuer/issuer.js';
import { CommandAuthority, type Eligibility } from './command-authority.js';

export const AUTHORITY_DB_FILE = 'authority.db';

/** Where an issuer's authority database is unless one is named: authority.db next to the issuer file. */
export function defaultAuthorityDb(issuerFile: string): string {
  return join(dirname(issuerFile), AUTHORITY_DB_FILE);
}

/** Opens (creating and migrating) the authority of the issuer in `issuerFile`; the caller closes it. */
export function openAuthority(o: {
  issuerFile: string;
  authorityDb?: string | undefined;
  eligibility?: Eligibility;
  now?: () => Date;
}): CommandAuthority {
  return CommandAuthority.open({
    dbPath: o.authorityDb ?? defaultAuthorityDb(o.issuerFile),
    issuer: loadIssuer(o.issuerFile),
    eligibility: o.eligibility,
    now: o.now,
  });
}
