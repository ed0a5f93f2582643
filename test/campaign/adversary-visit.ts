// A hostile terminal between honest operations (issue 13): it takes two cards of the world (the
// customer's card left in its reader, a shop card it got hold of), sends them well-formed commands of
// its own choosing, and gives them back. Its alphabet is the explorer's (test/adversary/alphabet.ts:
// INITIATE DEBIT/CREDIT with invented or recorded transactions and randoms, DEBIT, CREDIT, ACKNOWLEDGE,
// ABORT, CANCEL, RELEASE CREDIT, REFUND DEBIT with genuine, replayed and forged proofs, wrong PINs),
// plus what only a campaign has: APDUs recorded from the honest terminal's runs and replayed (never
// a VERIFY: a hostile terminal learns a PIN only if the holder types it into it), CONTENT RECEIVE
// with junk, CONTENT RELEASE and CONTENT ABORT of recorded or invented transfer IDs.
//
// Sometimes it plays the protocol through for a while with genuine values (as an honest terminal
// would, but stopping and deviating where it likes), so that the deep states (debited, credited,
// released) are reached, not only refusals. Power may be lost after any command or cut at any write.
//
// Every move runs on the real applet through the explorer's TwoCardWorld, so the explorer's checks
// apply to every state of the visit: no value created (balances plus value in flight from the
// records), at most one of each proof pair, no credit without a genuine payer's debit proof, stored
// proofs genuine, no payment beyond the no-PIN policy without the PIN, refusals change nothing. The
// cards then go back to the honest terminal (adversary-check.ts: recovery, then nobody stranded).
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { encodeCommandApdu, parseCommandApdu } from '../../protocol/apdu.js';
import { concat, fromHex, readU32, toHex } from '../../protocol/bytes.js';
import { MAC_LENGTH, RANDOM_LENGTH } from '../../protocol/crypto-suite.js';
import { DEFAULT_NO_PIN_LIMITS } from '../../protocol/settlement/cardholder-policy.js';
import { CLA_PROPRIETARY, HOLDER_ID_LENGTH, INS } from '../../protocol/settlement/commands.js';
import { MAC_LABEL, transferMac } from '../../protocol/settlement/mac-input.js';
import { SW } from '../../protocol/status-words.js';
import { type Command, describeCommand, enumerateCommands } from '../adversary/alphabet.js';
import { brokenApplets } from '../adversary/broken-cards.js';
import type { ExplorerRoot } from '../adversary/explorer-root.js';
import { StateChecks } from '../adversary/invariants.js';
import {
  initialState,
  macId,
  macTerms,
  SIDES,
  type Side,
  type TxTerms,
  totalValue,
  type WorldState,
  ZERO_RR,
} from '../adversary/world-state.js';
import { describePower, POWER_PLANS, type Successor, TwoCardWorld } from '../adversary/world-step.js';
import type { WorldCard } from './campaign-world.js';
import type { SeededRandom } from './seeded-random.js';
import { WORLD_CURRENCY, WORLD_PIN } from './world-cards.js';

export interface VisitOptions {
  random: SeededRandom;
  /** Commands to send (the visit may stop earlier only if nothing can be sent). */
  steps: number;
  /** The issuer's transfer key of the pair's key ID (names the MACs; never sent). */
  transferKey: string;
  /** Run a deliberately broken card (broken-cards.ts) on its side of the pair, to prove the checks fail. */
  broken?: string;
}

export interface VisitResult {
  /** What was sent, one line each (card, command, power), with the card's answer. */
  steps: string[];
  /** Commands the cards accepted (9000). */
  accepted: number;
  violations: string[];
  /** The cards' memory as the hostile terminal leaves it. */
  images: Record<Side, SettlementState>;
  /** Whether it differs from what the cards held before the visit (else the visit left no trace). */
  changed: boolean;
}

/** The explorer's view of two campaign cards as they are now: their memory, IDs and the recorded pool. */
export function visitRoot(pair: Record<Side, WorldCard>, transferKey: string): ExplorerRoot {
  const states = { A: pair.A.state(), B: pair.B.state() };
  // The recorded pool: the newest records of the cards' logs, transactions of honest runs.
  const records = SIDES.flatMap((s) => [...states[s].debitLog, ...states[s].creditLog]);
  const recorded = [...new Set(records.slice(-4).map((r) => r.txRandom))].map((txRandom, i) => ({
    name: `R${i + 1}`,
    txRandom,
  }));
  const date = records.reduce((d, r) => Math.max(d, r.date), Math.floor(Date.now() / 1000));
  return {
    images: { A: JSON.stringify(states.A), B: JSON.stringify(states.B) },
    holderIds: { A: pair.A.holderId, B: pair.B.holderId },
    // Never sent (VERIFY with the right PIN is left out of the hostile alphabet below).
    pins: { A: WORLD_PIN, B: WORLD_PIN },
    puks: { A: '', B: '' },
    limits: DEFAULT_NO_PIN_LIMITS,
    transferKey,
    transferKeyId: states.A.transferKeyId,
    currency: WORLD_CURRENCY,
    date,
    recorded,
  };
}

