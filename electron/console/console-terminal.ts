// The operator console: the terminal's services behind a line-based prompt. Shows both cards,
// takes an amount, runs the transfer (key update first when needed) and prints each step.

import { createInterface } from 'node:readline/promises';
import { openSimulatedCard } from '../../card-sim/card-files.js';
import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { errorMessage, TerminalError } from '../../protocol/errors.js';
import { formatMoney, parseMoney } from '../../protocol/money-format.js';
import { loadConfig } from '../services/config.js';
import { startTerminalServices, type TerminalServices } from '../services/terminal-services.js';

export async function runConsoleTerminal(argv: string[]): Promise<number> {
  const configIndex = argv.indexOf('--config');
  const configPath = configIndex >= 0 ? argv[configIndex + 1] : ensureDemoEnvironment();
  if (!configPath) {
    console.error('error E_INPUT_INVALID: --config needs a file');
    return 2;
  }
  const t = await startTerminalServices(loadConfig(configPath), { openSimulatedCard });
  const money = (minor: number | undefined) =>
    minor === undefined ? '(masked)' : formatMoney(minor, t.config);
  t.engine.on((e) => {
    if (e.type === 'step') console.log(`   · ${e.event.flowKind}: ${e.event.step}`);
    if (e.type === 'recovered') console.log(`   · recovered ${e.report.flowId}: ${e.report.outcome}`);
  });
  try {
    const recovered = await t.engine.recover();
    const contents = await t.contents.recover();
    if (recovered.length + contents.length) {
      console.log(`Recovered ${recovered.length + contents.length} interrupted transfer(s).`);
    }
    await showCards(t, money);
    if (!process.stdin.isTTY) return 0;
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      // Owner mode: the card shows its balance only after its holder's PIN.
      for (const slot of ['payer', 'payee'] as const) {
        const pin = (
          await rl.question(`PIN of the ${slot} card to show its balance (Enter to skip): `)
        ).trim();
        if (!pin) continue;
        try {
          const v = await t.engine.login(slot, pin);
          console.log(`  ${slot}: ${money(v.balance)} (available ${money(v.availableBalance)})`);
        } catch (e) {
          console.log(`  ${errorMessage(e)}${e instanceof TerminalError ? ` [${e.code}]` : ''}`);
        }
      }
      for (;;) {
        const line = (
          await rl.question(`\nAmount to pay from payer to payee (${t.config.currencyCode}), or "q": `)
        ).trim();
        if (line === 'q' || line === '') break;
        const amount = parseMoney(line, t.config);
        if (amount === undefined || amount === 0) {
          console.log(`  "${line}" is not an amount (E_INPUT_INVALID). Type for example 12.50.`);
          continue;
        }
        const outcome = await t.engine.transfer({ amount });
        if (outcome.status === 'completed') {
          for (const k of outcome.keyUpdates)
            console.log(`  key update on the ${k.receiver} card: ${k.route} route — ${k.reason}`);
          console.log(
            `  Paid ${money(amount)}. Payer ${money(outcome.balances.payer)}, payee ${money(outcome.balances.payee)}.`,
          );
        } else {
          console.log(`  Not paid (${outcome.status}): ${outcome.error.message} [${outcome.error.code}]`);
          if (outcome.status === 'interrupted' && outcome.inDoubt) {
            console.log(
              '  The payer card was debited but the payee card was not credited yet: present it again to finish.',
            );
          }
        }
      }
    } finally {
      rl.close();
    }
    return 0;
  } finally {
    await t.close();
  }
}

async function showCards(t: TerminalServices, money: (minor: number | undefined) => string): Promise<void> {
  for (const slot of ['payer', 'payee'] as const) {
    try {
      const v = await t.engine.readCard(slot);
      console.log(
        `${slot.padEnd(5)}: ${v.certificate.subject.replace(/.*CN=/, '')} — ${money(v.balance)}, valid through ${v.validity}, key ${v.transferKeyId}, certificate ${v.certificate.status}`,
      );
    } catch (e) {
      console.log(`${slot.padEnd(5)}: ${errorMessage(e)}`);
    }
  }
}
