// `issuer authority-...`: the issuer's staff keep the command-generating server's allow-list of
// issuing terminals and read its registrations and log (seed 000, second embodiment). The
// authority runs on the issuer host; these commands talk to it over HTTPS with an issuer-admin (or,
// for the status, auditor) token from the host link file (tooling/issuer-host-link.ts): they work
// while the host runs, and every change is the host's own audit event. They never open its database.

import { TerminalError } from '../../protocol/errors.js';
import { CONTENT_TYPES, type ContentType } from '../../protocol/settlement/contents-codec.js';
import { defineCommand, integerOption, type ParsedArgs, requireString } from '../../tooling/cli-kit.js';
import {
  findHostLink,
  HOST_LINK_FILE,
  type StaffLink,
  withStaffLink,
} from '../../tooling/issuer-host-link.js';
import type { AllowedServer, AuthorityLogLine, RegisteredServer } from '../authority/command-authority.js';

const COMMON_OPTIONS = { issuer: { type: 'string' }, 'host-link': { type: 'string' } } as const;
const COMMON_HELP = {
  issuer: `issuer file: the host link ${HOST_LINK_FILE} beside it is used`,
  'host-link': `the issuer host link file (url, pin, CA, staff token; default ${HOST_LINK_FILE} beside --issuer)`,
};

function withHost<T>(args: ParsedArgs, work: (link: StaffLink) => Promise<T>): Promise<T> {
  const path = findHostLink({ explicit: args.values['host-link'], issuerFile: args.values.issuer });
  if (path === undefined) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `no issuer host link: give --host-link, or --issuer with ${HOST_LINK_FILE} beside it`,
    );
  }
  return withStaffLink(path, work);
}

const terminalPath = (terminalId: string) => `/admin/authority/allow-list/${encodeURIComponent(terminalId)}`;

export const authorityAllow = defineCommand({
  name: 'authority-allow',
  summary: 'Allow an issuing terminal to register, and set what its create command allows.',
  usage:
    '--terminal-id ID [--types ticket,coupon] [--max N] [--days 30] (--issuer issuer.json | --host-link issuer-host.json)',
  options: {
    ...COMMON_OPTIONS,
    'terminal-id': { type: 'string' },
    types: { type: 'string' },
    max: { type: 'string' },
    days: { type: 'string' },
  },
  help: {
    ...COMMON_HELP,
    'terminal-id': 'the terminal’s ID at the host (npm run terminal -- host-key shows it)',
    types: `content types it may create, comma-separated (default ticket,coupon; of ${CONTENT_TYPES.join(', ')})`,
    max: 'create rights per create command (default: no limit)',
    days: 'validity of each create command in days (default 30)',
  },
  run: (args) => {
    const types = (typeof args.values.types === 'string' ? args.values.types : 'ticket,coupon')
      .split(',')
      .map((t) => t.trim());
    for (const t of types) {
      if (!(CONTENT_TYPES as readonly string[]).includes(t))
        throw new TerminalError('E_INPUT_INVALID', `unknown content type "${t}"`);
    }
    const body = {
      contentTypes: types as ContentType[],
      maxIssuances: args.values.max === undefined ? null : integerOption(args, 'max', 1, 2_147_483_647),
      validitySeconds: integerOption(args, 'days', 30, 3650) * 86_400,
    };
    const terminalId = requireString(args, 'terminal-id');
    return withHost(args, async ({ client }) => {
      const entry = await client.call<AllowedServer>('PUT', terminalPath(terminalId), body);
      args.out(
        `allowed ${entry.terminalId}: ${entry.contentTypes.join(', ')}, ${entry.maxIssuances ?? 'unlimited'} per command, ${entry.validitySeconds / 86_400} days`,
        entry,
      );
    });
  },
});

export const authorityDisallow = defineCommand({
  name: 'authority-disallow',
  summary: 'Remove an issuing terminal from the allow-list: it gets no further create rights.',
  usage: '--terminal-id ID (--issuer issuer.json | --host-link issuer-host.json)',
  options: { ...COMMON_OPTIONS, 'terminal-id': { type: 'string' } },
  help: { ...COMMON_HELP, 'terminal-id': 'the terminal’s ID at the host' },
  run: (args) => {
    const terminalId = requireString(args, 'terminal-id');
    return withHost(args, async ({ client }) => {
      const { removed } = await client.call<{ removed: boolean }>('DELETE', terminalPath(terminalId));
      args.out(removed ? `removed ${terminalId}` : `${terminalId} was not on the allow-list`, { removed });
    });
  },
});

export const authorityStatus = defineCommand({
  name: 'authority-status',
  summary: 'Show the allow-list, the registered servers with their create commands, and the log.',
  usage: '[--terminal-id ID] [--limit 20] (--issuer issuer.json | --host-link issuer-host.json)',
  options: { ...COMMON_OPTIONS, 'terminal-id': { type: 'string' }, limit: { type: 'string' } },
  help: { ...COMMON_HELP, 'terminal-id': 'only this terminal', limit: 'log entries (default 20)' },
  run: (args) => {
    const only = typeof args.values['terminal-id'] === 'string' ? args.values['terminal-id'] : undefined;
    const limit = integerOption(args, 'limit', 20, 1000);
    return withHost(args, async ({ client, url }) => {
      const query = new URLSearchParams({ limit: String(limit), ...(only ? { terminalId: only } : {}) });
      const [about, { allowList: allAllowed }, { servers: allServers }, { log }] = await Promise.all([
        client.call<{ issuerId: string; eligibility: string }>('GET', '/admin/authority'),
        client.call<{ allowList: AllowedServer[] }>('GET', '/admin/authority/allow-list'),
        client.call<{ servers: RegisteredServer[] }>('GET', '/admin/authority/servers'),
        client.call<{ log: AuthorityLogLine[] }>('GET', `/admin/authority/log?${query}`),
      ]);
      const allowList = allAllowed.filter((a) => !only || a.terminalId === only);
      const servers = allServers.filter((s) => !only || s.terminalId === only);
      args.out(
        [
          `authority of issuer ${about.issuerId} at ${url} (${about.eligibility})`,
          'allow-list:',
          ...(allowList.length
            ? allowList.map(
                (a) =>
                  `  ${a.terminalId}  ${a.contentTypes.join(',')}  ${a.maxIssuances ?? 'unlimited'} per command  ${a.validitySeconds / 86_400} days`,
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
        { issuerId: about.issuerId, allowList, servers, log },
      );
    });
  },
});
