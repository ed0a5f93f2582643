// What a hostile terminal can send to the two cards: the value-transfer and release commands of
// docs/protocol.md §4.3–4.6 (and VERIFY, for the owner level), each to either card, well-formed,
// with randoms, challenges and proofs from three small pools:
//
// - genuine: every transaction the cards made during the sequence, with every MAC a card issued for
//   it (a hostile terminal sees every answer and can read every record's proof with GET TRANSACTION
//   STATUS, which changes nothing and so is not a command of its own here);
// - recorded: the four transactions of the root's honest traffic (explorer-root.ts), replayed;
// - forged: 16 constant bytes in place of a proof, a proof of another transaction, a proof under
//   another label that binds the same terms (a debit proof offered as an abort proof, a transmission
//   challenge reflected as a reception challenge...), a transaction nobody made (invented random).
//
// The list for a state is deterministic (same state, same list, same order), so a path of indices
// into it replays exactly; each command is then sent with one of six power plans (power-plans in
// explorer-step.ts). A campaign picks from the same list at random.

import { sha256 } from '@noble/hashes/sha2.js';
import type { CreditRecord, DebitRecord } from '../../card-sim/applets/settlement/state.js';
import { encodeCommandApdu } from '../../protocol/apdu.js';
import { ascii, concat, fromHex, u16, u32 } from '../../protocol/bytes.js';
import { CLA_ISO, CLA_PROPRIETARY, INS, PIN_REFERENCE } from '../../protocol/settlement/commands.js';
import { MAC_LABEL, type MacLabel, transferMac } from '../../protocol/settlement/mac-input.js';
import type { ExplorerRoot } from './explorer-root.js';
import {
  type ArchivedRecord,
  everyRecord,
  labelHex,
  macTerms,
  SIDES,
  type Side,
  type TxTerms,
  termsHex,
  termsOf,
  type WorldState,
  ZERO_RR,
} from './world-state.js';

/** One transaction the hostile terminal can name: its terms and the reception randoms it has seen. */
export interface PoolTx {
  name: string;
  terms: TxTerms;
  rrs: string[];
}

export type ProofSource =
  | { kind: 'genuine' | 'other-label' | 'other-tx'; label: MacLabel; tx: PoolTx; rr: string }
  | { kind: 'random' };

export type Command =
  | { kind: 'initiate-debit'; card: Side; payee: 'peer' | 'stranger'; amount: number }
  | { kind: 'initiate-credit'; card: Side; tx: PoolTx; proof: ProofSource }
  | { kind: 'debit'; card: Side; tx: PoolTx; rr: string; proof: ProofSource }
  | { kind: 'credit'; card: Side; tx: PoolTx; proof: ProofSource }
  | { kind: 'acknowledge'; card: Side; tx: PoolTx; proof: ProofSource }
  | { kind: 'abort'; card: Side; tx: PoolTx }
  | { kind: 'cancel'; card: Side; tx: PoolTx; proof: ProofSource }
  | { kind: 'release'; card: Side; tx: PoolTx }
  | { kind: 'refund'; card: Side; tx: PoolTx; rr: string; proof: ProofSource }
  | { kind: 'verify'; card: Side; right: boolean }
  /**
   * Bytes from outside the alphabet (the adversary campaign's: an APDU recorded from an honest run and
   * replayed, CONTENT RECEIVE with junk, CONTENT RELEASE of a recorded transfer ID...). The explorer
   * never enumerates it; `what` says what it is.
   */
  | { kind: 'raw'; card: Side; apdu: Uint8Array; what: string };

const constant = (label: string) => sha256(ascii(label)).slice(0, 16);
/** Forged values: bytes no card made (a proof, an invented transmission or reception random, a payee). */
export const FORGED_PROOF = constant('STLM-EXPLORER forged proof');
export const FORGED_RT = Buffer.from(constant('STLM-EXPLORER forged Rt')).toString('hex').toUpperCase();
export const FORGED_RR = Buffer.from(constant('STLM-EXPLORER forged Rr')).toString('hex').toUpperCase();
export const STRANGER_ID = Buffer.from(constant('STLM-EXPLORER stranger')).toString('hex').toUpperCase();
export const WRONG_PIN = '9999';

/** Amounts of INITIATE DEBIT: the smallest, and both sides of the no-PIN limit per payment. */
export function amountsOf(root: ExplorerRoot): number[] {
  return [1, root.limits.perPayment, root.limits.perPayment + 1];
}

