// `npm run host -- token-*`: staff tokens, created and revoked on the database directly (the host
// command line is where the first token comes from). A token is printed once, when created.

import { TerminalError } from '../protocol/errors.js';
import {
  type Command,
  defineCommand,
  integerOption,
  type ParsedArgs,
  requireString,
} from '../tooling/cli-kit.js';
import { isStaffRole, STAFF_ROLES, StaffTokens } from './db/staff-tokens.js';
import { CONFIG_HELP, CONFIG_OPTION, cliActor, withHostDatabase } from './host-commands.js';

function withTokens<T>(args: ParsedArgs, fn: (tokens: StaffTokens) => Promise<T>): Promise<T> {
  return withHostDatabase(args, (db) => fn(new StaffTokens(db)));
}

export const tokenCreateCommand = defineCommand({
  name: 'token-create',
  summary: 'Create a staff token with a role; the token is printed once and stored only as a hash.',
  usage: `--role ${STAFF_ROLES.join('|')} [--label TEXT] [--expires-days N] [--config host.json]`,
  options: {
    role: { type: 'string' },
    label: { type: 'string' },
    'expires-days': { type: 'string' },
    ...CONFIG_OPTION,
  },
  help: {
    role: `${STAFF_ROLES.join(', ')}`,
    label: 'who or what holds it (default: the role)',
    'expires-days': 'days until it expires (default: never)',
    ...CONFIG_HELP,
  },
  async run(args) {
    const role = requireString(args, 'role');
    if (!isStaffRole(role))
      throw new TerminalError('E_INPUT_INVALID', `--role must be one of ${STAFF_ROLES.join(', ')}`);
    const label = typeof args.values.label === 'string' ? args.values.label : role;
    const days =
      args.values['expires-days'] === undefined ? undefined : integerOption(args, 'expires-days', 0, 3650);
    if (days === 0) throw new TerminalError('E_INPUT_INVALID', '--expires-days must be at least 1');
    const created = await withTokens(args, (tokens) =>
      tokens.create({
        role,
        label,
        actor: cliActor(),
        ...(days ? { expiresAt: new Date(Date.now() + days * 86_400_000) } : {}),
      }),
    );
    args.out(`${created.role} token ${created.tokenId} (shown once, keep it secret):\n  ${created.token}`, {
      ...created,
      createdAt: created.createdAt.toISOString(),
      expiresAt: created.expiresAt?.toISOString() ?? null,
    });
  },
});

export const tokenRevokeCommand = defineCommand({
  name: 'token-revoke',
  summary: 'Revoke a staff token for good, by its ID.',
  usage: 'TOKEN-ID [--config host.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  allowPositionals: true,
  async run(args) {
    const [tokenId, ...extra] = args.positionals;
    if (!tokenId || extra.length > 0)
      throw new TerminalError('E_INPUT_INVALID', 'give exactly one token ID (tok-…)');
    const revoked = await withTokens(args, (tokens) => tokens.revoke({ tokenId, actor: cliActor() }));
    args.out(`token ${revoked.tokenId} (${revoked.role}, ${revoked.label}) revoked`, {
      tokenId: revoked.tokenId,
      revokedAt: revoked.revokedAt?.toISOString(),
    });
  },
});

export const tokenListCommand = defineCommand({
  name: 'token-list',
  summary: 'List staff tokens (IDs, roles, labels, states; never the tokens).',
  usage: '[--config host.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  async run(args) {
    const list = await withTokens(args, (tokens) => tokens.list());
    const state = (t: (typeof list)[number]) =>
      t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt.getTime() <= Date.now() ? 'expired' : 'active';
    const line = (t: (typeof list)[number]) =>
      [
        t.tokenId,
        t.role.padEnd(13),
        state(t).padEnd(7),
        t.label,
        t.revokedAt ? `(revoked ${t.revokedAt.toISOString()})` : '',
      ]
        .join('  ')
        .trimEnd();
    args.out(
      list.length === 0 ? 'no staff tokens' : list.map(line).join('\n'),
      list.map((t) => ({ ...t, state: state(t) })),
    );
  },
});

export const tokenCommands: Command[] = [tokenCreateCommand, tokenRevokeCommand, tokenListCommand];
