// The terminal CLI's commands: the same services as the operator UI, for scripts and support.

import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { TerminalError } from '../../protocol/errors.js';
import { formatMoney, parseMoney } from '../../protocol/money-format.js';
import { defineCommand, integerOption, requireString } from '../../tooling/cli-kit.js';
import type { TerminalConfig } from '../services/config.js';
import type { CardView } from '../services/settlement/settlement-engine.js';
import { SLOT_NAMES, type SlotName } from '../services/slots/reader-slots.js';
import { createReports, type TerminalServices } from '../services/terminal-services.js';
import { CONFIG_HELP, CONFIG_OPTION, withTerminal, withTerminalLog } from './terminal-context.js';

export const money = (t: { config: TerminalConfig }, minor: number | undefined) =>
  minor === undefined ? '(masked)' : formatMoney(minor, t.config);

/** Owner-mode logins given on the command line (--payer-pin, --payee-pin). */
export const PIN_OPTIONS = { 'payer-pin': { type: 'string' }, 'payee-pin': { type: 'string' } } as const;
export const PIN_HELP = {
  'payer-pin': 'log in as the payer card owner first (shows its balance)',
  'payee-pin': 'same for the payee card',
};

export async function loginFromArgs(t: TerminalServices, values: Record<string, unknown>): Promise<void> {
  for (const slot of SLOT_NAMES) {
    const pin = values[`${slot}-pin`];
    if (typeof pin === 'string') await t.engine.login(slot, pin);
  }
}

export const slotsCommand = defineCommand({
  name: 'slots',
  summary: 'List the two reader slots: reader, card presence.',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminal(args, async (t) => {
      const status = t.slots.status();
      args.out(
        status
          .map(
            (s) =>
              `${s.slot.padEnd(6)} ${s.readerPresent ? s.reader : '(no reader)'}  ${s.cardPresent ? 'card present' : 'empty'}`,
          )
          .join('\n'),
        status,
      );
    }),
});

export const readCommand = defineCommand({
  name: 'read',
  summary: 'Read the cards: holder, validity, keys, certificate status, balance.',
  usage: '[--slot payer|payee] [--payer-pin PIN] [--payee-pin PIN] [--config terminal.json]',
  options: { ...CONFIG_OPTION, ...PIN_OPTIONS, slot: { type: 'string' } },
  help: { ...CONFIG_HELP, ...PIN_HELP, slot: 'read only this slot' },
  run: (args) =>
    withTerminal(args, async (t) => {
      await loginFromArgs(t, args.values);
      const slots = typeof args.values.slot === 'string' ? [slotName(args.values.slot)] : [...SLOT_NAMES];
      const views: CardView[] = [];
      for (const slot of slots) views.push(await t.engine.readCard(slot));
      args.out(views.map((v) => describeCard(t, v)).join('\n\n'), views);
    }),
});

export const updateKeysCommand = defineCommand({
  name: 'update-keys',
  summary: 'Bring both cards to the newer transfer key (and update key) by the route the seed prescribes.',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminal(args, async (t) => {
      const updates = await t.engine.updateKeys();
      args.out(
        updates.length
          ? updates.map((u) => `${u.receiver}: ${u.route} route — ${u.reason}`).join('\n')
          : 'keys already match',
        { updates },
      );
    }),
});

export const transferCommand = defineCommand({
  name: 'transfer',
  summary: 'Transfer an amount from the payer card to the payee card (key update first if needed).',
  usage: '--amount 12.50 | --minor 1250 [--payer-pin PIN] [--payee-pin PIN] [--config terminal.json]',
  options: { ...CONFIG_OPTION, ...PIN_OPTIONS, amount: { type: 'string' }, minor: { type: 'string' } },
  help: {
    ...CONFIG_HELP,
    ...PIN_HELP,
    amount: 'amount in currency units, e.g. 12.50',
    minor: 'amount in minor units, e.g. 1250',
  },
  run: (args) =>
    withTerminal(args, async (t) => {
      await loginFromArgs(t, args.values);
      let amount: number;
      if (typeof args.values.minor === 'string') amount = integerOption(args, 'minor');
      else {
        const parsed = parseMoney(requireString(args, 'amount'), t.config);
        if (parsed === undefined)
          throw new TerminalError('E_INPUT_INVALID', `"${String(args.values.amount)}" is not an amount`);
        amount = parsed;
      }
      t.engine.on((e) => {
        if (e.type === 'step' && !args.json)
          process.stderr.write(`  · ${e.event.flowKind} ${e.event.step}\n`);
      });
      const outcome = await t.engine.transfer({ amount });
      if (outcome.status === 'completed') {
        args.out(
          [
            ...outcome.keyUpdates.map((k) => `key update on ${k.receiver}: ${k.route} route (${k.reason})`),
            `transferred ${money(t, amount)}; payer now ${money(t, outcome.balances.payer)}, payee ${money(t, outcome.balances.payee)}`,
            ...outcome.warnings.map((w) => `warning: ${w}`),
          ].join('\n'),
          outcome,
        );
        return 0;
      }
      const error = outcome.error;
      const hint =
        error.code === 'E_PIN_REQUIRED' && error.details.slot === 'payer'
          ? ' — give the card holder’s PIN with --payer-pin'
          : 'inDoubt' in outcome && outcome.inDoubt
            ? ' — value in doubt, see in-doubt'
            : '';
      args.out(`${outcome.status}: ${error.code} ${error.message}${hint}`, {
        ...outcome,
        error: error.toJSON(),
      });
      return 3;
    }),
});