/** The labels that bind the same bytes (same layout), so one could be offered for another. */
const ZERO_RR_LABELS: readonly MacLabel[] = [MAC_LABEL.DEBIT_PROOF, MAC_LABEL.ABORT_PROOF];
const RR_LABELS: readonly MacLabel[] = [
  MAC_LABEL.TRANSMISSION_CHALLENGE,
  MAC_LABEL.RECEPTION_CHALLENGE,
  MAC_LABEL.CREDIT_ACKNOWLEDGEMENT,
  MAC_LABEL.RELEASE_PROOF,
];

const rootRtsCache = new WeakMap<ExplorerRoot, Set<string>>();
function rootRts(root: ExplorerRoot): Set<string> {
  let rts = rootRtsCache.get(root);
  if (!rts) {
    rts = new Set<string>();
    for (const image of Object.values(root.images)) {
      const s = JSON.parse(image) as { debitLog: { txRandom: string }[]; creditLog: { txRandom: string }[] };
      for (const r of [...s.debitLog, ...s.creditLog]) rts.add(r.txRandom);
    }
    rootRtsCache.set(root, rts);
  }
  return rts;
}

/** The transactions the terminal can name in a state: recorded, one forged, then those of this sequence. */
export function transactionPool(s: WorldState, root: ExplorerRoot): PoolTx[] {
  const all = everyRecord(s);
  const byRt = new Map<string, ArchivedRecord[]>();
  for (const a of all) {
    const list = byRt.get(a.record.txRandom);
    if (list) list.push(a);
    else byRt.set(a.record.txRandom, [a]);
  }
  const txOf = (name: string, rt: string): PoolTx => {
    const records = byRt.get(rt)!;
    const debit = records.find((a) => a.role === 'debit');
    const terms = termsOf(s, debit ?? records[0]!);
    const rrs: string[] = [];
    for (const a of records) {
      const rr =
        a.role === 'credit' ? (a.record as CreditRecord).rxRandom : (a.record as DebitRecord).rxRandom;
      if (rr && !rrs.includes(rr)) rrs.push(rr);
    }
    return { name, terms, rrs };
  };
  const pool: PoolTx[] = root.recorded.map((r) => txOf(r.name, r.txRandom));
  if (byRt.has(FORGED_RT)) pool.push(txOf('F', FORGED_RT));
  else
    pool.push({
      name: 'F',
      terms: {
        transferKeyId: root.transferKeyId,
        payerId: root.holderIds.A,
        payeeId: root.holderIds.B,
        currency: root.currency,
        amount: 1,
        date: root.date,
        txRandom: FORGED_RT,
      },
      rrs: [],
    });
  const skip = rootRts(root);
  for (const rt of byRt.keys()) {
    if (skip.has(rt) || rt === FORGED_RT) continue;
    pool.push(txOf(`t${rt.slice(0, 4)}`, rt));
  }
  return pool;
}

const issuedCache = new WeakMap<WorldState, Set<string>>();
export function issuedSet(s: WorldState): Set<string> {
  let set = issuedCache.get(s);
  if (!set) {
    set = new Set(s.issued);
    issuedCache.set(s, set);
  }
  return set;
}

type CardlessCommand = Command extends infer C ? (C extends Command ? Omit<C, 'card'> : never) : never;

const commandsCache = new WeakMap<WorldState, Command[]>();

/** Every command of the alphabet in a state, in a fixed order: card A's, then the same for card B. */
export function enumerateCommands(s: WorldState, root: ExplorerRoot): Command[] {
  let commands = commandsCache.get(s);
  if (!commands) {
    const templates = commandTemplates(s, root);
    commands = SIDES.flatMap((card) => templates.map((t) => ({ ...t, card }) as Command));
    commandsCache.set(s, commands);
  }
  return commands;
}