/** Runs one visit of the hostile terminal on the pair; changes nothing on the cards themselves. */
export function hostileVisit(pair: Record<Side, WorldCard>, o: VisitOptions): VisitResult {
  const root = visitRoot(pair, o.transferKey);
  const world = new TwoCardWorld(root, brokenApplets(o.broken));
  let state = withRecordedDebitProofs(initialState(root.images), pair, o.transferKey);
  const checks = new StateChecks(root, totalValue(state));
  // What the cards held before (records of other cards' transactions, older keys) is not the visit's doing.
  const baseline = new Set(checks.check(state));
  const scripted = o.random.chance(0.6);
  const out: VisitResult = {
    steps: [],
    accepted: 0,
    violations: [],
    images: { A: pair.A.state(), B: pair.B.state() },
    changed: false,
  };
  const recorded = [...pair.A.recorded, ...pair.B.recorded].filter(
    (apdu) => !(apdu[1] === INS.VERIFY || apdu[1] === INS.RESET_RETRY_COUNTER),
  );

  for (let i = 0; i < o.steps; i++) {
    const r = o.random;
    const command =
      (r.chance(0.15) && rawCommand(r, state, recorded)) ||
      (scripted && r.chance(0.6) && progressCommand(world, state, root, r)) ||
      randomCommand(r, state, root);
    const power = r.weighted(POWER_PLANS.map((_, p) => [p, p === 0 ? 8 : 1] as const));
    const next: Successor = world.apply(state, command, power) ?? world.apply(state, command, 0)!;
    const sw = next.answer.sw;
    if (sw === SW.OK) out.accepted++;
    out.steps.push(
      `${describeCommand(command)}${describePower(POWER_PLANS[next.power]!)} → ${sw === undefined ? 'no answer' : sw.toString(16).toUpperCase()}`,
    );
    state = next.state;
    const found = [...next.violations, ...checks.check(state).filter((v) => !baseline.has(v))];
    if (found.length > 0) {
      out.violations.push(...found.map((v) => `after hostile step ${i + 1}: ${v}`));
      break;
    }
  }
  out.images = { A: JSON.parse(state.images.A), B: JSON.parse(state.images.B) };
  out.changed = state.images.A !== root.images.A || state.images.B !== root.images.B;
  return out;
}

/**
 * The debit proofs the recorded honest INITIATE CREDIT APDUs carry, as issued MACs: a genuine payer
 * card made each (it verifies under the transfer key), though its record may be long evicted from
 * every card of the pair. Replaying one creates a pending credit that this proof backs (protocol
 * §4.3, replays after eviction): not the one-APDU strand the backing check is there to catch.
 */
export function withRecordedDebitProofs(
  s: WorldState,
  pair: Record<Side, WorldCard>,
  transferKey: string,
): WorldState {
  // INITIATE CREDIT's data: payer ID ‖ currency ‖ amount ‖ date (the terms), Rt, DP (protocol §4.3).
  const TERMS_LENGTH = HOLDER_ID_LENGTH + 2 + 4 + 4;
  const key = fromHex(transferKey);
  const issued = new Set(s.issued);
  for (const side of SIDES) {
    const payee = pair[side].state();
    for (const apdu of pair[side].recorded) {
      const c = parseCommandApdu(apdu);
      if (c.cla !== CLA_PROPRIETARY || c.ins !== INS.INITIATE_CREDIT) continue;
      if (c.data.length !== TERMS_LENGTH + RANDOM_LENGTH + MAC_LENGTH) continue;
      const d = c.data;
      const terms: TxTerms = {
        transferKeyId: payee.transferKeyId,
        payerId: toHex(d.subarray(0, 16)),
        payeeId: payee.holderId,
        currency: (d[16]! << 8) | d[17]!,
        amount: readU32(d, 18),
        date: readU32(d, 22),
        txRandom: toHex(d.subarray(TERMS_LENGTH, TERMS_LENGTH + RANDOM_LENGTH)),
      };
      const proof = d.subarray(TERMS_LENGTH + RANDOM_LENGTH);
      const genuine = transferMac(key, MAC_LABEL.DEBIT_PROOF, macTerms(terms, ZERO_RR));
      if (toHex(genuine) === toHex(proof)) issued.add(macId(MAC_LABEL.DEBIT_PROOF, terms, ZERO_RR));
    }
  }
  return issued.size === s.issued.length ? s : { ...s, issued: [...issued].sort() };
}

