// `card personalize`, `card inspect`, `card serve`: make a card, read what a terminal could read,
// and put cards into pcscd reader slots through vpcd.
import { existsSync, readFileSync } from 'node:fs';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import { parseCertificate } from '../../protocol/pki/index.js';
import {
  DEFAULT_NO_PIN_LIMITS,
  NO_LIMIT_AMOUNT,
  NO_LIMIT_COUNT,
  type NoPinLimits,
  PIN_FOR_EVERY_PAYMENT,
} from '../../protocol/settlement/cardholder-policy.js';
import { readBalance } from '../../protocol/settlement/read-balance.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import {
  defineCommand,
  integerOption,
  type OptionSpec,
  type ParsedArgs,
  requireString,
} from '../../tooling/cli-kit.js';
import { recordIssuanceAtHost } from '../../tooling/issuer-host-link.js';
import { type SettlementState, settlementStateCodec } from '../applets/settlement/state.js';
import { migrateCardImage } from '../applets/settlement/state-migration.js';
import { openCard, whileHolding } from '../card-files.js';
import { issuanceRequestOf } from '../issuer/issuance-request.js';
import { loadIssuer, personalizeCard, saveIssuer } from '../issuer/issuer.js';
import { FileBackend } from '../os/persistence-backend.js';
import { InProcessChannel } from '../transport/in-process-channel.js';
import { VpcdConnector } from '../transport/vpcd-connector.js';
import { HOST_HELP, HOST_OPTIONS, hostLink } from './commands-issuer.js';

/** The cardholder policy options of `personalize` and `migrate` (docs/protocol.md §4.6). */
const NO_PIN_OPTIONS: OptionSpec = {
  'no-pin-per-payment': { type: 'string' },
  'no-pin-cumulative': { type: 'string' },
  'no-pin-count': { type: 'string' },
};
const noPinHelp = (fallback: NoPinLimits) => ({
  'no-pin-per-payment': `largest payment without the PIN, minor units (default ${fallback.perPayment}; 4294967295: no limit)`,
  'no-pin-cumulative': `largest total without the PIN since it was last verified (default ${fallback.cumulative}; 4294967295: no limit)`,
  'no-pin-count': `most payments without the PIN since it was last verified (default ${fallback.consecutive}; 255: no limit)`,
});

function noPinLimits(args: ParsedArgs, fallback: NoPinLimits): NoPinLimits {
  return {
    perPayment: integerOption(args, 'no-pin-per-payment', fallback.perPayment, NO_LIMIT_AMOUNT),
    cumulative: integerOption(args, 'no-pin-cumulative', fallback.cumulative, NO_LIMIT_AMOUNT),
    consecutive: integerOption(args, 'no-pin-count', fallback.consecutive, NO_LIMIT_COUNT),
  };
}

const givesNoPinLimits = (args: ParsedArgs) =>
  Object.keys(NO_PIN_OPTIONS).some((k) => args.values[k] !== undefined);

const describeLimit = (n: number, max: number) => (n === max ? 'no limit' : String(n));
function describeLimits(l: NoPinLimits): string {
  return `without the PIN: ${describeLimit(l.perPayment, NO_LIMIT_AMOUNT)} per payment, ${describeLimit(l.cumulative, NO_LIMIT_AMOUNT)} in all, ${describeLimit(l.consecutive, NO_LIMIT_COUNT)} payments`;
}

export const cardPersonalize = defineCommand({
  name: 'personalize',
  summary:
    'Personalize a new card: holder ID, balance, term of validity, keys and certificate; its issuance is recorded at the issuer host (if configured).',
  usage:
    '--issuer issuer.json --out card.json --validity YYYYMMDD --balance N [--host-link F] [--offline] [--pin PIN [--no-pin-per-payment N] [--no-pin-cumulative N] [--no-pin-count N]] [--issuer-card] [--max-balance N] [--transfer-key-id N] [--transfer-key-limit N] [--prestored 2,3] [--update-key-id N] [--update-key-limit N] [--label NAME] [--holder-id HEX]',
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
    ...NO_PIN_OPTIONS,
    ...HOST_OPTIONS,
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
    ...noPinHelp(DEFAULT_NO_PIN_LIMITS),
    ...HOST_HELP,
  },
  async run(args) {
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
    if (givesNoPinLimits(args) && typeof args.values.pin !== 'string')
      throw new TerminalError(
        'E_INPUT_INVALID',
        'no-PIN limits need --pin: a card without a PIN has no verification',
      );
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
      noPinLimits: noPinLimits(args, DEFAULT_NO_PIN_LIMITS),
    });
    // Replacing a card file another program holds would swap the card in its reader: refused.
    const write = () => new FileBackend(out).store(settlementStateCodec.encode(state));
    if (existsSync(out)) whileHolding(out, write);
    else write();
    saveIssuer(issuerPath, issuer);
    const issued = await recordIssuance(args, issuerPath, out, state);
    const policy = state.cardholderPolicy;
    args.out(
      `card ${state.holderId} written to ${out}${policy ? `; ${describeLimits(policy)}` : ''}${issued ? `; issuance of ${issued.issuance.amount} recorded at ${issued.url}` : ''}`,
      {
        file: out,
        holderId: state.holderId,
        ...(policy ? { noPinLimits: noPinLimitsOf(policy) } : {}),
        issuance: issued ? { ...issued.issuance, host: issued.url } : null,
      },
    );
  },
});

/**
 * Records the new card's issuance at the issuer host when the issuer has one (and --offline is not
 * given) and the card holds value. The card and the issuer file are written first: a host that
 * refuses or cannot be reached is an error that says how to record the issuance later.
 */
