// Terminal CLI: the terminal's identity at the issuer host (what the host's staff register) and a
// signed hello that checks the link: the pin, the registration, the clock.
import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { toHex } from '../../protocol/bytes.js';
import { type ErrorCode, TerminalError } from '../../protocol/errors.js';
import { defineCommand } from '../../tooling/cli-kit.js';
import { loadConfig } from '../services/config.js';
import { hostIdentity, loadOrCreateServerIdentity } from '../services/issuing/server-identity.js';
import { CONFIG_HELP, CONFIG_OPTION, withTerminal } from './terminal-context.js';

export const SOFTWARE = 'settlement-terminal/0.1.0';

export const hostKeyCommand = defineCommand({
  name: 'host-key',
  summary:
    "Print this terminal's ID and public key, and the host command that registers it (the key is made once, here).",
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run(args) {
    const config = loadConfig(
      typeof args.values.config === 'string' ? args.values.config : ensureDemoEnvironment(),
    );
    const identity = config.host
      ? hostIdentity(config.dataDir, config.host.terminalId)
      : loadOrCreateServerIdentity(config.dataDir);
    const terminalId = identity.serverInfo.terminalId;
    const publicKey = toHex(identity.publicKey);
    const register = `npm run host -- terminal-register --terminal-id ${terminalId} --shop-id <SHOP-ID> --public-key ${publicKey}`;
    args.out(
      [
        `terminal ${terminalId} (key file ${identity.path}, never overwritten)`,
        `public key ${publicKey}`,
        'the issuer host registers it with:',
        `  ${register}`,
        ...(config.host
          ? []
          : ['(this configuration has no "host" section yet: add url, pins and terminalId)']),
      ].join('\n'),
      { terminalId, publicKey, keyFile: identity.path, register, host: config.host?.url ?? null },
    );
  },
});

export const hostHelloCommand = defineCommand({
  name: 'host-hello',
  summary: 'Send the issuer host a signed hello: checks its pin, this terminal’s registration and clock.',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminal(args, async (t) => {
      if (!t.host) throw new TerminalError('E_INPUT_INVALID', 'this configuration names no issuer host');
      const crlNumber = t.crl.status().crlNumber;
      const hello = await t.host.client.call<{
        terminalId: string;
        shopId: string;
        serverTime: string;
        crl: { crlNumber: string; nextUpdate: string; newer: boolean } | null;
      }>('POST', '/terminal/hello', { software: SOFTWARE, ...(crlNumber ? { crlNumber } : {}) });
      args.out(
        [
          `${t.host.url} knows this terminal as ${hello.terminalId} of shop ${hello.shopId}`,
          `host time ${hello.serverTime} (here ${new Date().toISOString()})`,
          hello.crl
            ? `host CRL #${hello.crl.crlNumber}${hello.crl.newer ? ' is newer than ours: run crl-refresh' : ' (we have it)'}`
            : 'the host has no CRL yet',
        ].join('\n'),
        { url: t.host.url, ...hello },
      );
    }),
});

export const syncCommand = defineCommand({
  name: 'sync',
  summary:
    'Upload the journal entries the issuer host has not acknowledged yet, now, and print the result (the screen and the shell do it in the background).',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminal(args, async (t) => {
      if (!t.uploader) throw new TerminalError('E_INPUT_INVALID', 'this configuration names no issuer host');
      const result = await t.uploader.sync();
      if (!result.ok && result.error) {
        throw new TerminalError(result.error.code as ErrorCode, result.error.message, {
          ackedSeq: result.ackedSeq,
          waiting: result.waiting,
        });
      }
      args.out(
        `${t.host?.url ?? 'the host'} holds this terminal's journal up to entry ${result.ackedSeq}: ${result.uploaded} uploaded now, ${result.waiting} waiting`,
        result,
      );
    }),
});
