// The operations a campaign drives through the terminal's real services, exactly as the operator UI
// and the CLI drive them: a payment the payer card makes only with its PIN is asked for it by the
// terminal (E_PIN_REQUIRED, nothing sent), the holder logs in, and it runs again.
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import type { TerminalServices } from '../../electron/services/terminal-services.js';
import { isTerminalError } from '../../protocol/errors.js';

export type Operation =
  /** `pin`: the payer card needs its PIN for this amount (what the CLI is given up front). */
  | { kind: 'transfer'; amount: number; pin?: boolean }
  | { kind: 'key-update' }
  | { kind: 'content-send'; from: SlotName; itemId: string }
  /** `amount` of the sender's purse to the other card as a content transmission (the sender's PIN first). */
  | { kind: 'emoney-send'; from: SlotName; amount: number }
  /** The payer buys the payee's item for `amount` (both owners' PINs, then a session). */
  | { kind: 'content-exchange'; amount: number; itemId: string };

/** Runs one operation in this process; throws what the services throw. */
export async function runOperation(t: TerminalServices, op: Operation, pin: string): Promise<unknown> {
  switch (op.kind) {
    case 'transfer': {
      const outcome = await t.engine.transfer({ amount: op.amount });
      if (outcome.status !== 'refused' || outcome.error.code !== 'E_PIN_REQUIRED') return outcome;
      await t.engine.login('payer', pin);
      return t.engine.transfer({ amount: op.amount });
    }
    case 'key-update':
      return t.engine.updateKeys();
    case 'content-send':
      // Giving an item away is the owner's decision: the sender's PIN first.
      await t.engine.login(op.from, pin);
      await t.contents.authenticate();
      return t.contents.send({ from: op.from, itemId: op.itemId });
    case 'emoney-send':
      // Paying from the purse needs the owner level.
      await t.engine.login(op.from, pin);
      await t.contents.authenticate();
      return t.contents.send({ from: op.from, amount: op.amount });
    case 'content-exchange':
      await t.engine.login('payer', pin);
      await t.engine.login('payee', pin);
      await t.contents.authenticate();
      return t.contents.exchange({
        initiator: 'payer',
        give: { amount: op.amount },
        take: { itemId: op.itemId },
      });
  }
}

/** The terminal CLI arguments for the same operation (for a terminal in its own process). */
export function cliArguments(op: Operation, pin: string, minorUnits: number): string[] {
  const decimal = (minor: number) => (minor / 10 ** minorUnits).toFixed(minorUnits);
  switch (op.kind) {
    case 'transfer':
      return ['transfer', '--minor', String(op.amount), ...(op.pin ? ['--payer-pin', pin] : []), '--json'];
    case 'key-update':
      return ['update-keys', '--json'];
    case 'content-send':
      return ['send', '--from', op.from, '--item', op.itemId, `--${op.from}-pin`, pin, '--json'];
    case 'emoney-send':
      return ['send', '--from', op.from, '--amount', decimal(op.amount), `--${op.from}-pin`, pin, '--json'];
    case 'content-exchange':
      return [
        'exchange',
        '--initiator',
        'payer',
        '--give-amount',
        decimal(op.amount),
        '--take-item',
        op.itemId,
        '--payer-pin',
        pin,
        '--payee-pin',
        pin,
        '--json',
      ];
  }
}

/**
 * The terminal's one recovery surface, as a host runs it on demand (and as card insertions do), up to
 * three passes until nothing is in doubt; returns an untyped error any pass threw, as a violation.
 */
export async function recoverUntilSettled(t: TerminalServices): Promise<string[]> {
  const violations: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await t.recovery.run();
    } catch (e) {
      if (!isTerminalError(e)) violations.push(`recovery threw an untyped error: ${(e as Error).stack}`);
    }
    const open = t.recovery.inDoubt();
    if (open.transfers.length + open.deliveries.length + open.contents.length === 0) break;
  }
  return violations;
}
