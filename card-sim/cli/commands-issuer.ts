// `card issuer ...`: create an issuer, revoke certificates, publish the CRL, export the CA certificate.
import { existsSync, writeFileSync } from 'node:fs';
import { fromHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import { toPem } from '../../protocol/pki/index.js';
import { defineCommand, integerOption, requireString } from '../../tooling/cli-kit.js';
import { loadCardState } from '../card-files.js';
import { createIssuer, loadIssuer, publishCrl, revokeCertificate, saveIssuer } from '../issuer/issuer.js';

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
  summary: 'Revoke a card certificate (by serial or by card file); publish a CRL afterwards.',
  usage: '--issuer issuer.json (--serial N | --card card.json) [--reason N]',
  options: {
    issuer: { type: 'string' },
    serial: { type: 'string' },
    card: { type: 'string' },
    reason: { type: 'string' },
  },
  help: {
    issuer: 'issuer file',
    serial: 'certificate serial number (decimal)',
    card: 'card file whose certificate to revoke',
    reason: 'CRL reason code (RFC 5280 §5.3.1), e.g. 1 keyCompromise',
  },
  run(args) {
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
    args.out(`certificate ${serial} revoked`, { serial: serial.toString(), revoked: issuer.revoked.length });
  },
});

export const issuerCrl = defineCommand({
  name: 'issuer-crl',
  summary: 'Publish a CRL signed by the issuer CA (DER, or PEM with --pem).',
  usage: '--issuer issuer.json --out crl.der [--pem] [--days 7]',
  options: {
    issuer: { type: 'string' },
    out: { type: 'string' },
    pem: { type: 'boolean' },
    days: { type: 'string' },
  },
  help: {
    issuer: 'issuer file',
    out: 'CRL file to write',
    pem: 'write PEM instead of DER',
    days: 'days until nextUpdate (default 7)',
  },
  run(args) {
    const path = requireString(args, 'issuer');
    const issuer = loadIssuer(path);
    const crl = publishCrl(issuer, { validityDays: integerOption(args, 'days', 7, 3650) });
    saveIssuer(path, issuer);
    const out = requireString(args, 'out');
    writeFileSync(out, args.values.pem ? toPem('X509 CRL', crl) : crl);
    args.out(`CRL #${issuer.nextCrlNumber - 1} with ${issuer.revoked.length} entries written to ${out}`, {
      file: out,
      crlNumber: issuer.nextCrlNumber - 1,
      entries: issuer.revoked.length,
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
