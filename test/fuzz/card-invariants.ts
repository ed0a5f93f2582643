// What must hold of a simulated card after any command, whatever the command was: its persistent
// image parses by the applet's state schema and keeps the purse's own bounds; and a refused command
// leaves the image byte for byte as it was, except the two refusals docs/protocol.md names.
import {
  headroomUsed,
  openDebitTotal,
  type SettlementState,
  settlementStateCodec,
} from '../../card-sim/applets/settlement/state.js';
import { CLA_ISO, CLA_PROPRIETARY, INS } from '../../protocol/settlement/commands.js';
import { SW, swHex } from '../../protocol/status-words.js';
import { InvariantViolation, invariant } from './fuzz-report.js';

/** Parses a persisted image; a schema failure is a violation naming the card. */
export function parseImage(image: string | undefined, card: string): SettlementState {
  invariant(image !== undefined, `${card}: persistent memory is empty`);
  let state: SettlementState;
  try {
    state = settlementStateCodec.decode(image);
  } catch (e) {
    throw new InvariantViolation(
      `${card}: persistent state does not parse by the state schema: ${(e as Error).message}`,
    );
  }
  // GET BALANCE encodes both as uint32: a reservation above the balance, or a credit room above the
  // maximum, would break it and the purse's promise.
  invariant(state.balance >= openDebitTotal(state), `${card}: open debits exceed the balance`);
  // The headroom rule (protocol §4.4): room for every pending credit and every refund that may come back.
  invariant(
    headroomUsed(state) <= state.maxBalance,
    `${card}: balance plus pending credits and refundable debits exceed the maximum balance`,
  );
  return state;
}

export function isSuccess(sw: number): boolean {
  return sw === SW.OK || (sw & 0xff00) === SW.BYTES_REMAINING;
}

/**
 * After a refusal (`sw` not 9000/61XX) of the command `cla ins`: the image must be unchanged, or
 * changed only as the protocol's deliberate exceptions allow (docs/protocol.md, "Status words"):
 * a DEBIT with a failed challenge aborts its open record; VERIFY and RESET RETRY COUNTER spend a try.
 */
export function checkRefusalKeptState(
  card: string,
  header: { cla: number; ins: number },
  sw: number,
  before: string,
  after: string,
): void {
  if (before === after) return;
  const was = settlementStateCodec.decode(before);
  const now = settlementStateCodec.decode(after);
  const what = `${card}: refused ${hex2(header.cla)} ${hex2(header.ins)} (${swHex(sw)}) changed persistent state`;
  if (header.cla === CLA_PROPRIETARY && header.ins === INS.DEBIT && sw === SW.SECURITY_STATUS_NOT_SATISFIED) {
    const changed = was.debitLog.flatMap((r, i) =>
      JSON.stringify(r) === JSON.stringify(now.debitLog[i]) ? [] : [i],
    );
    invariant(changed.length === 1 && now.debitLog.length === was.debitLog.length, `${what}: not one record`);
    const i = changed[0]!;
    invariant(
      was.debitLog[i]!.status === 'open' && now.debitLog[i]!.status === 'aborted',
      `${what}: not open → aborted`,
    );
    invariant(
      sameExcept(was, now, ['debitLog', 'transferKeys']) && now.balance === was.balance,
      `${what}: beyond the aborted record`,
    );
    return;
  }
  const tryCounter =
    header.cla === CLA_ISO && header.ins === INS.VERIFY
      ? 'owner'
      : header.cla === CLA_ISO && header.ins === INS.RESET_RETRY_COUNTER
        ? 'puk'
        : undefined;
  const spentTry = (sw & 0xfff0) === SW.VERIFICATION_FAILED || sw === SW.AUTH_METHOD_BLOCKED;
  if (tryCounter && spentTry) {
    const a = was[tryCounter];
    const b = now[tryCounter];
    invariant(a && b && b.tries === a.tries - 1, `${what}: not one try spent`);
    invariant(
      JSON.stringify({ ...a, tries: 0 }) === JSON.stringify({ ...b, tries: 0 }) &&
        sameExcept(was, now, [tryCounter]),
      `${what}: beyond the try counter`,
    );
    return;
  }
  invariant(false, what);
}

function sameExcept(a: SettlementState, b: SettlementState, keys: (keyof SettlementState)[]): boolean {
  const strip = (s: SettlementState) =>
    JSON.stringify({ ...s, ...Object.fromEntries(keys.map((k) => [k, null])) });
  return strip(a) === strip(b);
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