function commandTemplates(s: WorldState, root: ExplorerRoot): CardlessCommand[] {
  const issued = issuedSet(s);
  const pool = transactionPool(s, root);
  // Which MACs the terminal holds, per transaction, label and reception random.
  const held = new Map<PoolTx, Map<MacLabel, string[]>>();
  for (const tx of pool) {
    const terms = termsHex(tx.terms);
    const byLabel = new Map<MacLabel, string[]>();
    for (const label of [...ZERO_RR_LABELS, ...RR_LABELS]) {
      const rrs = ZERO_RR_LABELS.includes(label) ? [ZERO_RR] : tx.rrs;
      byLabel.set(
        label,
        rrs.filter((rr) => issued.has(labelHex(label) + terms + rr)),
      );
    }
    held.set(tx, byLabel);
  }
  const has = (label: MacLabel, tx: PoolTx, rr: string) => held.get(tx)!.get(label)!.includes(rr);
  /** The newest other transaction's MAC of this label: a proof of another transaction. */
  const otherTx = (label: MacLabel, tx: PoolTx): ProofSource | undefined => {
    for (let i = pool.length - 1; i >= 0; i--) {
      const o = pool[i]!;
      const rr = o === tx ? undefined : held.get(o)!.get(label)![0];
      if (rr !== undefined) return { kind: 'other-tx', label, tx: o, rr };
    }
    return undefined;
  };
  /** For one reception random: the genuine proof, then the same-layout proofs of other labels. */
  const sameTerms = (label: MacLabel, tx: PoolTx, rr: string): ProofSource[] => {
    const group = ZERO_RR_LABELS.includes(label) ? ZERO_RR_LABELS : RR_LABELS;
    const out: ProofSource[] = [];
    if (has(label, tx, rr)) out.push({ kind: 'genuine', label, tx, rr });
    for (const other of group)
      if (other !== label && has(other, tx, rr)) out.push({ kind: 'other-label', label: other, tx, rr });
    return out;
  };
  const tail = (label: MacLabel, tx: PoolTx): ProofSource[] => {
    const o = otherTx(label, tx);
    return o ? [o, { kind: 'random' }] : [{ kind: 'random' }];
  };

  const out: CardlessCommand[] = [];
  for (const amount of amountsOf(root)) out.push({ kind: 'initiate-debit', payee: 'peer', amount });
  out.push({ kind: 'verify', right: true }, { kind: 'verify', right: false });
  for (const tx of pool) {
    for (const proof of [
      ...sameTerms(MAC_LABEL.DEBIT_PROOF, tx, ZERO_RR),
      ...tail(MAC_LABEL.DEBIT_PROOF, tx),
    ])
      out.push({ kind: 'initiate-credit', tx, proof });
    out.push({ kind: 'abort', tx }, { kind: 'release', tx });
    for (const proof of [
      ...sameTerms(MAC_LABEL.ABORT_PROOF, tx, ZERO_RR),
      ...tail(MAC_LABEL.ABORT_PROOF, tx),
    ])
      out.push({ kind: 'cancel', tx, proof });
    // DEBIT and REFUND DEBIT carry the reception random: one per random seen, then forgeries.
    for (const [kind, label] of [
      ['debit', MAC_LABEL.TRANSMISSION_CHALLENGE],
      ['refund', MAC_LABEL.RELEASE_PROOF],
    ] as const) {
      for (const rr of tx.rrs)
        for (const proof of sameTerms(label, tx, rr)) out.push({ kind, tx, rr, proof });
      const rr = tx.rrs[0] ?? FORGED_RR;
      for (const proof of tail(label, tx)) out.push({ kind, tx, rr, proof });
    }
    for (const [kind, label] of [
      ['credit', MAC_LABEL.RECEPTION_CHALLENGE],
      ['acknowledge', MAC_LABEL.CREDIT_ACKNOWLEDGEMENT],
    ] as const) {
      for (const rr of tx.rrs) for (const proof of sameTerms(label, tx, rr)) out.push({ kind, tx, proof });
      for (const proof of tail(label, tx)) out.push({ kind, tx, proof });
    }
  }
  return out;
}

/** The 16 bytes of a proof source (a MAC under the transfer key, as a card made it, or forged bytes). */
export function proofBytes(p: ProofSource, root: ExplorerRoot): Uint8Array {
  if (p.kind === 'random') return FORGED_PROOF;
  const id = root.transferKey + labelHex(p.label) + termsHex(p.tx.terms) + p.rr;
  let mac = macCache.get(id);
  if (!mac) {
    mac = transferMac(fromHex(root.transferKey), p.label, macTerms(p.tx.terms, p.rr));
    if (macCache.size >= 100_000) macCache.clear();
    macCache.set(id, mac);
  }
  return mac;
}

/** MACs by name (one transfer key per run: the explorer's root has one). */
const macCache = new Map<string, Uint8Array>();

const p = (ins: number, data: Uint8Array) =>
  encodeCommandApdu({ cla: CLA_PROPRIETARY, ins, p1: 0, p2: 0, data, ne: 256 });