/** A command of the alphabet at random (weightOf); the right PIN is never sent. */
function randomCommand(r: SeededRandom, s: WorldState, root: ExplorerRoot): Command {
  const tries = (side: Side) => (JSON.parse(s.images[side]) as SettlementState).owner?.tries ?? 0;
  const choices: [Command, number][] = [];
  for (const c of enumerateCommands(s, root)) {
    if (c.kind === 'verify') {
      // Guesses within the limit: never the last try (a blocked PIN is the holder's loss, not a strand).
      if (!c.right && tries(c.card) > 1) choices.push([c, 1]);
      continue;
    }
    choices.push([c, weightOf(c)]);
  }
  return r.weighted(choices);
}

/**
 * The visit's own transactions (named t…) weigh most: their genuine proofs and the commands that need
 * none (ABORT DEBIT, RELEASE CREDIT), which are what can go wrong after a step of the protocol; the
 * recorded and forged pools are many commands of weight 1 each.
 */
function weightOf(c: Command): number {
  if (c.kind === 'initiate-debit') return 4;
  if (!('tx' in c) || !c.tx.name.startsWith('t')) return 1;
  if (!('proof' in c)) return 20;
  return c.proof.kind === 'genuine' ? 25 : 2;
}

/**
 * The next step of a value transfer of the visit's own, with genuine values, as an honest terminal
 * would send it (acknowledge, credit, debit, initiate credit; else a new INITIATE DEBIT): the first
 * that a card accepts and that changes something.
 */
function progressCommand(
  world: TwoCardWorld,
  s: WorldState,
  root: ExplorerRoot,
  r: SeededRandom,
): Command | undefined {
  const all = enumerateCommands(s, root);
  const order = ['acknowledge', 'credit', 'debit', 'initiate-credit'] as const;
  for (const kind of order)
    for (const c of all) {
      if (c.kind !== kind || !c.tx.name.startsWith('t') || c.proof.kind !== 'genuine') continue;
      const next = world.apply(s, c, 0)!;
      if (next.answer.sw === SW.OK && !next.selfLoop) return c;
    }
  const amount = r.pick([1, r.int(2, root.limits.perPayment), root.limits.perPayment + 1]);
  const card = r.pick(SIDES);
  return (
    all.find(
      (c) => c.kind === 'initiate-debit' && c.card === card && c.payee === 'peer' && c.amount === amount,
    ) ?? { kind: 'initiate-debit', card, payee: 'peer', amount }
  );
}

/** A replayed honest APDU, CONTENT RECEIVE with junk, or CONTENT RELEASE / ABORT of a recorded or invented ID. */
function rawCommand(r: SeededRandom, s: WorldState, recorded: Uint8Array[]): Command | undefined {
  const card = r.pick(SIDES);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => r.int(0, 255));
  const apdu = (ins: number, data: Uint8Array) =>
    encodeCommandApdu({ cla: CLA_PROPRIETARY, ins, p1: 0, p2: 0, data, ne: 256 });
  const kind = r.weighted([
    ['replay', recorded.length > 0 ? 5 : 0],
    ['receive', 2],
    ['release', 2],
    ['abort', 1],
  ] as const);
  if (kind === 'replay') {
    const a = r.pick(recorded);
    return { kind: 'raw', card, apdu: a, what: `replayed honest APDU ${toHex(a.subarray(0, 4))}…` };
  }
  if (kind === 'receive') {
    const sealed = bytes(r.int(1, 120));
    return {
      kind: 'raw',
      card,
      apdu: apdu(INS.CONTENT_RECEIVE, concat(bytes(16), bytes(16), new Uint8Array(16), sealed)),
      what: `CONTENT RECEIVE with ${sealed.length} bytes of junk`,
    };
  }
  const ids = SIDES.flatMap((side) =>
    (JSON.parse(s.images[side]) as SettlementState).contentLog.map((c) => c.txId),
  );
  const invented = ids.length === 0 || r.chance(0.3);
  const id = invented ? bytes(16) : fromHex(r.pick(ids));
  const ins = kind === 'release' ? INS.CONTENT_RELEASE : INS.CONTENT_ABORT;
  return {
    kind: 'raw',
    card,
    apdu: apdu(ins, id),
    what: `${kind === 'release' ? 'CONTENT RELEASE' : 'CONTENT ABORT'} of ${invented ? 'an invented' : 'a recorded'} transfer ID`,
  };
}
