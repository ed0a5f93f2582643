// The operator console: the terminal's services behind a line-based prompt. Shows both cards,
// takes an amount, runs the transfer (key update first when needed) and prints each step. A payment
// the payer card makes only with its PIN asks for it, shown as "*" while it is typed, logs in and pays.

import { openSimulatedCard } from '../../card-sim/card-files.js';
import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { errorMessage, TerminalError } from '../../protocol/errors.js';
import { formatMoney, parseMoney } from '../../protocol/money-format.js';
import { setProgramLabel } from '../../tooling/process-lock.js';
import { loadConfig } from '../services/config.js';
import { logRecovery } from '../services/recovery/recovery-log.js';
import type { TransferOutcome } from '../services/settlement/settlement-engine.js';
import { startTerminalServices, type TerminalServices } from '../services/terminal-services.js';
import { type ConsolePrompt, consolePrompt } from './console-prompt.js';

export async function runConsoleTerminal(argv: string[]): Promise<number> {
  const configIndex = argv.indexOf('--config');
  const configPath = configIndex >= 0 ? argv[configIndex + 1] : ensureDemoEnvironment();
  if (!configPath) {
    console.error('error E_INPUT_INVALID: --config needs a file');
    return 2;
  }
  setProgramLabel('the operator console');
  const t = await startTerminalServices(loadConfig(configPath), { openSimulatedCard });
  const money = (minor: number | undefined) =>
    minor === undefined ? '(masked)' : formatMoney(minor, t.config);
  t.engine.on((e) => {
    if (e.type === 'step') console.log(`   · ${e.event.flowKind}: ${e.event.step}`);
    if (e.type === 'recovered') console.log(`   · recovered ${e.report.flowId}: ${e.report.outcome}`);
    if (e.type === 'recovery-failed')
      console.log(
        `   · recovery of ${e.failure.flowId} failed: ${e.failure.error.code} ${e.failure.error.message}`,
      );
  });
  try {
    logRecovery(t.recovery, (line) => console.log(`   · ${line}`));
    await t.recovery.start();
    await showCards(t, money);
    if (!process.stdin.isTTY) return 0;
    const rl = consolePrompt(process.stdin, process.stdout);
    try {
      // Owner mode: the card shows its balance only after its holder's PIN.
      for (const slot of ['payer', 'payee'] as const) {
        const pin = (await rl.secret(`PIN of the ${slot} card to show its balance (Enter to skip): `)).trim();
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
        const outcome = await payAskingForPin(t, amount, rl);
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

/**
 * The payment; when the payer card needs its PIN for it (E_PIN_REQUIRED, nothing sent yet), the
 * holder types it, the card checks it, and the payment runs again. Enter without a PIN gives up.
 */
async function payAskingForPin(
  t: TerminalServices,
  amount: number,
  prompt: ConsolePrompt,
): Promise<TransferOutcome> {
  let outcome = await t.engine.transfer({ amount });
  for (let attempt = 0; attempt < 3; attempt++) {
    if (outcome.status !== 'refused' || outcome.error.code !== 'E_PIN_REQUIRED') return outcome;
    const pin = (
      await prompt.secret('  The payer card needs its PIN for this payment. PIN (Enter to cancel): ')
    ).trim();
    if (!pin) return outcome;
    try {
      await t.engine.login('payer', pin);
    } catch (e) {
      console.log(`  ${errorMessage(e)}${e instanceof TerminalError ? ` [${e.code}]` : ''}`);
      continue;
    }
    outcome = await t.engine.transfer({ amount });
  }
  return outcome;
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
