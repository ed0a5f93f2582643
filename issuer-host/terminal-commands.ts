// `npm run host -- terminal-*`: the host operator registers terminals (with the public key the
// terminal printed: `npm run terminal -- host-key`), revokes them and lists them, on the database
// directly like the token commands (on embedded PostgreSQL, with the host stopped; the lock refuses
// a second process). The same actions are staff routes (POST /admin/terminals, …/revoke) for a host
// that runs.
import { fromHex, toHex } from '../protocol/bytes.js';
import { TerminalError } from '../protocol/errors.js';
import { type Command, defineCommand, type ParsedArgs, requireString } from '../tooling/cli-kit.js';
import { TerminalRegistry } from './db/terminal-registry.js';
import { CONFIG_HELP, CONFIG_OPTION, cliActor, withHostDatabase } from './host-commands.js';

function withRegistry<T>(args: ParsedArgs, fn: (registry: TerminalRegistry) => Promise<T>): Promise<T> {
  return withHostDatabase(args, (db) => fn(new TerminalRegistry(db)));
}

export const terminalRegisterCommand = defineCommand({
  name: 'terminal-register',
  summary: 'Register a terminal with its public key (and its shop, with --shop-name, if new).',
  usage: '--terminal-id ID --shop-id SHOP --public-key 04… [--shop-name NAME] [--config host.json]',
  options: {
    'terminal-id': { type: 'string' },
    'shop-id': { type: 'string' },
    'shop-name': { type: 'string' },
    'public-key': { type: 'string' },
    ...CONFIG_OPTION,
  },
  help: {
    'terminal-id': 'the terminal’s ID (its host.terminalId)',
    'shop-id': 'the shop it belongs to',
    'shop-name': 'creates the shop with this name if it does not exist',
    'public-key': 'the terminal’s P-256 public key, hex (npm run terminal -- host-key prints it)',
    ...CONFIG_HELP,
  },
  async run(args) {
    const terminalId = requireString(args, 'terminal-id');
    const shopId = requireString(args, 'shop-id');
    const hex = requireString(args, 'public-key');
    if (!/^04[0-9A-Fa-f]{128}$/.test(hex)) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        '--public-key is a 65-byte uncompressed P-256 point in hex (04…)',
      );
    }
    const shopName = args.values['shop-name'];
    const record = await withRegistry(args, async (registry) => {
      if (typeof shopName === 'string' && !(await registry.listShops()).some((s) => s.shopId === shopId)) {
        await registry.createShop({ shopId, name: shopName, actor: cliActor() });
      }
      return registry.register({ terminalId, shopId, publicKey: fromHex(hex), actor: cliActor() });
    });
    args.out(`terminal ${record.terminalId} of shop ${record.shopId} registered`, {
      ...record,
      publicKey: toHex(record.publicKey),
    });
  },
});

export const terminalRevokeCommand = defineCommand({
  name: 'terminal-revoke',
  summary: 'Revoke a terminal for good: the host refuses its requests (a new key needs a new terminal ID).',
  usage: 'TERMINAL-ID [--reason TEXT] [--config host.json]',
  options: { reason: { type: 'string' }, ...CONFIG_OPTION },
  help: { reason: 'why, for the audit log', ...CONFIG_HELP },
  allowPositionals: true,
  async run(args) {
    const [terminalId, ...extra] = args.positionals;
    if (!terminalId || extra.length > 0)
      throw new TerminalError('E_INPUT_INVALID', 'give exactly one terminal ID');
    const reason = typeof args.values.reason === 'string' ? args.values.reason : undefined;
    const record = await withRegistry(args, (registry) =>
      registry.revoke({ terminalId, actor: cliActor(), reason }),
    );
    args.out(`terminal ${record.terminalId} revoked`, {
      terminalId: record.terminalId,
      revokedAt: record.revokedAt?.toISOString(),
    });
  },
});

export const terminalListCommand = defineCommand({
  name: 'terminal-list',
  summary: 'List the registered terminals with their shops, keys and states.',
  usage: '[--shop-id SHOP] [--config host.json]',
  options: { 'shop-id': { type: 'string' }, ...CONFIG_OPTION },
  help: { 'shop-id': 'only this shop’s', ...CONFIG_HELP },
  async run(args) {
    const shopId = typeof args.values['shop-id'] === 'string' ? args.values['shop-id'] : undefined;
    const list = await withRegistry(args, (registry) => registry.list({ shopId }));
    args.out(
      list.length === 0
        ? 'no terminals registered'
        : list
            .map(
              (t) =>
                `${t.terminalId}  ${t.shopId}  ${t.status.padEnd(7)}  ${toHex(t.publicKey).slice(0, 20)}…`,
            )
            .join('\n'),
      list.map((t) => ({ ...t, publicKey: toHex(t.publicKey) })),
    );
  },
});

export const terminalCommands: Command[] = [
  terminalRegisterCommand,
  terminalRevokeCommand,
  terminalListCommand,
];
