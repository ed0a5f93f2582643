// `card issuer ...`: create an issuer, revoke certificates, publish the CRL, export the CA certificate.
//
// A CRL goes to the issuer host when the issuer has one (the host link file issuer-host.json beside
// the issuer file, or --host-link; tooling/issuer-host-link.ts): POST /crl with its staff token, and
// terminals get it on their next refresh. Without a host, the CRL is a file to carry to the terminals,
// and the commands say how.
import { existsSync, writeFileSync } from 'node:fs';
import { fromHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import { toPem } from '../../protocol/pki/index.js';
import { defineCommand, integerOption, type ParsedArgs, requireString } from '../../tooling/cli-kit.js';
import { findHostLink, HOST_LINK_FILE, withStaffLink } from '../../tooling/issuer-host-link.js';
import { loadCardState } from '../card-files.js';
import { createIssuer, loadIssuer, publishCrl, revokeCertificate, saveIssuer } from '../issuer/issuer.js';
import type { IssuerState } from '../issuer/issuer-state.js';

export const HOST_OPTIONS = { 'host-link': { type: 'string' }, offline: { type: 'boolean' } } as const;
export const HOST_HELP = {
  'host-link': `the issuer host link file (default ${HOST_LINK_FILE} beside the issuer file, if there is one)`,
  offline: 'do not contact the issuer host even if one is configured',
};

/** The host link to publish through, unless --offline or none is configured. */
export function hostLink(args: ParsedArgs, issuerFile: string): string | undefined {
  if (args.values.offline) return undefined;
  return findHostLink({ explicit: args.values['host-link'], issuerFile });
}

interface CrlSummary {
  crlNumber: string;
  revokedCount: number;
  nextUpdate: string;
}

/**
 * Signs the next CRL (the issuer file is saved first: its number is used once, whatever happens next)
 * and publishes it to the host. A host that refuses or cannot be reached is an error that says the
 * revocation is recorded and how to publish again.
 */
async function publishToHost(
  path: string,
  issuer: IssuerState,
  link: string,
  days: number,
): Promise<{ der: Uint8Array; url: string; published: CrlSummary }> {
  const der = publishCrl(issuer, { validityDays: days });
  saveIssuer(path, issuer);
  return withStaffLink(link, async ({ client, url }) => {
    try {
      const published = await client.call<CrlSummary>('POST', '/crl', der, {
        contentType: 'application/pkix-crl',
      });
      return { der, url, published };
    } catch (e) {
      const error = e instanceof TerminalError ? e : new TerminalError('E_TRANSPORT', String(e));
      throw new TerminalError(
        error.code,
        `${error.message}; the issuer file keeps every revocation: publish again with "npm run card -- issuer-crl --issuer ${path}"`,
        { ...error.details, host: url },
      );
    }
  });
}

export const issuerCreate = defineCommand({
  name: 'issuer-create',
  summary:
    'Create an issuer: CA key and certificate, update keys and transfer keys (secrets stay in the file).',
  usage: '--out issuer.json --name NAME --currency 978 [--update-keys 3] [--transfer-keys 6] [--force]',
  options: {
    out: { type: 'string' },
    name: { type: 'string' },
    currency: { type: 'string' },
    'update-keys': { type: 'string' },
    'transfer-keys': { type: 'string' },
    force: { type: 'boolean' },
  },
  help: {
    out: 'issuer file to write (mode 0600)',
    name: 'issuer name, used in the CA certificate',
    currency: 'ISO 4217 numeric currency of the purses (default 978, EUR)',
    'update-keys': 'number of update keys to generate, IDs 1..n (default 3)',
    'transfer-keys': 'number of transfer keys to generate, IDs 1..n (default 6)',
    force: 'overwrite an existing file',
  },
  run(args) {
    const out = requireString(args, 'out');
    if (existsSync(out) && !args.values.force)
      throw new TerminalError('E_INPUT_INVALID', `${out} exists; use --force to replace it`);
    const issuer = createIssuer({
      name: requireString(args, 'name'),
      currency: integerOption(args, 'currency', 978, 999),
      updateKeys: integerOption(args, 'update-keys', 3, 255),
      transferKeys: integerOption(args, 'transfer-keys', 6, 255),
    });
    saveIssuer(out, issuer);
    args.out(`issuer "${issuer.name}" written to ${out}`, {
      file: out,
      name: issuer.name,
      currency: issuer.currency,
    });
  },
});

export const issuerRevoke = defineCommand({
  name: 'issuer-revoke',
  summary:
    'Revoke a card certificate (by serial or by card file) and publish a CRL to the issuer host (if configured).',
  usage:
    '--issuer issuer.json (--serial N | --card card.json) [--reason N] [--days 7] [--host-link F] [--offline]',
  options: {
    issuer: { type: 'string' },
    serial: { type: 'string' },
    card: { type: 'string' },
    reason: { type: 'string' },
    days: { type: 'string' },
    ...HOST_OPTIONS,
  },
  help: {
    issuer: 'issuer file',
    serial: 'certificate serial number (decimal)',
    card: 'card file whose certificate to revoke',
    reason: 'CRL reason code (RFC 5280 §5.3.1), e.g. 1 keyCompromise',
    days: 'days until the published CRL’s nextUpdate (default 7)',
    ...HOST_HELP,
  },
  async run(args) {
    const path = requireString(args, 'issuer');
    const issuer = loadIssuer(path);
    let serial: bigint;
    if (typeof args.values.serial === 'string') {
      if (!/^\d+$/.test(args.values.serial))
        throw new TerminalError('E_INPUT_INVALID', '--serial must be a decimal integer');
      serial = BigInt(args.values.serial);
    } else if (typeof args.values.card === 'string') {
      const state = loadCardState(args.values.card);
      const record = issuer.issued.find((c) => c.holderId === state.holderId);
      if (!record) throw new TerminalError('E_INPUT_INVALID', 'this card was not issued by this issuer');
      serial = BigInt(record.serial);
    } else throw new TerminalError('E_INPUT_INVALID', 'give --serial or --card');
    const reason = args.values.reason === undefined ? undefined : integerOption(args, 'reason', 0, 10);
    revokeCertificate(issuer, serial, new Date(), reason);
    saveIssuer(path, issuer);
    const link = hostLink(args, path);
    if (link === undefined) {
      args.out(
        [
          `certificate ${serial} revoked in ${path}; no issuer host configured (no ${HOST_LINK_FILE} beside it), so terminals learn it from a CRL file:`,
          `  npm run card -- issuer-crl --issuer ${path} --out crl.der`,
          '  npm run terminal -- crl-import crl.der        (at each terminal)',
        ].join('\n'),
        { serial: serial.toString(), revoked: issuer.revoked.length, published: null },
      );
      return;
    }
    const { url, published } = await publishToHost(path, issuer, link, integerOption(args, 'days', 7, 3650));
    args.out(
      `certificate ${serial} revoked; CRL #${published.crlNumber} (${published.revokedCount} revoked) published to ${url}: terminals refuse the card once they refresh their CRL`,
      { serial: serial.toString(), revoked: issuer.revoked.length, published: { ...published, host: url } },
    );
  },
});

export const issuerCrl = defineCommand({
  name: 'issuer-crl',
  summary:
    'Sign a CRL with the issuer CA: published to the issuer host (if configured) and/or written to a file (DER, or PEM with --pem).',
  usage: '--issuer issuer.json [--out crl.der] [--pem] [--days 7] [--host-link F] [--offline]',
  options: {
    issuer: { type: 'string' },
    out: { type: 'string' },
    pem: { type: 'boolean' },
    days: { type: 'string' },
    ...HOST_OPTIONS,
  },
  help: {
    issuer: 'issuer file',
    out: 'CRL file to write (needed when there is no issuer host)',
    pem: 'write PEM instead of DER',
    days: 'days until nextUpdate (default 7)',
    ...HOST_HELP,
  },
  async run(args) {
    const path = requireString(args, 'issuer');
    const out = typeof args.values.out === 'string' ? args.values.out : undefined;
    const link = hostLink(args, path);
    if (out === undefined && link === undefined) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `give --out: there is no issuer host to publish to (no ${HOST_LINK_FILE} beside ${path}, or --offline)`,
      );
    }
    const issuer = loadIssuer(path);
    const days = integerOption(args, 'days', 7, 3650);
    let crl: Uint8Array;
    let host: (CrlSummary & { host: string }) | null = null;
    if (link !== undefined) {
      const { der, url, published } = await publishToHost(path, issuer, link, days);
      crl = der;
      host = { ...published, host: url };
    } else {
      crl = publishCrl(issuer, { validityDays: days });
      saveIssuer(path, issuer);
    }
    if (out !== undefined) writeFileSync(out, args.values.pem ? toPem('X509 CRL', crl) : crl);
    const number = issuer.nextCrlNumber - 1;
    const where = [out && `written to ${out}`, host && `published to ${host.host}`]
      .filter(Boolean)
      .join(' and ');
    args.out(`CRL #${number} with ${issuer.revoked.length} entries ${where}`, {
      file: out ?? null,
      crlNumber: number,
      entries: issuer.revoked.length,
      published: host,
    });
  },
});

export const issuerExportCa = defineCommand({
  name: 'issuer-export-ca',
  summary: 'Write the issuer CA certificate (PEM), for terminals and for openssl.',
  usage: '--issuer issuer.json --out ca.pem',
  options: { issuer: { type: 'string' }, out: { type: 'string' } },
  help: { issuer: 'issuer file', out: 'PEM file to write' },
  run(args) {
    const issuer = loadIssuer(requireString(args, 'issuer'));
    const out = requireString(args, 'out');
    writeFileSync(out, toPem('CERTIFICATE', fromHex(issuer.caCertificate)));
    args.out(`CA certificate written to ${out}`, { file: out });
  },
});
