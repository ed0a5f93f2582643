// `card personalize`, `card inspect`, `card serve`: make a card, read what a terminal could read,
// and put cards into pcscd reader slots through vpcd.
import { existsSync } from 'node:fs';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import { parseCertificate } from '../../protocol/pki/index.js';
import { readBalance } from '../../protocol/settlement/read-balance.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { defineCommand, integerOption, requireString } from '../../tooling/cli-kit.js';
import { settlementStateCodec } from '../applets/settlement/state.js';
import { openCard } from '../card-files.js';
import { loadIssuer, personalizeCard, saveIssuer } from '../issuer/issuer.js';
import { FileBackend } from '../os/persistence-backend.js';
import { InProcessChannel } from '../transport/in-process-channel.js';
import { VpcdConnector } from '../transport/vpcd-connector.js';

export const cardPersonalize = defineCommand({
  name: 'personalize',
  summary: 'Personalize a new card: holder ID, balance, term of validity, keys and certificate.',
  usage:
    '--issuer issuer.json --out card.json --validity YYYYMMDD --balance N [--pin PIN] [--issuer-card] [--max-balance N] [--transfer-key-id N] [--transfer-key-limit N] [--prestored 2,3] [--update-key-id N] [--update-key-limit N] [--label NAME] [--holder-id HEX]',
  options: {
    issuer: { type: 'string' },
    out: { type: 'string' },
    validity: { type: 'string' },
    balance: { type: 'string' },
    'max-balance': { type: 'string' },
    'transfer-key-id': { type: 'string' },
    'transfer-key-limit': { type: 'string' },
    prestored: { type: 'string' },
    'update-key-id': { type: 'string' },
    'update-key-limit': { type: 'string' },
    label: { type: 'string' },
    'holder-id': { type: 'string' },
    pin: { type: 'string' },
    'issuer-card': { type: 'boolean' },
    force: { type: 'boolean' },
  },
  help: {
    issuer: 'issuer file (its serial counter is updated)',
    out: 'card file to write (mode 0600: it is the card’s memory, secrets included)',
    validity: 'last valid day, YYYYMMDD',
    balance: 'initial balance in minor units',
    'max-balance': 'maximum balance in minor units (default 1000000)',
    'transfer-key-id': 'current transfer key ID (default 1)',
    'transfer-key-limit': 'transfer key ID upper limit (default: the issuer’s highest ID)',
    prestored: 'comma-separated newer transfer key IDs stored in advance (embodiment 4)',
    'update-key-id': 'update key ID, 0 for none (default 1)',
    'update-key-limit': 'update key ID upper limit (default: the issuer’s highest ID)',
    label: 'card label, the certificate common name',
    'holder-id': '16-byte holder ID in hex (default random)',
    pin: 'owner PIN, 4–12 digits (owner mode); its unblock code is kept in the issuer file',
    'issuer-card': 'make an issuer card (issuer-role certificate), e.g. a shop’s issuing card',
    force: 'overwrite an existing card file',
  },
  run(args) {
    const issuerPath = requireString(args, 'issuer');
    const out = requireString(args, 'out');
    if (existsSync(out) && !args.values.force)
      throw new TerminalError('E_INPUT_INVALID', `${out} exists; use --force to replace it`);
    const issuer = loadIssuer(issuerPath);
    const maxId = (set: Record<string, string>) => Math.max(0, ...Object.keys(set).map(Number));
    const prestored =
      typeof args.values.prestored === 'string' && args.values.prestored.length > 0
        ? args.values.prestored.split(',').map((x) => {
            if (!/^\d+$/.test(x.trim()))
              throw new TerminalError('E_INPUT_INVALID', '--prestored takes comma-separated IDs');
            return Number(x);
          })
        : [];
    let holderId: Uint8Array | undefined;
    if (typeof args.values['holder-id'] === 'string') {
      try {
        holderId = fromHex(args.values['holder-id']);
      } catch {
        holderId = undefined;
      }
      if (holderId?.length !== 16)
        throw new TerminalError('E_INPUT_INVALID', '--holder-id must be 32 hex digits');
    }
    const validity = requireString(args, 'validity');
    if (!/^\d{8}$/.test(validity)) throw new TerminalError('E_INPUT_INVALID', '--validity must be YYYYMMDD');
    const state = personalizeCard(issuer, {
      validity,
      balance: integerOption(args, 'balance'),
      maxBalance: integerOption(args, 'max-balance', 1_000_000),
      transferKeyId: integerOption(args, 'transfer-key-id', 1),
      transferKeyIdLimit: integerOption(args, 'transfer-key-limit', maxId(issuer.transferKeys)),
      prestoredTransferKeyIds: prestored,
      updateKeyId: integerOption(args, 'update-key-id', 1),
      updateKeyIdLimit: integerOption(args, 'update-key-limit', maxId(issuer.updateKeys)),
      label: typeof args.values.label === 'string' ? args.values.label : undefined,
      holderId,
      pin: typeof args.values.pin === 'string' ? args.values.pin : undefined,
      issuerCard: args.values['issuer-card'] === true,
    });
    new FileBackend(out).store(settlementStateCodec.encode(state));
    saveIssuer(issuerPath, issuer);
    args.out(`card ${state.holderId} written to ${out}`, { file: out, holderId: state.holderId });
  },
});

