// What must hold in every state two cards can reach under a hostile terminal (docs/safety.md,
// "Exhaustive bounded exploration"), checked from the cards' memory and what the terminal has seen:
//
// 1. memory: each card's image decodes by the applet's own schema, open debits within the balance,
//    and the headroom rule (balance + pending credits + refundable debits ≤ maximum, §4.4);
// 2. value: both balances plus the value in flight (world-state.ts: debited and not credited) equal
//    the total at the root; no value created, none lost;
// 3. proof pairs: per transaction at most one of {RC, AP} ever issued by the payer, at most one of
//    {ACK, RP} per reception random by the payee, and at most one ACK per transaction;
// 4. genuine payer: every pending, credited, cancelled or released credit record (on a card or
//    evicted) is backed by a debit proof a payer card issued for exactly its terms;
// 5. stored proofs: the proof a record keeps is the genuine MAC its state names (re-issued on a
//    status query, it must be what it claims).
//
// The sixth, no card stranded after honest recovery, is in honest-recovery.ts (it runs commands).
// Each check returns what is violated, as sentences naming the card and transaction.
import type { CreditRecord } from '../../card-sim/applets/settlement/state.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { MAC_LABEL, type MacLabel, transferMac } from '../../protocol/settlement/mac-input.js';
import { parseImage } from '../fuzz/card-invariants.js';
import { InvariantViolation } from '../fuzz/fuzz-report.js';
import { issuedSet } from './alphabet.js';
import { BoundedCache } from './bounded-cache.js';
import type { ExplorerRoot } from './explorer-root.js';
import {
  type ArchivedRecord,
  creditTxTerms,
  everyRecord,
  holderOf,
  macId,
  macTerms,
  recordsOf,
  type Side,
  termsOf,
  totalValue,
  valueInFlight,
  type WorldState,
  ZERO_RR,
} from './world-state.js';

const LABEL_OF_HEX = new Map<string, MacLabel>(
  (Object.values(MAC_LABEL) as MacLabel[]).map((l) => [
    Buffer.from(l, 'ascii').toString('hex').toUpperCase(),
    l,
  ]),
);

/** label ‖ key ID 4 ‖ payer 16 ‖ payee 16 ‖ currency 2 ‖ amount 4 ‖ date 4 ‖ Rt 16 ‖ Rr 16, in hex. */
function parseMacId(id: string): { label: MacLabel; rt: string; rr: string } {
  return { label: LABEL_OF_HEX.get(id.slice(0, 16))!, rt: id.slice(108, 140), rr: id.slice(140, 172) };
}

/** What the checks find in one card image alone (a function of the image: worked out once each). */
interface ImageChecks {
  /** Its memory verdict (schema, open debits, headroom), or null. */
  memory: string | null;
  /** Its records that keep a proof other than the one their state names. */
  storedProofs: string[];
  /** Its credit records, each with the debit proof that must back it. */
  backing: Backing[];
}

interface Backing {
  dp: string;
  message: string;
}

export class StateChecks {
  private readonly images: Record<Side, BoundedCache<string, ImageChecks>>;
  private readonly archives = new WeakMap<readonly ArchivedRecord[], Backing[]>();
  private readonly proofVerdicts: BoundedCache<string, boolean>;
  private readonly key: Uint8Array;

  constructor(
    readonly root: ExplorerRoot,
    readonly initialTotal: number,
    private readonly plain = false,
  ) {
    this.key = fromHex(root.transferKey);
    this.proofVerdicts = new BoundedCache(200_000, plain);
    this.images = {
      A: new BoundedCache(IMAGE_CHECKS_LIMIT, plain),
      B: new BoundedCache(IMAGE_CHECKS_LIMIT, plain),
    };
  }

  check(s: WorldState): string[] {
    const a = this.imageChecks(s, 'A');
    const b = this.imageChecks(s, 'B');
    const out: string[] = [];
    if (a.memory) out.push(a.memory);
    if (b.memory) out.push(b.memory);
    out.push(...this.value(s), ...proofPairs(s));
    const issued = issuedSet(s);
    for (const list of [a.backing, b.backing, this.archiveBacking(s)])
      for (const { dp, message } of list) if (!issued.has(dp)) out.push(message);
    out.push(...a.storedProofs, ...b.storedProofs);
    return out;
  }

  private imageChecks(s: WorldState, side: Side): ImageChecks {
    const image = s.images[side];
    let checks = this.images[side].get(image);
    if (checks === undefined) {
      let memory: string | null = null;
      try {
        parseImage(image, side);
      } catch (e) {
        if (!(e instanceof InvariantViolation)) throw e;
        memory = e.message;
      }
      const records = recordsOf(s).filter((a) => a.side === side);
      checks = {
        memory,
        storedProofs: records.flatMap((a) => this.storedProof(s, a)),
        backing: records.flatMap((a) => backing(s, a)),
      };
      this.images[side].set(image, checks);
    }
    return checks;
  }

