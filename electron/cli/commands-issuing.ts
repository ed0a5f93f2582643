// Terminal CLI: issuing tickets and coupons onto a card under a create right from the
// command-generating authority (seed 000, second embodiment), and the issuing status.
import { dirname, join, resolve } from 'node:path';
import { DEMO_DIR } from '../../demo/demo-environment.js';
import { defaultAuthorityDb, type IssuingServices, startIssuing } from '../../demo/in-process-issuing.js';
import { TerminalError } from '../../protocol/errors.js';
import {
  CONTENT_POLICIES,
  CONTENT_TYPES,
  type ContentPolicy,
  type ContentType,
} from '../../protocol/settlement/contents-codec.js';
import { defineCommand, integerOption, type ParsedArgs, requireString } from '../../tooling/cli-kit.js';
import type { IssueOutcome } from '../services/issuing/issuing-terminal.js';
import { newItem } from '../services/issuing/issuing-terminal.js';
import { SLOT_NAMES, type SlotName } from '../services/slots/reader-slots.js';
import type { TerminalServices } from '../services/terminal-services.js';
import { CONFIG_HELP, CONFIG_OPTION, withTerminal } from './terminal-context.js';

const AUTHORITY_OPTIONS = {
  'issuer-file': { type: 'string' },
  'authority-db': { type: 'string' },
} as const;
const AUTHORITY_HELP = {
  'issuer-file':
    'issuer file holding the authority signing key (default: issuer.json next to the configuration, i.e. .state/demo/issuer.json)',
  'authority-db': 'the authority database (default: authority.db next to the issuer file)',
};

function issuerFile(args: ParsedArgs): string {
  if (typeof args.values['issuer-file'] === 'string') return args.values['issuer-file'];
  const config =
    typeof args.values.config === 'string' ? args.values.config : join(DEMO_DIR, 'terminal.json');
  return join(dirname(resolve(config)), 'issuer.json');
}

async function withIssuing<T>(
  args: ParsedArgs,
  work: (t: TerminalServices, i: IssuingServices) => Promise<T>,
) {
  return withTerminal(args, async (t) => {
    const file = issuerFile(args);
    const db = typeof args.values['authority-db'] === 'string' ? args.values['authority-db'] : undefined;
    const issuing = startIssuing({
      engine: t.engine,
      dataDir: t.config.dataDir,
      issuerFile: file,
      authorityDb: db,
    });
    try {
      return await work(t, issuing);
    } finally {
      issuing.close();
    }
  });
}

export const issueCommand = defineCommand({
  name: 'issue',
  summary:
    'Issue a ticket or coupon onto the card in a slot, under a create right from the command-generating authority.',
  usage:
    '--type ticket|coupon --label TEXT [--body-text TEXT] [--slot payee] [--policy POLICY] [--issuer-file issuer.json] [--authority-db authority.db] [--config terminal.json]',
  options: {
    ...CONFIG_OPTION,
    ...AUTHORITY_OPTIONS,
    slot: { type: 'string' },
    type: { type: 'string' },
    label: { type: 'string' },
    'body-text': { type: 'string' },
    policy: { type: 'string' },
  },
  help: {
    ...CONFIG_HELP,
    ...AUTHORITY_HELP,
    slot: 'slot of the card that receives the item (default payee)',
    type: `content type: ${CONTENT_TYPES.join(', ')}`,
    label: 'public name of the item, at most 48 bytes',
    'body-text': 'the item body as text, e.g. "seat B12" (default empty)',
    policy: `who reads and alters the body: ${CONTENT_POLICIES.join(', ')} (default by type)`,
  },
  run: (args) =>
    withIssuing(args, async (_t, { authority, terminal }) => {
      const slot = oneOf(args, 'slot', SLOT_NAMES, 'payee') as SlotName;
      const type = oneOf(args, 'type', CONTENT_TYPES) as ContentType;
      const policy =
        args.values.policy === undefined
          ? undefined
          : (oneOf(args, 'policy', CONTENT_POLICIES) as ContentPolicy);
      const item = newItem({
        type,
        issuerId: authority.issuerId,
        label: requireString(args, 'label'),
        body: typeof args.values['body-text'] === 'string' ? args.values['body-text'] : '',
        policy,
      });
      const outcome = await terminal.issue(slot, item);
      if (outcome.status === 'issued') {
        args.out(
          `issued ${item.type} "${item.label}" (${item.id}) onto the ${slot} card ${outcome.cardHolderId}`,
          outcome,
        );
        return 0;
      }
      args.out(describeFailure(outcome, terminal.identity.serverInfo.terminalId, args), {
        ...outcome,
        error: outcome.error.toJSON(),
      });
      return 3;
    }),
});