export const cardInspect = defineCommand({
  name: 'inspect',
  summary: 'Show what a terminal can read from a card (its public data, over APDUs).',
  usage: 'card.json [--pin PIN] [--json]',
  options: { pin: { type: 'string' } },
  help: { pin: 'the owner PIN: the card shows its balance only in owner mode' },
  allowPositionals: true,
  async run(args) {
    const [path] = args.positionals;
    if (!path || args.positionals.length > 1)
      throw new TerminalError('E_INPUT_INVALID', 'give exactly one card file');
    const card = openCard(path);
    const client = new SettlementClient(await InProcessChannel.connect(card.os));
    await client.select();
    const info = await client.getCardInfo();
    if (typeof args.values.pin === 'string') await client.verifyPin(args.values.pin);
    const balance = await readBalance(client);
    const unsettled = await client.unsettledTransactions();
    await client.channel.close();
    const cert = parseCertificate(info.certificate);
    const view = {
      holderId: toHex(info.holderId),
      validity: info.validity,
      currency: info.currency,
      balance,
      transferKeyId: info.transferKeyId,
      transferKeyIdLimit: info.transferKeyIdLimit,
      prestoredTransferKeyIds: info.prestoredTransferKeyIds,
      updateKeyId: info.updateKeyId,
      updateKeyIdLimit: info.updateKeyIdLimit,
      certificate: {
        serial: cert.serial.toString(),
        subject: cert.subjectName,
        notAfter: cert.notAfter.toISOString(),
      },
      unsettled: unsettled.map((r) => ({
        role: r.role,
        status: r.status,
        amount: r.amount,
        txId: toHex(r.txRandom),
      })),
    };
    args.out(
      [
        `holder ID        ${view.holderId}`,
        `valid through    ${view.validity}`,
        `balance          ${balance ? `${balance.balance} (max ${balance.maxBalance}, currency ${balance.currency})` : '(masked: give --pin)'}`,
        `transfer key     ID ${view.transferKeyId} (limit ${view.transferKeyIdLimit}; pre-stored ${view.prestoredTransferKeyIds.join(', ') || 'none'})`,
        `update key       ID ${view.updateKeyId} (limit ${view.updateKeyIdLimit})`,
        `certificate      serial ${view.certificate.serial}, ${view.certificate.subject}, until ${view.certificate.notAfter}`,
        `unsettled        ${view.unsettled.length}`,
      ].join('\n'),
      view,
    );
  },
});

export const cardServe = defineCommand({
  name: 'serve',
  summary: 'Insert cards into pcscd reader slots through vpcd (card.json:PORT ...); runs until stopped.',
  usage: 'card.json:35963 [other.json:35964 ...] [--host 127.0.0.1]',
  options: { host: { type: 'string' } },
  help: { host: 'address vpcd listens on (default 127.0.0.1)' },
  allowPositionals: true,
  async run(args) {
    if (args.positionals.length === 0)
      throw new TerminalError('E_INPUT_INVALID', 'give at least one card.json:PORT');
    const host = typeof args.values.host === 'string' ? args.values.host : '127.0.0.1';
    const connectors = args.positionals.map((spec) => {
      const m = /^(.+):(\d{1,5})$/.exec(spec);
      if (!m || Number(m[2]) > 65535)
        throw new TerminalError('E_INPUT_INVALID', `"${spec}" is not card.json:PORT`);
      return new VpcdConnector({ host, port: Number(m[2]), card: openCard(m[1]!).os });
    });
    await Promise.all(connectors.map((c) => c.connect()));
    args.out(`serving ${connectors.length} card(s) on vpcd at ${host}; Ctrl-C to remove them`, {
      serving: args.positionals,
    });
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    await Promise.all(connectors.map((c) => c.close()));
  },
});
