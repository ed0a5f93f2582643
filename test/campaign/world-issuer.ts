// The issuer of a campaign world and the files a terminal needs from it: the CA certificate and a
// built-in CRL (nothing revoked, valid for a month).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIssuer, publishCrl } from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { fromHex } from '../../protocol/bytes.js';
import { WORLD_CURRENCY } from './world-cards.js';

export function createWorldIssuer(dir: string): { issuer: IssuerState; caPath: string; crlPath: string } {
  const issuer = createIssuer({
    name: 'Campaign Issuer',
    currency: WORLD_CURRENCY,
    updateKeys: 3,
    transferKeys: 6,
  });
  const caPath = join(dir, 'ca.der');
  const crlPath = join(dir, 'builtin.crl');
  writeFileSync(caPath, fromHex(issuer.caCertificate));
  writeFileSync(crlPath, publishCrl(issuer, { now: new Date(Date.now() - 60_000), validityDays: 30 }));
  return { issuer, caPath, crlPath };
}
