// Terminal CLI: what is still open and its recovery. `in-doubt` reads the log only (it runs beside a
// running terminal); `recover` runs the terminal's one recovery pass with the cards present;
// `deliver` takes a release proof made elsewhere (another terminal's `in-doubt --json`, the issuer)
// to its payer card, now if the card is here, else when it is next presented.
import { readFileSync } from 'node:fs';
import { errorMessage, TerminalError } from '../../protocol/errors.js';
import { defineCommand } from '../../tooling/cli-kit.js';
import type { TerminalConfig } from '../services/config.js';
import { type InDoubtView, inDoubtView } from '../services/recovery/in-doubt.js';
import { describeRun } from '../services/recovery/recovery-log.js';
import { money } from './commands.js';
import { CONFIG_HELP, CONFIG_OPTION, withTerminal, withTerminalLog } from './terminal-context.js';

export const inDoubtCommand = defineCommand({
  name: 'in-doubt',
  summary:
    'List what is still open, with what an issuer or another terminal needs to settle it: value in flight, release proofs not yet delivered to their payer card, content flows.',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminalLog(args, async (log, config) => {
      const view: InDoubtView = log ? inDoubtView(log) : { transfers: [], deliveries: [], contents: [] };
      args.out(describeInDoubt({ config }, view), view);
    }),
});

export function describeInDoubt(t: { config: TerminalConfig }, view: InDoubtView): string {
  const lines = [
    ...view.transfers.map(
      (i) =>
        `in doubt   ${i.flowId}  ${money(t, i.amount)}  payer ${i.payerId} (cert ${i.payerSerial ?? '?'}) → payee ${i.payeeId}  tx ${i.txRandom ?? '?'}${i.receptionChallenge ? `  RC ${i.receptionChallenge}` : ''}  since ${i.startedAt}`,
    ),
    ...view.deliveries.map(
      (d) =>
        `to deliver ${d.flowId}  ${money(t, d.amount)} back to payer ${d.payerId} (released by payee ${d.payeeId})  REFUND DEBIT tx ${d.txRandom} rx ${d.rxRandom} RP ${d.releaseProof}  date ${d.date}${d.origin ? `  (${d.origin})` : ''}`,
    ),
    ...view.contents.map((c) => {
      const gives = 'amount' in c.gives ? money(t, c.gives.amount) : `item ${c.gives.itemId}`;
      const state = c.releaseProof
        ? 'released, to return'
        : c.committed
          ? 'committed, rolls forward'
          : 'open';
      return `content    ${c.flowId}  ${c.kind} ${gives} from ${c.fromId} → ${c.toId}  tx ${c.txId ?? '?'}${c.secondTxId ? ` / ${c.secondTxId}` : ''}  ${state}  last step ${c.lastStep}`;
    }),
  ];
  return lines.join('\n') || 'nothing in doubt';
}

export const recoverCommand = defineCommand({
  name: 'recover',
  summary:
    'Finish or roll back every interrupted flow (value, keys, contents) with the cards now present, release what cannot be settled and deliver release proofs.',
  usage: '[--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  run: (args) =>
    withTerminal(args, async (t) => {
      const run = await t.recovery.run();
      const open = t.recovery.inDoubt();
      const left = open.transfers.length + open.deliveries.length + open.contents.length;
      args.out(
        [
          ...(describeRun(run).length ? describeRun(run) : ['nothing to recover']),
          ...(left ? [`${left} flow(s) still waiting for a card (see in-doubt)`] : []),
        ].join('\n'),
        { ...run, open },
      );
    }),
});

export const deliverCommand = defineCommand({
  name: 'deliver',
  summary:
    'Deliver release proofs made elsewhere to their payer cards (REFUND DEBIT): a file of one proof, or of `in-doubt --json` from another terminal.',
  usage: 'proofs.json [--config terminal.json]',
  options: { ...CONFIG_OPTION },
  help: { ...CONFIG_HELP },
  allowPositionals: true,
  run: (args) => {
    const [file] = args.positionals;
    if (!file || args.positionals.length !== 1)
      throw new TerminalError('E_INPUT_INVALID', 'give exactly one file of release proofs');
    const proofs = proofsIn(file);
    return withTerminal(args, async (t) => {
      const results = [];
      for (const proof of proofs) results.push(await t.recovery.deliver(proof));
      args.out(
        results.map((r) => `${r.flowId}: ${r.outcome}`).join('\n') || 'no release proof in the file',
        results,
      );
    });
  },
});

/** The proofs in a file: one delivery object, a list of them, or an in-doubt view's `deliveries`. */
function proofsIn(file: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `${file} is not a JSON file of release proofs: ${errorMessage(e)}`,
    );
  }
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === 'object' && parsed !== null && 'deliveries' in parsed
      ? (parsed as { deliveries: unknown }).deliveries
      : [parsed];
  if (!Array.isArray(list)) throw new TerminalError('E_INPUT_INVALID', `${file}: deliveries is not a list`);
  // Only what REFUND DEBIT and the journal need: an in-doubt entry's other fields are not part of it.
  return list.map((d) => {
    if (typeof d !== 'object' || d === null) return d;
    const { payerId, payeeId, amount, currency, date, txRandom, rxRandom, releaseProof } = d as Record<
      string,
      unknown
    >;
    return { payerId, payeeId, amount, currency, date, txRandom, rxRandom, releaseProof };
  });
}

export const recoveryCommands = [inDoubtCommand, recoverCommand, deliverCommand];