async function recordIssuance(args: ParsedArgs, issuerPath: string, out: string, state: SettlementState) {
  const link = state.balance > 0 ? hostLink(args, issuerPath) : undefined;
  if (link === undefined) return undefined;
  try {
    return await recordIssuanceAtHost(link, issuanceRequestOf(state, state.balance));
  } catch (e) {
    const error = e instanceof TerminalError ? e : new TerminalError('E_TRANSPORT', String(e));
    throw new TerminalError(
      error.code,
      `card ${state.holderId} written to ${out}, but the issuer host did not record its issuance: ${error.message}; record it with "npm run issuer -- issuance-record --card ${out} --issuer ${issuerPath}"`,
      { ...error.details, file: out, holderId: state.holderId },
    );
  }
}

const noPinLimitsOf = (p: NoPinLimits): NoPinLimits => ({
  perPayment: p.perPayment,
  cumulative: p.cumulative,
  consecutive: p.consecutive,
});

export const cardMigrate = defineCommand({
  name: 'migrate',
  summary:
    'Migrate a version-1 card file to version 2 in place: records, keys, PIN and contents kept; the cardholder policy added.',
  usage: 'card.json [--no-pin-per-payment N] [--no-pin-cumulative N] [--no-pin-count N]',
  options: { ...NO_PIN_OPTIONS },
  help: noPinHelp(PIN_FOR_EVERY_PAYMENT),
  allowPositionals: true,
  run(args) {
    const [path] = args.positionals;
    if (!path || args.positionals.length > 1)
      throw new TerminalError('E_INPUT_INVALID', 'give exactly one card file');
    if (!existsSync(path)) throw new TerminalError('E_CARD_STATE', `no card file at ${path}`);
    const limits = noPinLimits(args, PIN_FOR_EVERY_PAYMENT);
    // Held while it is read and replaced: a terminal holding the card must not write over it.
    const result = whileHolding(path, () => {
      // Without options the migrated card needs the PIN for every payment: migration grants nothing.
      const migrated = migrateCardImage(readFileSync(path, 'utf8'), limits);
      // One atomic replace, and no copy of the old image: a copy of a card's memory is a second card.
      if (migrated.migrated) new FileBackend(path).store(settlementStateCodec.encode(migrated.state));
      return migrated;
    });
    const policy = result.state.cardholderPolicy;
    if (!result.migrated) {
      args.out(`${path} is already a version-2 card file; nothing changed`, { file: path, migrated: false });
      return;
    }
    args.out(
      `${path} migrated from version ${result.from} to version 2${policy ? `; ${describeLimits(policy)}` : '; no PIN: no cardholder verification'}`,
      {
        file: path,
        migrated: true,
        from: result.from,
        holderId: result.state.holderId,
        ...(policy ? { noPinLimits: noPinLimitsOf(policy) } : {}),
      },
    );
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
    const held = openCard(path);
    let read: Awaited<ReturnType<typeof readCard>>;
    try {
      read = await readCard(held.card.os, args.values.pin);
    } finally {
      held.release();
    }
    const { info, balance, unsettled } = read;
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
      ...(info.noPinLimits ? { noPinLimits: info.noPinLimits } : {}),
      pin: info.pin,
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
        `cardholder       ${info.noPinLimits ? `${describeLimits(info.noPinLimits)}; ${PIN_STATE_TEXT[info.pin.state]}, ${info.pin.triesLeft} tries left; left without the PIN: ${info.pin.noPinPaymentsLeft === NO_LIMIT_COUNT ? 'any number of' : info.pin.noPinPaymentsLeft} payments up to ${info.pin.noPinAmountLeft === NO_LIMIT_AMOUNT ? 'any amount' : info.pin.noPinAmountLeft}` : 'no PIN (a bearer purse)'}`,
        `certificate      serial ${view.certificate.serial}, ${view.certificate.subject}, until ${view.certificate.notAfter}`,
        `unsettled        ${view.unsettled.length}`,
      ].join('\n'),
      view,
    );
  },
});

const PIN_STATE_TEXT = ['no PIN', 'PIN set', 'PIN verified', 'PIN blocked'] as const;

/** What `inspect` shows, read over APDUs as a terminal would. */
async function readCard(os: VirtualCard, pin: unknown) {
  const client = new SettlementClient(await InProcessChannel.connect(os));
  try {
    await client.select();
    const info = await client.getCardInfo();
    if (typeof pin === 'string') await client.verifyPin(pin);
    return { info, balance: await readBalance(client), unsettled: await client.unsettledTransactions() };
  } finally {
    await client.channel.close();
  }
}

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
    const specs = args.positionals.map((spec) => {
      const m = /^(.+):(\d{1,5})$/.exec(spec);
      if (!m || Number(m[2]) > 65535)
        throw new TerminalError('E_INPUT_INVALID', `"${spec}" is not card.json:PORT`);
      return { file: m[1]!, port: Number(m[2]) };
    });
    // Each card is held while it is served: no other program can open it meanwhile.
    const held: ReturnType<typeof openCard>[] = [];
    try {
      for (const spec of specs) held.push(openCard(spec.file));
      const connectors = specs.map(
        (spec, i) => new VpcdConnector({ host, port: spec.port, card: held[i]!.card.os }),
      );
      await Promise.all(connectors.map((c) => c.connect()));
      args.out(`serving ${connectors.length} card(s) on vpcd at ${host}; Ctrl-C to remove them`, {
        serving: args.positionals,
      });
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await Promise.all(connectors.map((c) => c.close()));
    } finally {
      for (const h of held) h.release();
    }
  },
});