export const issuingStatusCommand = defineCommand({
  name: 'issuing-status',
  summary:
    "Show this terminal's issuing identity, its create command and the authority's last answers to it.",
  usage: '[--limit 10] [--issuer-file issuer.json] [--authority-db authority.db] [--config terminal.json]',
  options: { ...CONFIG_OPTION, ...AUTHORITY_OPTIONS, limit: { type: 'string' } },
  help: { ...CONFIG_HELP, ...AUTHORITY_HELP, limit: 'authority log entries to show (default 10)' },
  run: (args) =>
    withIssuing(args, async (_t, { authority, terminal }) => {
      const { serverInfo, publicKey } = terminal.identity;
      const registration = terminal.registration();
      const server = authority.registrations().find((s) => s.terminalId === serverInfo.terminalId);
      const allowed = authority.allowList().find((a) => a.terminalId === serverInfo.terminalId);
      const log = authority.log({
        limit: integerOption(args, 'limit', 10, 1000),
        terminalId: serverInfo.terminalId,
      });
      const c = registration?.createCommand;
      args.out(
        [
          `terminal ${serverInfo.terminalId} "${serverInfo.name}"`,
          `  allow-list   ${allowed ? `yes (${allowed.contentTypes.join(', ')})` : 'no'}`,
          c
            ? `  command      ${c.commandId} for ${c.contentTypes.join(', ')} until ${new Date(c.notAfter * 1000).toISOString()}${registration.expired ? ' (EXPIRED)' : ''}; ${server?.command?.commandId === c.commandId ? server.command.granted : '?'} of ${c.maxIssuances ?? 'unlimited'} rights granted`
            : '  command      none (not registered)',
          'last authority answers:',
          ...(log.length
            ? log.map((e) =>
                `  ${e.at} ${e.kind.padEnd(9)} ${e.result.padEnd(6)} ${e.reason.padEnd(18)} ${e.itemType ?? ''} ${e.itemId ?? ''}`.trimEnd(),
              )
            : ['  (none)']),
        ].join('\n'),
        {
          serverInfo,
          serverPublicKey: publicKey,
          allowed: allowed ?? null,
          registration: registration ?? null,
          authorityCommand: server?.command ?? null,
          log,
        },
      );
    }),
});

function describeFailure(
  outcome: Exclude<IssueOutcome, { status: 'issued' }>,
  terminalId: string,
  args: ParsedArgs,
) {
  const base = `${outcome.status}${'stage' in outcome ? ` at ${outcome.stage}` : ''}: ${outcome.error.code} ${outcome.error.message}`;
  if (outcome.status === 'rejected' && outcome.reason === 'not-eligible') {
    const file = issuerFile(args);
    const db =
      typeof args.values['authority-db'] === 'string'
        ? args.values['authority-db']
        : defaultAuthorityDb(file);
    return `${base}\n  the authority's operator allows this terminal with:\n  npm run issuer -- authority-allow --issuer ${file} --db ${db} --terminal-id ${terminalId}`;
  }
  return base;
}

function oneOf<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback?: T): T {
  const v = args.values[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw new TerminalError('E_INPUT_INVALID', `--${name} is one of ${allowed.join(', ')}`);
  return v as T;
}
