// Terminal CLI for seed 000 contents: authenticate the two cards to each other, list (and read)
// contents as the session level allows, send an item or an amount, exchange (buy a ticket), and
// recover interrupted content flows. A card-to-card session lives only as long as the cards stay
// powered in this process, so every command logs in (--payer-pin/--payee-pin), authenticates and
// then acts, all in one process.

import { TerminalError } from '../../protocol/errors.js';
import { formatMoney, parseMoney } from '../../protocol/money-format.js';
import type { ListedItem } from '../../protocol/settlement/contents-codec.js';
import { defineCommand, type ParsedArgs } from '../../tooling/cli-kit.js';
import type {
  AuthenticationResult,
  ContentListing,
  ContentOffer,
  ContentOutcome,
  SessionModeName,
} from '../services/contents/content-views.js';
import { SLOT_NAMES, type SlotName } from '../services/slots/reader-slots.js';
import type { TerminalServices } from '../services/terminal-services.js';
import { loginFromArgs, PIN_HELP, PIN_OPTIONS, slotName } from './commands.js';
import { CONFIG_HELP, CONFIG_OPTION, withTerminal } from './terminal-context.js';

const MODE_OPTIONS = { 'payer-mode': { type: 'string' }, 'payee-mode': { type: 'string' } } as const;
const MODE_HELP = {
  'payer-mode':
    'what the payer card requires of the payee: basic (default) or issuer (the payee must be the issuer card; it then gets issuer access to its own contents on the payer card)',
  'payee-mode': 'the same for the payee card',
};
const SESSION_OPTIONS = { ...CONFIG_OPTION, ...PIN_OPTIONS, ...MODE_OPTIONS } as const;
const SESSION_HELP = { ...CONFIG_HELP, ...PIN_HELP, ...MODE_HELP };
const SESSION_USAGE =
  '[--payer-pin PIN] [--payee-pin PIN] [--payer-mode basic|issuer] [--payee-mode basic|issuer] [--config terminal.json]';

function mode(args: ParsedArgs, name: string): SessionModeName {
  const v = args.values[name];
  if (v === undefined) return 'basic';
  if (v !== 'basic' && v !== 'issuer')
    throw new TerminalError('E_INPUT_INVALID', `--${name} is basic or issuer, not "${String(v)}"`);
  return v;
}

/** Owner logins, then the mutual authentication (both in this process: sessions end with it). */
async function openSession(t: TerminalServices, args: ParsedArgs): Promise<AuthenticationResult> {
  const modes = { payerMode: mode(args, 'payer-mode'), payeeMode: mode(args, 'payee-mode') };
  await loginFromArgs(t, args.values);
  return t.contents.authenticate(modes);
}

function slotOption(args: ParsedArgs, name: string, fallback?: SlotName): SlotName {
  const v = args.values[name];
  if (v === undefined && fallback) return fallback;
  if (typeof v !== 'string' || !(SLOT_NAMES as readonly string[]).includes(v))
    throw new TerminalError('E_INPUT_INVALID', `--${name} is payer or payee`);
  return v as SlotName;
}

function amountOption(t: TerminalServices, args: ParsedArgs, name: string): number {
  const text = args.values[name];
  const minor = typeof text === 'string' ? parseMoney(text, t.config) : undefined;
  if (minor === undefined || minor === 0)
    throw new TerminalError('E_INPUT_INVALID', `--${name} "${String(text)}" is not an amount above zero`);
  return minor;
}

/** `--<prefix>item HEX` or `--<prefix>amount 1.50`, exactly one. */
function offerOption(t: TerminalServices, args: ParsedArgs, prefix: string): ContentOffer {
  const item = args.values[`${prefix}item`];
  const amount = args.values[`${prefix}amount`];
  if ((item === undefined) === (amount === undefined))
    throw new TerminalError('E_INPUT_INVALID', `give exactly one of --${prefix}item and --${prefix}amount`);
  if (typeof item === 'string') return { itemId: item.toUpperCase() };
  return { amount: amountOption(t, args, `${prefix}amount`) };
}

