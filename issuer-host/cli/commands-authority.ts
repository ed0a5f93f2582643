// `issuer authority-...`: the command-generating authority's operator (seed 000, second embodiment)
// keeps the allow-list of issuing terminals and reads the registered servers and the log. The
// authority database defaults to authority.db next to the issuer file.

import { TerminalError } from '../../protocol/errors.js';
import { CONTENT_TYPES, type ContentType } from '../../protocol/settlement/contents-codec.js';
import { defineCommand, integerOption, type ParsedArgs, requireString } from '../../tooling/cli-kit.js';
import { openAuthority } from '../authority/open-authority.js';

const COMMON_OPTIONS = { issuer: { type: 'string' }, db: { type: 'string' } } as const;
const COMMON_HELP = {
  issuer: 'issuer file (its authority signing key and issuer ID)',
  db: 'authority database (default: authority.db next to the issuer file)',
};

function open(args: ParsedArgs) {
  return openAuthority({
    issuerFile: requireString(args, 'issuer'),
    authorityDb: typeof args.values.db === 'string' ? args.values.db : undefined,
  });
}

export const authorityAllow = defineCommand({
  name: 'authority-allow',
  summary: 'Allow an issuing terminal to register, and set what its create command allows.',
  usage:
    '--issuer issuer.json --terminal-id ID [--types ticket,coupon] [--max N] [--days 30] [--public-key HEX] [--db authority.db]',
  options: {
    ...COMMON_OPTIONS,
    'terminal-id': { type: 'string' },
    types: { type: 'string' },
    max: { type: 'string' },
    days: { type: 'string' },
    'public-key': { type: 'string' },
  },
  help: {
    ...COMMON_HELP,
    'terminal-id': "the terminal's ID (npm run terminal -- issuing-status shows it)",
    types: `content types it may create, comma-separated (default ticket,coupon; of ${CONTENT_TYPES.join(', ')})`,
    max: 'create rights per create command (default: no limit)',
    days: 'validity of each create command in days (default 30)',
    'public-key': "pin the terminal's server key (hex); otherwise its first registration binds the key",
  },
  run(args) {
    const types = (typeof args.values.types === 'string' ? args.values.types : 'ticket,coupon')
      .split(',')
      .map((t) => t.trim());
    for (const t of types) {
      if (!(CONTENT_TYPES as readonly string[]).includes(t))
        throw new TerminalError('E_INPUT_INVALID', `unknown content type "${t}"`);
    }
    const authority = open(args);
    try {
      const entry = authority.allow({
        terminalId: requireString(args, 'terminal-id'),
        contentTypes: types as ContentType[],
        maxIssuances: args.values.max === undefined ? null : integerOption(args, 'max'),
        validitySeconds: integerOption(args, 'days', 30, 3650) * 86_400,
        publicKey: typeof args.values['public-key'] === 'string' ? args.values['public-key'] : undefined,
      });
      args.out(
        `allowed ${entry.terminalId}: ${entry.contentTypes.join(', ')}, ${entry.maxIssuances ?? 'unlimited'} per command, ${entry.validitySeconds / 86_400} days`,
        entry,
      );
    } finally {
      authority.close();
    }
  },
});

export const authorityDisallow = defineCommand({
  name: 'authority-disallow',
  summary: 'Remove an issuing terminal from the allow-list: it gets no further create rights.',
  usage: '--issuer issuer.json --terminal-id ID [--db authority.db]',
  options: { ...COMMON_OPTIONS, 'terminal-id': { type: 'string' } },
  help: { ...COMMON_HELP, 'terminal-id': "the terminal's ID" },
  run(args) {
    const authority = open(args);
    try {
      const terminalId = requireString(args, 'terminal-id');
      const removed = authority.disallow(terminalId);
      args.out(removed ? `removed ${terminalId}` : `${terminalId} was not on the allow-list`, { removed });
    } finally {
      authority.close();
    }
  },
});

export const authorityStatus = defineCommand({
  name: 'authority-status',
  summary: 'Show the allow-list, the registered servers with their create commands, and the log.',
  usage: '--issuer issuer.json [--terminal-id ID] [--limit 20] [--db authority.db]',
  options: { ...COMMON_OPTIONS, 'terminal-id': { type: 'string' }, limit: { type: 'string' } },
  help: { ...COMMON_HELP, 'terminal-id': 'only this terminal', limit: 'log entries (default 20)' },
  run(args) {
    const authority = open(args);
    try {
      const only = typeof args.values['terminal-id'] === 'string' ? args.values['terminal-id'] : undefined;
      const allowList = authority.allowList().filter((a) => !only || a.terminalId === only);
      const servers = authority.registrations().filter((s) => !only || s.terminalId === only);
      const log = authority.log({
        limit: integerOption(args, 'limit', 20, 1000),
        terminalId: only,
      });
      args.out(
        [
          `authority of issuer ${authority.issuerId}`,
          'allow-list:',
          ...(allowList.length
            ? allowList.map(
                (a) =>
                  `  ${a.terminalId}  ${a.contentTypes.join(',')}  ${a.maxIssuances ?? 'unlimited'} per command  ${a.validitySeconds / 86_400} days${a.publicKey ? '  key pinned' : ''}`,
              )
            : ['  (empty)']),
          'registered servers:',
          ...(servers.length
            ? servers.map((s) =>
                s.command
                  ? `  ${s.terminalId} "${s.serverInfo.name}"  command ${s.command.commandId}  ${s.command.granted}/${s.command.maxIssuances ?? '∞'} granted${s.command.expired ? '  EXPIRED' : ''}`
                  : `  ${s.terminalId} "${s.serverInfo.name}"  no command`,
              )
            : ['  (none)']),
          'log (newest first):',
          ...(log.length
            ? log.map(
                (e) =>
                  `  ${String(e.id).padStart(5)} ${e.at} ${e.kind.padEnd(9)} ${e.result.padEnd(6)} ${e.reason.padEnd(18)} ${e.terminalId ?? '-'}  ${e.message}`,
              )
            : ['  (empty)']),
        ].join('\n'),
        { issuerId: authority.issuerId, allowList, servers, log },
      );
    } finally {
      authority.close();
    }
  },
});