export const logCommand = defineCommand({
  name: 'log',
  summary: 'Show the transaction log, newest first (also while a terminal runs on it).',
  usage: '[--limit 20] [--before SEQ] [--search TEXT] [--config terminal.json]',
  options: {
    ...CONFIG_OPTION,
    limit: { type: 'string' },
    before: { type: 'string' },
    search: { type: 'string' },
  },
  help: {
    ...CONFIG_HELP,
    limit: 'entries per page (default 20)',
    before: 'show entries before this sequence number',
    search:
      "only whole flows matching it: a holder's name, an item, an amount as typed (12.50), a flow or card ID",
  },
  run: (args) =>
    withTerminalLog(args, async (log, config) => {
      // The screen's log: each entry with its flow's facts, an older page only when there is one.
      const query = {
        limit: integerOption(args, 'limit', 20, 1000),
        beforeSeq: args.values.before !== undefined ? integerOption(args, 'before') : undefined,
        search: typeof args.values.search === 'string' ? args.values.search : undefined,
      };
      const page = log
        ? createReports(config, log.journal, log.flows).log.page(query)
        : { records: [], nextBeforeSeq: undefined };
      args.out(
        page.records
          .map(
            (r) =>
              `${String(r.seq).padStart(6)} ${r.at} ${r.flowKind.padEnd(14)} ${r.step.padEnd(22)} ${r.flowId}`,
          )
          .join('\n') || '(empty)',
        page,
      );
    }),
});

export const verifyLogCommand = defineCommand({
  name: 'verify-log',
  summary: 'Verify the transaction log hash chain; exit code 4 if any row was edited or deleted.',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminalLog(args, async (log) => {
      const result = log ? await log.journal.verifyParallel() : ({ ok: true, count: 0 } as const);
      if (result.ok) {
        args.out(`log verified: ${result.count} entries, hash chain intact`, result);
        return 0;
      }
      args.out(`LOG TAMPERED at entry ${result.firstBadSeq}: ${result.reason}`, result);
      return 4;
    }),
});

export const crlStatusCommand = defineCommand({
  name: 'crl-status',
  summary: 'Show the CRL in use: number, dates, entries, freshness.',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminal(args, async (t) => {
      const s = t.crl.status();
      args.out(
        `CRL ${s.state}${s.crlNumber ? ` #${s.crlNumber}` : ''} from ${s.source ?? 'nowhere'}; ${s.revokedCount} revoked; next update ${s.nextUpdate ?? '-'}`,
        s,
      );
    }),
});

export const crlImportCommand = defineCommand({
  name: 'crl-import',
  summary: 'Import a CRL file (DER or PEM) after verifying its CA signature.',
  usage: 'crl.der [--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  allowPositionals: true,
  run: (args) =>
    withTerminal(args, async (t) => {
      const [file] = args.positionals;
      if (!file || args.positionals.length !== 1)
        throw new TerminalError('E_INPUT_INVALID', 'give exactly one CRL file');
      const s = t.crl.importFile(file);
      args.out(`imported CRL #${s.crlNumber} with ${s.revokedCount} revoked certificates`, s);
    }),
});

export const crlRefreshCommand = defineCommand({
  name: 'crl-refresh',
  summary: 'Fetch the CRL from the CA distribution point (keeps the last good one on failure).',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminal(args, async (t) => {
      const s = await t.crl.refresh();
      const r = s.lastRefresh;
      args.out(
        r?.ok
          ? `CRL ${r.notModified ? 'unchanged' : 'updated'}: #${s.crlNumber}`
          : `refresh failed: ${r?.error?.code} ${r?.error?.message}`,
        s,
      );
      return r?.ok ? 0 : 5;
    }),
});

export const demoSetupCommand = defineCommand({
  name: 'demo-setup',
  summary: 'Create the demo shop (issuer, two simulated cards, configuration) if it does not exist.',
  usage: '[--dir .state/demo]',
  options: { dir: { type: 'string' } },
  help: { dir: 'folder for the demo files' },
  run(args) {
    const path = ensureDemoEnvironment(typeof args.values.dir === 'string' ? args.values.dir : undefined);
    args.out(`demo configuration: ${path}`, { config: path });
  },
});

export function slotName(text: string): SlotName {
  if (!(SLOT_NAMES as readonly string[]).includes(text))
    throw new TerminalError('E_INPUT_INVALID', '--slot is payer or payee');
  return text as SlotName;
}

function describeCard(t: TerminalServices, v: CardView): string {
  return [
    `${v.slot}: ${v.certificate.subject}`,
    `  holder ID     ${v.holderId}`,
    `  valid through ${v.validity}${v.expired ? ' (EXPIRED)' : ''}`,
    `  balance       ${money(t, v.balance)} (available ${money(t, v.availableBalance)}, max ${money(t, v.maxBalance)})`,
    `  transfer key  ${v.transferKeyId} (limit ${v.transferKeyIdLimit}${v.prestoredTransferKeyIds.length ? `, pre-stored ${v.prestoredTransferKeyIds.join(',')}` : ''})`,
    `  update key    ${v.updateKeyId} (limit ${v.updateKeyIdLimit})`,
    `  certificate   serial ${v.certificate.serial}, ${v.certificate.status}`,
    `  unsettled     ${v.unsettledDebits} debit(s), ${v.pendingCredits} pending credit(s)`,
  ].join('\n');
}
