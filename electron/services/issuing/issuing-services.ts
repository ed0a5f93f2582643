// Wiring for the CLI (and later the UI): the authority opened from an issuer file, and the issuing
// terminal talking to it in-process. The authority database lives next to the issuer file by
// default (the demo shop: .state/demo/issuer.json and .state/demo/authority.db).
import { dirname, join } from 'node:path';
import { loadIssuer } from '../../../card-sim/issuer/issuer.js';
import type { SettlementEngine } from '../settlement/settlement-engine.js';
import { CommandAuthority, type Eligibility, InProcessAuthority } from './command-authority.js';
import { IssuingTerminal } from './issuing-terminal.js';

export const AUTHORITY_DB_FILE = 'authority.db';

export function defaultAuthorityDb(issuerFile: string): string {
  return join(dirname(issuerFile), AUTHORITY_DB_FILE);
}

export function openAuthority(o: {
  issuerFile: string;
  authorityDb?: string | undefined;
  eligibility?: Eligibility;
  now?: () => Date;
}): CommandAuthority {
  const issuer = loadIssuer(o.issuerFile);
  return CommandAuthority.open({
    dbPath: o.authorityDb ?? defaultAuthorityDb(o.issuerFile),
    issuer,
    ...(o.eligibility ? { eligibility: o.eligibility } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
}

export interface IssuingServices {
  authority: CommandAuthority;
  terminal: IssuingTerminal;
  close(): void;
}

export function startIssuing(o: {
  engine: Pick<SettlementEngine, 'withCards'>;
  dataDir: string;
  issuerFile: string;
  authorityDb?: string | undefined;
  now?: () => Date;
}): IssuingServices {
  const authority = openAuthority(o);
  try {
    const terminal = new IssuingTerminal({
      engine: o.engine,
      authority: new InProcessAuthority(authority),
      dataDir: o.dataDir,
      ...(o.now ? { now: o.now } : {}),
    });
    return { authority, terminal, close: () => authority.close() };
  } catch (e) {
    authority.close();
    throw e;
  }
}