  private archiveBacking(s: WorldState): Backing[] {
    let list = this.plain ? undefined : this.archives.get(s.archive);
    if (list === undefined) {
      list = s.archive.flatMap((a) => backing(s, a));
      if (!this.plain) this.archives.set(s.archive, list);
    }
    return list;
  }

  private value(s: WorldState): string[] {
    const total = totalValue(s);
    if (total === this.initialTotal) return [];
    const what = total > this.initialTotal ? 'value created' : 'value lost';
    return [
      `${what}: balances plus value in flight (${valueInFlight(s)}) = ${total}, at the root ${this.initialTotal}`,
    ];
  }

  /** The proof a record keeps is the MAC its state names, over its own terms. */
  private storedProof(s: WorldState, a: ArchivedRecord): string[] {
    const r = a.record as { status: string; txRandom: string; rxRandom?: string; proof?: string };
    if (!r.proof) return [];
    const label = storedLabel(a);
    // A record recurs in many images (a command changes one or two): its verdict is kept by content.
    const memo = `${a.side}${a.role}${JSON.stringify(r)}`;
    let ok = this.proofVerdicts.get(memo);
    if (ok === undefined) {
      const rr = label === MAC_LABEL.ABORT_PROOF ? ZERO_RR : (r.rxRandom ?? ZERO_RR);
      ok =
        label !== undefined && toHex(transferMac(this.key, label, macTerms(termsOf(s, a), rr))) === r.proof;
      this.proofVerdicts.set(memo, ok);
    }
    return ok
      ? []
      : [
          `${a.side}: the ${r.status} ${a.role} record ${short(r.txRandom)} keeps a proof that is not its ${label ?? 'state'}'s`,
        ];
  }
}

/** Image checks remembered per card and generation (bounded-cache.ts). */
const IMAGE_CHECKS_LIMIT = 50_000;

/** Which proof a record in this state keeps (docs/protocol.md §4.4). */
function storedLabel(a: ArchivedRecord): MacLabel | undefined {
  switch (a.record.status) {
    case 'debited':
    case 'acknowledged':
      return MAC_LABEL.RECEPTION_CHALLENGE;
    case 'aborted':
      return MAC_LABEL.ABORT_PROOF;
    case 'refunded':
    case 'released':
      return MAC_LABEL.RELEASE_PROOF;
    case 'credited':
      return MAC_LABEL.CREDIT_ACKNOWLEDGEMENT;
    default:
      return undefined;
  }
}

/** At most one of {RC, AP} per transaction, of {ACK, RP} per reception random, one ACK per transaction. */
export function proofPairs(s: WorldState): string[] {
  const payer = new Map<string, string[]>();
  const payee = new Map<string, string[]>();
  const acks = new Map<string, number>();
  for (const id of s.issued) {
    const { label, rt, rr } = parseMacId(id);
    if (label === MAC_LABEL.RECEPTION_CHALLENGE || label === MAC_LABEL.ABORT_PROOF) {
      const list = payer.get(rt) ?? [];
      list.push(label === MAC_LABEL.ABORT_PROOF ? 'AP' : `RC/${short(rr)}`);
      payer.set(rt, list);
    }
    if (label === MAC_LABEL.CREDIT_ACKNOWLEDGEMENT || label === MAC_LABEL.RELEASE_PROOF) {
      const key = `${rt}/${rr}`;
      const list = payee.get(key) ?? [];
      list.push(label === MAC_LABEL.RELEASE_PROOF ? 'RP' : 'ACK');
      payee.set(key, list);
      if (label === MAC_LABEL.CREDIT_ACKNOWLEDGEMENT) acks.set(rt, (acks.get(rt) ?? 0) + 1);
    }
  }
  const out: string[] = [];
  for (const [rt, list] of payer)
    if (list.length > 1) out.push(`transaction ${short(rt)}: the payer issued ${list.join(' and ')}`);
  for (const [key, list] of payee)
    if (list.length > 1) out.push(`transaction ${short(key)}: the payee issued ${list.join(' and ')}`);
  for (const [rt, n] of acks)
    if (n > 1) out.push(`transaction ${short(rt)}: credited ${n} times (${n} ACKs)`);
  return out;
}

/** Every credit record rests on a debit proof a payer card issued for its very terms. */
export function genuinePayer(s: WorldState): string[] {
  const issued = issuedSet(s);
  return everyRecord(s)
    .flatMap((a) => backing(s, a))
    .filter(({ dp }) => !issued.has(dp))
    .map(({ message }) => message);
}

/** The debit proof a credit record needs (none for a debit record). */
function backing(s: WorldState, a: ArchivedRecord): Backing[] {
  if (a.role !== 'credit') return [];
  const terms = creditTxTerms(holderOf(s, a.side), a.record as CreditRecord);
  return [
    {
      dp: macId(MAC_LABEL.DEBIT_PROOF, terms, ZERO_RR),
      message: `${a.side}: a ${a.record.status} credit record ${short(a.record.txRandom)} that no payer card's debit proof backs`,
    },
  ];
}

export const short = (hex: string) => hex.slice(0, 4);
