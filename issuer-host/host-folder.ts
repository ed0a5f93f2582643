// A host folder on disk: host.json, the CA certificate, the host's TLS key (0600) and its
// certificate from the issuer CA, and the authority key file (0600). Written by `npm run host --
// init` and by the demo; light on purpose (no database, no server), so the demo's set-up can run in
// any process, the Electron shell's included.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IssuerState } from '../card-sim/issuer/issuer-state.js';
import { fromHex } from '../protocol/bytes.js';
import { toPem } from '../protocol/pki/index.js';
import { CLEARING_KEY_FILE, type ClearingKeyFile } from './clearing/clearing-keys.js';
import type { AuthorityKeyFile, HostConfigFile } from './config.js';
import {
  certificatePem,
  certificatePin,
  generateHostKey,
  issueHostCertificate,
} from './pki/host-certificate.js';

export interface TlsNames {
  dnsNames: string[];
  ipAddresses: string[];
  days: number;
}

export function issueTls(
  issuer: IssuerState,
  publicKey: Uint8Array,
  names: TlsNames,
): { der: Uint8Array; caDer: Uint8Array } {
  const caDer = fromHex(issuer.caCertificate);
  const now = Date.now();
  const der = issueHostCertificate({
    caPrivateKey: fromHex(issuer.caPrivateKey),
    caCertificateDer: caDer,
    hostPublicKey: publicKey,
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + names.days * 86_400_000),
  });
  return { der, caDer };
}

export function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export const AUTHORITY_KEY_FILE = 'authority-key.json';

/** The command-generating server's key file: the issuer ID and the authority signing key (0600). */
export function writeAuthorityKey(
  path: string,
  issuer: Pick<IssuerState, 'issuerId' | 'authorityPrivateKey'>,
) {
  const file: AuthorityKeyFile = {
    format: 1,
    issuerId: issuer.issuerId,
    authorityPrivateKey: issuer.authorityPrivateKey,
  };
  writeSecret(path, `${JSON.stringify(file, null, 1)}\n`);
}

/**
 * The clearing verification key set (0600): the issuer's transfer keys by ID, with which the host
 * checks the cards' MACs before it books an upload. Nothing else of the issuer's secrets.
 */
export function writeClearingKeys(path: string, issuer: Pick<IssuerState, 'issuerId' | 'transferKeys'>) {
  const file: ClearingKeyFile = {
    format: 1,
    issuerId: issuer.issuerId,
    transferKeys: { ...issuer.transferKeys },
  };
  writeSecret(path, `${JSON.stringify(file, null, 1)}\n`);
}

/**
 * Writes a host folder: host.json, the CA certificate, a new TLS key (0600) and its certificate from
 * the issuer CA, the authority key and the clearing key set (0600). Returns the configuration file
 * and the TLS pin.
 */
export function writeHostFolder(o: {
  dir: string;
  issuer: IssuerState;
  port: number;
  names: TlsNames;
  databaseUrl?: string | undefined;
}): { configFile: string; pin: string } {
  const key = generateHostKey();
  const { der, caDer } = issueTls(o.issuer, key.publicKey, o.names);
  mkdirSync(join(o.dir, 'tls'), { recursive: true, mode: 0o700 });
  writeFileSync(join(o.dir, 'ca.pem'), toPem('CERTIFICATE', caDer));
  writeFileSync(join(o.dir, 'tls', 'host-cert.pem'), certificatePem(der));
  writeSecret(join(o.dir, 'tls', 'host-key.pem'), key.privateKeyPem);
  writeAuthorityKey(join(o.dir, AUTHORITY_KEY_FILE), o.issuer);
  writeClearingKeys(join(o.dir, CLEARING_KEY_FILE), o.issuer);
  const config: HostConfigFile = {
    caCertificate: 'ca.pem',
    tls: { certificate: 'tls/host-cert.pem', privateKey: 'tls/host-key.pem' },
    listen: { host: '127.0.0.1', port: o.port },
    database: o.databaseUrl !== undefined ? { url: o.databaseUrl } : { embeddedDir: 'pgdata' },
    authority: { key: AUTHORITY_KEY_FILE },
    clearing: { keySet: CLEARING_KEY_FILE },
    issuance: { currencies: [o.issuer.currency] },
  };
  const configFile = join(o.dir, 'host.json');
  writeSecret(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return { configFile, pin: certificatePin(der) };
}
