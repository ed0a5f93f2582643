// Terminal CLI: issuing tickets and coupons onto a card under a create right from the
// command-generating server on the issuer host (seed 000, second embodiment), and the issuing status.

import { errorMessage, isTerminalError, TerminalError } from '../../protocol/errors.js';
import {
  CONTENT_POLICIES,
  CONTENT_TYPES,
  type ContentPolicy,
  type ContentType,
} from '../../protocol/settlement/contents-codec.js';
import { defineCommand, integerOption, type ParsedArgs, requireString } from '../../tooling/cli-kit.js';
import { type IssuingServices, startIssuing } from '../services/issuing/issuing-services.js';
import type { IssueOutcome } from '../services/issuing/issuing-terminal.js';
import { newItem } from '../services/issuing/issuing-terminal.js';
import { SLOT_NAMES, type SlotName } from '../services/slots/reader-slots.js';
import type { TerminalServices } from '../services/terminal-services.js';
import { CONFIG_HELP, CONFIG_OPTION, withTerminal } from './terminal-context.js';

async function withIssuing<T>(
  args: ParsedArgs,
  work: (t: TerminalServices, i: IssuingServices) => Promise<T>,
) {
  return withTerminal(args, async (t) => {
    const issuing = startIssuing(t);
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
    'Issue a ticket or coupon onto the card in a slot, under a create right from the command-generating server on the issuer host.',
  usage:
    '--type ticket|coupon --label TEXT [--body-text TEXT] [--slot payee] [--policy POLICY] [--config terminal.json]',
  options: {
    ...CONFIG_OPTION,
    slot: { type: 'string' },
    type: { type: 'string' },
    label: { type: 'string' },
    'body-text': { type: 'string' },
    policy: { type: 'string' },
  },
  help: {
    ...CONFIG_HELP,
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
      const label = requireString(args, 'label');
      const item = newItem({
        type,
        issuerId: await authority.issuerId(),
        label,
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
      args.out(describeFailure(outcome, terminal.identity.serverInfo.terminalId), {
        ...outcome,
        error: outcome.error.toJSON(),
      });
      return 3;
    }),
});

export const issuingStatusCommand = defineCommand({
  name: 'issuing-status',
  summary:
    "Show this terminal's issuing identity, its create command and the authority's last answers to it (from the issuer host).",
  usage: '[--limit 10] [--config terminal.json]',
  options: { ...CONFIG_OPTION, limit: { type: 'string' } },
  help: { ...CONFIG_HELP, limit: 'authority log entries to show (default 10)' },
  run: (args) =>
    withIssuing(args, async (t, { authority, terminal }) => {
      const { serverInfo, publicKey } = terminal.identity;
      const registration = terminal.registration();
      const c = registration?.createCommand;
      let host: Awaited<ReturnType<typeof authority.status>> | undefined;
      let hostError: TerminalError | undefined;
      try {
        host = await authority.status(integerOption(args, 'limit', 10, 1000));
      } catch (e) {
        hostError = isTerminalError(e) ? e : new TerminalError('E_TRANSPORT', errorMessage(e));
      }
      const server = host?.registration?.command;
      args.out(
        [
          `terminal ${serverInfo.terminalId} "${serverInfo.name}"`,
          `  issuer host  ${t.host ? t.host.url : 'none configured'}${hostError ? ` (${hostError.code}: ${hostError.message})` : ''}`,
          `  allow-list   ${host ? (host.allowed ? `yes (${host.allowed.contentTypes.join(', ')})` : 'no') : '?'}`,
          c
            ? `  command      ${c.commandId} for ${c.contentTypes.join(', ')} until ${new Date(c.notAfter * 1000).toISOString()}${registration.expired ? ' (EXPIRED)' : ''}; ${server?.commandId === c.commandId ? server.granted : '?'} of ${c.maxIssuances ?? 'unlimited'} rights granted`
            : '  command      none (not registered)',
          'last authority answers:',
          ...(host?.log.length
            ? host.log.map((e) =>
                `  ${e.at} ${e.kind.padEnd(9)} ${e.result.padEnd(6)} ${e.reason.padEnd(18)} ${e.itemType ?? ''} ${e.itemId ?? ''}`.trimEnd(),
              )
            : ['  (none)']),
        ].join('\n'),
        {
          serverInfo,
          serverPublicKey: publicKey,
          host: t.host?.url ?? null,
          hostError: hostError?.toJSON() ?? null,
          allowed: host?.allowed ?? null,
          registration: registration ?? null,
          authorityCommand: server ?? null,
          log: host?.log ?? [],
        },
      );
    }),
});

function describeFailure(outcome: Exclude<IssueOutcome, { status: 'issued' }>, terminalId: string) {
  const base = `${outcome.status}${'stage' in outcome ? ` at ${outcome.stage}` : ''}: ${outcome.error.code} ${outcome.error.message}`;
  if (outcome.status === 'rejected' && outcome.reason === 'not-eligible') {
    return `${base}\n  the issuer's staff allow this terminal with:\n  npm run issuer -- authority-allow --issuer <issuer.json> --terminal-id ${terminalId}`;
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