/** The APDU a command is. */
export function apduOf(c: Command, root: ExplorerRoot): Uint8Array {
  if (c.kind === 'raw') return c.apdu;
  const rt = 'tx' in c ? fromHex(c.tx.terms.txRandom) : new Uint8Array(0);
  const proof = 'proof' in c ? proofBytes(c.proof, root) : new Uint8Array(0);
  switch (c.kind) {
    case 'initiate-debit': {
      const payee = c.payee === 'stranger' ? STRANGER_ID : root.holderIds[c.card === 'A' ? 'B' : 'A'];
      return p(INS.INITIATE_DEBIT, concat(fromHex(payee), u16(root.currency), u32(c.amount), u32(root.date)));
    }
    case 'initiate-credit': {
      const t = c.tx.terms;
      const terms = concat(fromHex(t.payerId), u16(t.currency), u32(t.amount), u32(t.date));
      return p(INS.INITIATE_CREDIT, concat(terms, rt, proof));
    }
    case 'debit':
      return p(INS.DEBIT, concat(rt, fromHex(c.rr), proof));
    case 'refund':
      return p(INS.REFUND_DEBIT, concat(rt, fromHex(c.rr), proof));
    case 'credit':
      return p(INS.CREDIT, concat(rt, proof));
    case 'acknowledge':
      return p(INS.ACKNOWLEDGE_DEBIT, concat(rt, proof));
    case 'cancel':
      return p(INS.CANCEL_CREDIT, concat(rt, proof));
    case 'abort':
      return p(INS.ABORT_DEBIT, rt);
    case 'release':
      return p(INS.RELEASE_CREDIT, rt);
    case 'verify':
      return encodeCommandApdu({
        cla: CLA_ISO,
        ins: INS.VERIFY,
        p1: 0,
        p2: PIN_REFERENCE,
        data: ascii(c.right ? root.pins[c.card] : WRONG_PIN),
      });
  }
}

const NAMES: Record<Command['kind'], string> = {
  'initiate-debit': 'INITIATE DEBIT',
  'initiate-credit': 'INITIATE CREDIT',
  debit: 'DEBIT',
  credit: 'CREDIT',
  acknowledge: 'ACKNOWLEDGE DEBIT',
  abort: 'ABORT DEBIT',
  cancel: 'CANCEL CREDIT',
  release: 'RELEASE CREDIT',
  refund: 'REFUND DEBIT',
  verify: 'VERIFY',
  raw: 'raw APDU',
};

const LABEL_NAMES: Record<MacLabel, string> = {
  [MAC_LABEL.DEBIT_PROOF]: 'DP',
  [MAC_LABEL.TRANSMISSION_CHALLENGE]: 'TC',
  [MAC_LABEL.RECEPTION_CHALLENGE]: 'RC',
  [MAC_LABEL.CREDIT_ACKNOWLEDGEMENT]: 'ACK',
  [MAC_LABEL.ABORT_PROOF]: 'AP',
  [MAC_LABEL.RELEASE_PROOF]: 'RP',
};

const rrName = (rr: string) => (rr === ZERO_RR ? '0' : rr === FORGED_RR ? 'forged' : rr.slice(0, 4));

function proofName(pr: ProofSource): string {
  if (pr.kind === 'random') return 'forged bytes';
  const what = `${LABEL_NAMES[pr.label]}(${pr.tx.name}${pr.rr === ZERO_RR ? '' : `/${rrName(pr.rr)}`})`;
  return pr.kind === 'genuine'
    ? what
    : `${what}, ${pr.kind === 'other-tx' ? 'another transaction' : 'another label'}`;
}

/** One line a person can read: card, command, transaction, randoms and which proof. */
export function describeCommand(c: Command): string {
  const head = `${c.card} ← ${NAMES[c.kind]}`;
  switch (c.kind) {
    case 'initiate-debit':
      return `${head} ${c.amount} to ${c.payee === 'peer' ? (c.card === 'A' ? 'B' : 'A') : 'a stranger'}`;
    case 'verify':
      return `${head} ${c.right ? 'right' : 'wrong'} PIN`;
    case 'raw':
      return `${c.card} ← ${c.what}`;
    case 'abort':
    case 'release':
      return `${head} ${c.tx.name}`;
    case 'debit':
    case 'refund':
      return `${head} ${c.tx.name}/${rrName(c.rr)} with ${proofName(c.proof)}`;
    default:
      return `${head} ${c.tx.name} with ${proofName(c.proof)}`;
  }
}
