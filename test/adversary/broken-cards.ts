// Deliberately broken cards, to prove the explorer can fail: each wraps the real settlement applet and
// bends one rule just before the real code runs (by editing the card's memory, or the command), so
// everything else is the real card. Each must be caught, with the sequence that shows it.
import { SettlementApplet } from '../../card-sim/applets/settlement/settlement-applet.js';
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import type { Applet } from '../../card-sim/os/applet.js';
import type { PersistentStore } from '../../card-sim/os/persistent-store.js';
import type { CommandApdu } from '../../protocol/apdu.js';
import { concat, fromHex, readU32, toHex } from '../../protocol/bytes.js';
import { CLA_PROPRIETARY, INS } from '../../protocol/settlement/commands.js';
import { MAC_LABEL, transferMac, ZERO_RANDOM } from '../../protocol/settlement/mac-input.js';
import type { AppletFactory } from './explorer-card.js';
import type { Side } from './world-state.js';

type Bend = (cmd: CommandApdu, store: PersistentStore<SettlementState>) => CommandApdu;

export interface BrokenCard {
  side: Side;
  what: string;
  bend: Bend;
}

const is = (cmd: CommandApdu, ins: number) => cmd.cla === CLA_PROPRIETARY && cmd.ins === ins;
const rtOf = (cmd: CommandApdu, offset = 0) => toHex(cmd.data.subarray(offset, offset + 16));

/** Puts a record back into an earlier state, so that the real command acts on it again. */
function reopen(
  log: 'debitLog' | 'creditLog',
  from: string,
  to: string,
  when: (cmd: CommandApdu, s: SettlementState) => boolean = () => true,
): Bend {
  return (cmd, store) => {
    const rt = rtOf(cmd);
    const s = store.read();
    if (s[log].some((r) => r.txRandom === rt && r.status === from) && when(cmd, s)) {
      store.transaction((s) => {
        const r = (s[log] as { txRandom: string; status: string; proof?: string }[]).find(
          (x) => x.txRandom === rt,
        )!;
        r.status = to;
        delete r.proof;
      });
    }
    return cmd;
  };
}

export const BROKEN_CARDS: Record<string, BrokenCard> = {
  'accepts-forged-debit-proof': {
    side: 'B',
    what: 'INITIATE CREDIT takes any debit proof (version 1 did: issue 13 §1)',
    bend: (cmd, store) => {
      if (!is(cmd, INS.INITIATE_CREDIT) || cmd.data.length !== 58) return cmd;
      const s = store.read();
      const d = cmd.data;
      const genuine = transferMac(fromHex(s.transferKeys[String(s.transferKeyId)]!), MAC_LABEL.DEBIT_PROOF, {
        transferKeyId: s.transferKeyId,
        payerId: d.subarray(0, 16),
        payeeId: fromHex(s.holderId),
        currency: (d[16]! << 8) | d[17]!,
        amount: readU32(d, 18),
        date: readU32(d, 22),
        txRandom: d.subarray(26, 42),
        rxRandom: ZERO_RANDOM,
      });
      return { ...cmd, data: concat(d.subarray(0, 42), genuine) };
    },
  },
  'credits-twice': {
    side: 'B',
    what: 'CREDIT with the genuine reception challenge credits a record it already credited',
    bend: reopen('creditLog', 'credited', 'pending', (cmd, s) => {
      const r = s.creditLog.find((x) => x.txRandom === rtOf(cmd))!;
      const rc = transferMac(
        fromHex(s.transferKeys[String(r.transferKeyId)]!),
        MAC_LABEL.RECEPTION_CHALLENGE,
        {
          transferKeyId: r.transferKeyId,
          payerId: fromHex(r.payerId),
          payeeId: fromHex(s.holderId),
          currency: r.currency,
          amount: r.amount,
          date: r.date,
          txRandom: fromHex(r.txRandom),
          rxRandom: fromHex(r.rxRandom),
        },
      );
      return toHex(cmd.data.subarray(16, 32)) === toHex(rc);
    }),
  },
  'aborts-debited': {
    side: 'A',
    what: 'ABORT DEBIT aborts a debit that was already debited (and issues its abort proof)',
    bend: reopen('debitLog', 'debited', 'open'),
  },
  'releases-credited': {
    side: 'B',
    what: 'RELEASE CREDIT releases a credit it already credited (and issues its release proof)',
    bend: reopen('creditLog', 'credited', 'pending'),
  },
  'forgets-no-pin-payments': {
    side: 'A',
    what: 'the no-PIN counters are never kept: every payment within the per-payment limit passes without the PIN',
    bend: (cmd, store) => {
      if (!is(cmd, INS.INITIATE_DEBIT) && !is(cmd, INS.DEBIT)) return cmd;
      const p = store.read().cardholderPolicy;
      if (p && (p.noPinCount > 0 || p.noPinTotal > 0))
        store.transaction((s) => {
          s.cardholderPolicy!.noPinCount = 0;
          s.cardholderPolicy!.noPinTotal = 0;
        });
      return cmd;
    },
  },
};

/** Which command each broken card bends (the others go to the real applet untouched). */
const BENT: Record<string, number> = {
  'accepts-forged-debit-proof': INS.INITIATE_CREDIT,
  'credits-twice': INS.CREDIT,
  'aborts-debited': INS.ABORT_DEBIT,
  'releases-credited': INS.RELEASE_CREDIT,
};

function brokenFactory(card: BrokenCard, name: string): AppletFactory {
  return (store, random) => {
    const real = new SettlementApplet(store, random);
    const only = BENT[name];
    return {
      aid: real.aid,
      select: () => real.select(),
      clearTransient: () => real.clearTransient(),
      process: (cmd) => real.process(only === undefined || is(cmd, only) ? card.bend(cmd, store) : cmd),
    } satisfies Applet;
  };
}

/** The applets of a run: a broken card by name on its side, the real applet everywhere else. */
export function brokenApplets(name: string | undefined): Partial<Record<Side, AppletFactory>> {
  if (name === undefined) return {};
  const card = BROKEN_CARDS[name];
  if (!card) throw new Error(`no broken card named ${name}: ${Object.keys(BROKEN_CARDS).join(', ')}`);
  return { [card.side]: brokenFactory(card, name) };
}