const money = (t: TerminalServices, minor: number | undefined) =>
  minor === undefined ? '(masked)' : formatMoney(minor, t.config);

function bodyText(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  const text = bytes.toString('utf8');
  return /^[\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd') ? `"${text}"` : hex;
}

function describeItem(i: ListedItem): string {
  const body = i.body === undefined ? '(body not shown at this level)' : bodyText(i.body);
  return `  ${i.id}  ${i.type.padEnd(13)} ${i.policy.padEnd(16)} ${JSON.stringify(i.label)}  ${body}${i.locked ? '  [in transfer]' : ''}`;
}

function describeListing(l: ContentListing): string {
  const level = [
    l.access.owner ? 'owner' : undefined,
    l.access.session !== 'none' ? l.access.session : undefined,
  ]
    .filter(Boolean)
    .join(' + ');
  return [
    `${l.slot} card ${l.holderId} — access: ${level || 'public'}${l.access.issuer ? ` (issuer ${l.access.issuer})` : ''}`,
    ...(l.items.length ? l.items.map(describeItem) : ['  (no contents)']),
  ].join('\n');
}

function describeSession(r: AuthenticationResult): string {
  return [
    `session ${r.payer.sessionId}`,
    ...SLOT_NAMES.map(
      (s) =>
        `  ${s.padEnd(6)} ${r[s].holderId} requires ${r[s].mode}; grants the ${s === 'payer' ? 'payee' : 'payer'} ${r[s].level} access${r[s].peerIssuer ? ` (issuer ${r[s].peerIssuer})` : ''}`,
    ),
    ...r.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

function showSteps(t: TerminalServices, args: ParsedArgs): void {
  t.engine.on((e) => {
    if (e.type === 'step' && !args.json) process.stderr.write(`  · ${e.event.flowKind} ${e.event.step}\n`);
  });
}

function reportOutcome(t: TerminalServices, args: ParsedArgs, outcome: ContentOutcome, done: string): number {
  if (outcome.status === 'completed') {
    args.out(
      [
        done,
        `payer balance ${money(t, outcome.balances.payer)}, payee ${money(t, outcome.balances.payee)}`,
        ...outcome.warnings.map((w) => `warning: ${w}`),
      ].join('\n'),
      outcome,
    );
    return 0;
  }
  const e = outcome.error;
  const recovery = outcome.status === 'interrupted' ? ` — recovery: ${outcome.recovery}` : '';
  args.out(`${outcome.status}: ${e.code} ${e.message}${recovery}`, { ...outcome, error: e.toJSON() });
  return 3;
}

export const authenticateCommand = defineCommand({
  name: 'authenticate',
  summary: 'Mutually authenticate the two cards (certificates, holder IDs, session ID and access level).',
  usage: SESSION_USAGE,
  options: { ...SESSION_OPTIONS },
  help: { ...SESSION_HELP },
  run: (args) =>
    withTerminal(args, async (t) => {
      const r = await openSession(t, args);
      args.out(describeSession(r), r);
    }),
});

export const contentsCommand = defineCommand({
  name: 'contents',
  summary: 'List the contents of the cards as their access level allows; --item reads one body.',
  usage: `[--slot payer|payee] [--item HEX] [--authenticate] ${SESSION_USAGE}`,
  options: {
    ...SESSION_OPTIONS,
    slot: { type: 'string' },
    item: { type: 'string' },
    authenticate: { type: 'boolean' },
  },
  help: {
    ...SESSION_HELP,
    slot: 'only this slot (required with --item)',
    item: 'read the body of this item (refused by the card below its level)',
    authenticate: 'authenticate the cards first (implied by --payer-mode or --payee-mode)',
  },
  run: (args) =>
    withTerminal(args, async (t) => {
      const authenticate =
        args.values.authenticate === true ||
        args.values['payer-mode'] !== undefined ||
        args.values['payee-mode'] !== undefined;
      if (authenticate) await openSession(t, args);
      else await loginFromArgs(t, args.values);
      const slots = typeof args.values.slot === 'string' ? [slotName(args.values.slot)] : [...SLOT_NAMES];
      if (typeof args.values.item === 'string') {
        if (slots.length !== 1) throw new TerminalError('E_INPUT_INVALID', '--item needs --slot');
        const read = await t.contents.readContent(slots[0]!, args.values.item);
        args.out(`${read.slot} ${read.itemId}: ${bodyText(read.body)}`, read);
        return;
      }
      const listings: ContentListing[] = [];
      for (const slot of slots) listings.push(await t.contents.listContents(slot));
      args.out(listings.map(describeListing).join('\n\n'), listings);
    }),
});

export const sendCommand = defineCommand({
  name: 'send',
  summary: 'Send an item or an amount from one card to the other, atomically (authenticates first).',
  usage: `--from payer|payee (--item HEX | --amount 1.50) ${SESSION_USAGE}`,
  options: {
    ...SESSION_OPTIONS,
    from: { type: 'string' },
    item: { type: 'string' },
    amount: { type: 'string' },
  },
  help: {
    ...SESSION_HELP,
    from: 'the sending slot',
    item: 'ID of the item to send (hex)',
    amount: 'amount to pay from the sender’s purse (needs its owner PIN)',
  },
  run: (args) =>
    withTerminal(args, async (t) => {
      const from = slotOption(args, 'from');
      const offer = offerOption(t, args, '');
      await openSession(t, args);
      showSteps(t, args);
      const outcome = await t.contents.send({ from, ...offer });
      const what = 'itemId' in offer ? `item ${offer.itemId}` : money(t, offer.amount);
      return reportOutcome(t, args, outcome, `sent ${what} from the ${from} card`);
    }),
});

export const exchangeCommand = defineCommand({
  name: 'exchange',
  summary: 'Exchange atomically, e.g. buy a ticket: the customer’s e-money for the shop’s ticket.',
  usage: `[--initiator payer|payee] (--give-item HEX | --give-amount 15.00) (--take-item HEX | --take-amount 1.00) ${SESSION_USAGE}`,
  options: {
    ...SESSION_OPTIONS,
    initiator: { type: 'string' },
    'give-item': { type: 'string' },
    'give-amount': { type: 'string' },
    'take-item': { type: 'string' },
    'take-amount': { type: 'string' },
  },
  help: {
    ...SESSION_HELP,
    initiator: 'the slot whose card starts the exchange and gives first (default payer)',
    'give-item': 'item the initiator gives',
    'give-amount': 'amount the initiator pays (needs its owner PIN)',
    'take-item': 'item the other card gives',
    'take-amount': 'amount the other card pays (needs its owner PIN)',
  },
  run: (args) =>
    withTerminal(args, async (t) => {
      const initiator = slotOption(args, 'initiator', 'payer');
      const give = offerOption(t, args, 'give-');
      const take = offerOption(t, args, 'take-');
      await openSession(t, args);
      showSteps(t, args);
      const outcome = await t.contents.exchange({ initiator, give, take });
      const what = (o: ContentOffer) => ('itemId' in o ? `item ${o.itemId}` : money(t, o.amount));
      return reportOutcome(t, args, outcome, `exchanged ${what(give)} (${initiator}) for ${what(take)}`);
    }),
});

export const recoverContentsCommand = defineCommand({
  name: 'recover-contents',
  summary:
    'Finish or roll back interrupted content transmissions and exchanges with the cards now present (the same recovery pass as recover, content flows reported).',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminal(args, async (t) => {
      const reports = (await t.recovery.run()).contents;
      const open = t.contents.openFlows();
      args.out(
        [
          ...reports.map((r) => `${r.flowId} (${r.kind}): ${r.outcome}`),
          ...(reports.length ? [] : ['nothing to recover']),
          ...(open.length ? [`${open.length} content flow(s) still waiting for a card`] : []),
        ].join('\n'),
        { reports, open },
      );
    }),
});

export const contentCommands = [
  authenticateCommand,
  contentsCommand,
  sendCommand,
  exchangeCommand,
  recoverContentsCommand,
];
