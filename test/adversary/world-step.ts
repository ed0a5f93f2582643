// One move of the hostile terminal on the two real cards: a command of the alphabet, sent under a
// power plan, and the state it leads to, with the checks that belong to the move itself (a refusal
// that changed memory, a payment without the PIN beyond the policy, a balance probed past the no-PIN
// allowance). The state checks (conservation, proof pairs, stranding...) are in invariants.ts.

import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { countNoPinPayment, needsPin } from '../../protocol/settlement/cardholder-policy.js';
import { MAC_LABEL, type MacLabel, transferMac } from '../../protocol/settlement/mac-input.js';
import { SW } from '../../protocol/status-words.js';
import { checkRefusalKeptState, isSuccess } from '../fuzz/card-invariants.js';
import { InvariantViolation } from '../fuzz/fuzz-report.js';
import { apduOf, type Command, issuedSet } from './alphabet.js';
import { BoundedCache } from './bounded-cache.js';
import {
  type AppletFactory,
  type CardAnswer,
  ExplorerCard,
  realApplet,
  type TearPlan,
} from './explorer-card.js';
import type { ExplorerRoot } from './explorer-root.js';
import {
  type ArchivedRecord,
  archiveKey,
  cardsOf,
  everyRecord,
  evicted,
  imageInfo,
  macId,
  macTerms,
  type Side,
  termsHex,
  termsOf,
  type WorldState,
  ZERO_RR,
} from './world-state.js';

/** How power behaves around a command: not at all, lost after the answer, or cut at a write. */
export type PowerPlan = 'none' | 'reset' | TearPlan;
export const POWER_PLANS: readonly PowerPlan[] = [
  'none',
  'reset',
  { commit: 0, decision: 'cut-before-write' },
  { commit: 0, decision: 'cut-after-write' },
  { commit: 1, decision: 'cut-before-write' },
  { commit: 1, decision: 'cut-after-write' },
];

export function describePower(plan: PowerPlan): string {
  if (plan === 'none') return '';
  if (plan === 'reset') return ' — power lost after the answer';
  return ` — power cut ${plan.decision === 'cut-before-write' ? 'before' : 'after'} write #${plan.commit + 1}`;
}

export interface Successor {
  power: number;
  state: WorldState;
  answer: CardAnswer;
  /** The move changed nothing the state holds. */
  selfLoop: boolean;
  violations: string[];
}

const ALL_LABELS = Object.values(MAC_LABEL) as MacLabel[];

/** Two real cards that can be put in any state of the world and sent one command. */
export class TwoCardWorld {
  readonly cards: Record<Side, ExplorerCard>;
  private readonly classified: BoundedCache<string, string | null>;
  private readonly memo: BoundedCache<string, Execution>;
  private readonly images: BoundedCache<string, { id: number; image: string }>;
  private nextImageId = 0;

  constructor(
    readonly root: ExplorerRoot,
    applets: Partial<Record<Side, AppletFactory>> = {},
    /** Run every cut command on the card instead of deriving single-write cuts (the derivation's own test). */
    private readonly executeTears = false,
    /** Remember nothing: every command runs on the card (the caches' own test, explorer.test.ts). */
    private readonly plain = false,
  ) {
    this.classified = new BoundedCache(100_000, plain);
    this.memo = new BoundedCache(MEMO_LIMIT, plain);
    this.images = new BoundedCache(IMAGE_LIMIT, plain);
    const card = (side: Side) =>
      new ExplorerCard(root.holderIds[side], root.images[side], root.pins[side], applets[side] ?? realApplet);
    this.cards = { A: card('A'), B: card('B') };
  }

  /** Every successor of one command: without power loss, with it after the answer, and cut at each write it makes. */
  successors(s: WorldState, c: Command): Successor[] {
    const normal = this.execute(s, c, undefined);
    const first = this.finish(s, c, 0, normal);
    // Power lost after the answer takes only the owner level: a card without it leads to the same state.
    const out = [
      first,
      normal.owner || this.plain ? this.finish(s, c, 1, { ...normal, owner: false }) : { ...first, power: 1 },
    ];
    for (let i = 2; i < POWER_PLANS.length; i++) {
      const plan = POWER_PLANS[i] as TearPlan;
      if (plan.commit < normal.answer.commits) out.push(this.finish(s, c, i, this.torn(s, c, plan, normal)));
    }
    return out;
  }

  /**
   * A command cut at a write. The card OS commits each write whole or not at all (its persistent
   * store: test/card-sim/persistent-store.test.ts, tearing.test.ts), so a command that writes once,
   * cut before that write, leaves the memory it found, and cut after it, the memory its normal run
   * leaves; either way it never answers and the card comes back without the owner level. Such cuts
   * are derived from the normal run; a command that writes more than once (VERIFY) is run again
   * with the cut, as is every command when the world is built with `executeTears`.
   */
  private torn(s: WorldState, c: Command, plan: TearPlan, normal: Execution): Execution {
    if (this.executeTears || normal.answer.commits !== 1) return this.execute(s, c, plan);
    const before = plan.decision === 'cut-before-write';
    return {
      answer: before ? TORN_BEFORE : TORN_AFTER,
      image: before ? s.images[c.card] : normal.image,
      owner: false,
      memoryViolations: [],
    };
  }

  /** The successor of one command under one power plan (a replayed step); undefined if the plan does not apply. */
  apply(s: WorldState, c: Command, power: number): Successor | undefined {
    const plan = POWER_PLANS[power];
    if (plan === undefined) return undefined;
    if (plan === 'none' || plan === 'reset') {
      const normal = this.execute(s, c, undefined);
      return this.finish(s, c, power, plan === 'reset' ? { ...normal, owner: false } : normal);
    }
    const run = this.execute(s, c, plan);
    return run.answer.commits > plan.commit ? this.finish(s, c, power, run) : undefined;
  }

  /**
   * Runs a command on the card. A card is deterministic (its randoms are a function of its memory),
   * so what a command does depends only on the card's memory, its owner level, the command and the
   * power plan: each such combination is run on the applet once and remembered.
   */
  private execute(s: WorldState, c: Command, tear: TearPlan | undefined): Execution {
    const image = s.images[c.card];
    const key = `${c.card}${s.owner[c.card] ? 1 : 0}${this.imageId(image)}|${commandKey(c)}|${tear ? `${tear.commit}${tear.decision}` : ''}`;
    const known = this.memo.get(key);
    if (known) return known;
    const card = this.cards[c.card];
    card.load(image, s.owner[c.card]);
    const apdu = apduOf(c, this.root);
    const answer = card.transmit(apdu, tear);
    const after = card.image;
    const run: Execution = {
      answer: sharedAnswer(answer),
      image: after === image ? image : this.intern(after),
      owner: card.holdsOwnerLevel,
      memoryViolations: memoryViolations(c.card, apdu, answer, image, after),
    };
    this.memo.set(key, run);
    return run;
  }

  /**
   * A number for each image (ids are never reused: an image forgotten and met again gets a new one,
   * and what was remembered under the old one is only never found again).
   */
  private imageId(image: string): number {
    return this.interned(image).id;
  }

  /** One string object per image: equal images then compare by reference. */
  private intern(image: string): string {
    return this.interned(image).image;
  }

  private interned(image: string): { id: number; image: string } {
    let known = this.images.get(image);
    if (known === undefined) {
      known = { id: this.nextImageId++, image };
      this.images.set(image, known);
    }
    return known;
  }

  private finish(s: WorldState, c: Command, power: number, run: Execution): Successor {
    const side = c.card;
    const violations: string[] = [];
    const pre = cardsOf(s)[side];
    const imageChanged = run.image !== s.images[side];
    const post = imageChanged ? imageInfo(run.image).card : pre;
    this.checkMove(s, c, run, pre, violations);
    const fresh = imageChanged ? [...imageInfo(run.image).implied] : [];
    const output = this.classifyOutput(s, c, run.answer, post);
    if (output) fresh.push(output);
    const known = issuedSet(s);
    const added = fresh.filter((m) => !known.has(m));
    const noPin = this.countPayment(s, c, run, pre, post, violations);
    if (!imageChanged && run.owner === s.owner[side] && added.length === 0 && noPin === s.noPin)
      return { power, state: s, answer: run.answer, selfLoop: true, violations };
    const gone = imageChanged ? evicted(side, pre, post) : [];
    const state: WorldState = {
      images: { ...s.images, [side]: run.image },
      owner: { ...s.owner, [side]: run.owner },
      issued: added.length === 0 ? s.issued : [...new Set([...s.issued, ...added])].sort(),
      archive: gone.length === 0 ? s.archive : sortArchive([...s.archive, ...gone]),
      noPin,
    };
    return { power, state, answer: run.answer, selfLoop: false, violations };
  }

  /** A refusal keeps memory; a payment without the PIN stays in the policy; no balance is probed past it. */
  private checkMove(
    s: WorldState,
    c: Command,
    run: Execution,
    pre: SettlementState,
    violations: string[],
  ): void {
    const { sw, torn } = run.answer;
    const side = c.card;
    violations.push(...run.memoryViolations);
    if (s.owner[side] || torn) return;
    // Without the owner level, a payment the policy does not allow is refused before any balance is compared.
    const amount =
      c.kind === 'initiate-debit'
        ? c.amount
        : c.kind === 'debit'
          ? pre.debitLog.find((r) => r.txRandom === c.tx.terms.txRandom && r.status === 'open')?.amount
          : undefined;
    const probe = c.kind === 'initiate-debit' || sw === SW.INSUFFICIENT_FUNDS;
    if (amount !== undefined && probe && needsPin(this.root.limits, s.noPin[side], amount)) {
      if (sw !== SW.CARDHOLDER_VERIFICATION_REQUIRED && sw !== SW.AUTH_METHOD_BLOCKED)
        violations.push(
          `${side}: ${c.kind === 'debit' ? 'DEBIT' : 'INITIATE DEBIT'} of ${amount} without the PIN, beyond the no-PIN allowance, answered ${sw?.toString(16)} (must be 9403, or 6983 with a blocked PIN, before any balance comparison)`,
        );
    }
  }

  /** The explorer's own count of what left a card without the owner level (never the card's counters). */
  private countPayment(
    s: WorldState,
    c: Command,
    run: Execution,
    pre: SettlementState,
    post: SettlementState,
    violations: string[],
  ): WorldState['noPin'] {
    const side = c.card;
    if (c.kind === 'verify' && c.right && run.answer.landed >= 2)
      return { ...s.noPin, [side]: { total: 0, count: 0 } };
    const paid = pre.balance - post.balance;
    if (paid <= 0 || s.owner[side]) return s.noPin;
    if (needsPin(this.root.limits, s.noPin[side], paid)) {
      const { perPayment, cumulative, consecutive } = this.root.limits;
      violations.push(
        `${side}: ${paid} left the card without the owner level after ${s.noPin[side].count} payments of ${s.noPin[side].total} in all since the PIN was last verified (policy: ${perPayment} a payment, ${cumulative} and ${consecutive} payments in all)`,
      );
    }
    return { ...s.noPin, [side]: countNoPinPayment(s.noPin[side], paid) };
  }

  /**
   * Which MAC a 16-byte answer is (a proof the card just gave out), among every label over the terms
   * of the records of that transaction: so a card that hands out a proof its records do not show is
   * still counted by the proof-pair invariant.
   */
  private classifyOutput(
    s: WorldState,
    c: Command,
    answer: CardAnswer,
    post: SettlementState,
  ): string | undefined {
    if (answer.sw !== SW.OK || answer.data.length !== 16 || !('tx' in c)) return undefined;
    const key = `${toHex(answer.data)}/${c.tx.terms.txRandom}`;
    const known = this.classified.get(key);
    if (known !== undefined) return known ?? undefined;
    const world = { ...s, images: { ...s.images, [c.card]: JSON.stringify(post) } };
    const records = everyRecord(world).filter((a) => a.record.txRandom === c.tx.terms.txRandom);
    const rrs = new Set<string>([ZERO_RR, ...('rr' in c ? [c.rr] : [])]);
    for (const a of records) {
      const rr = (a.record as { rxRandom?: string }).rxRandom;
      if (rr) rrs.add(rr);
    }
    const k = fromHex(this.root.transferKey);
    let found: string | null = null;
    for (const a of records) {
      const terms = termsOf(world, a);
      for (const rr of rrs)
        for (const label of ALL_LABELS)
          if (toHex(transferMac(k, label, macTerms(terms, rr))) === toHex(answer.data))
            found = macId(label, terms, rr);
    }
    this.classified.set(key, found);
    return found ?? undefined;
  }
}

/**
 * Everything a command's bytes are made of (given the root and the card, both in the memo key):
 * its kind, the whole terms of its transaction, its reception random, and its proof's label, terms
 * and reception random (the proof bytes are the MAC over them), or forged bytes.
 */
function commandKey(c: Command): string {
  if (c.kind === 'raw') return `raw|${toHex(c.apdu)}`;
  const tx = 'tx' in c ? termsHex(c.tx.terms) : '';
  const rr = 'rr' in c ? c.rr : '';
  const proof = !('proof' in c)
    ? ''
    : c.proof.kind === 'random'
      ? 'forged'
      : `${c.proof.label}${termsHex(c.proof.tx.terms)}${c.proof.rr}`;
  const rest =
    c.kind === 'initiate-debit' ? `${c.payee}${c.amount}` : c.kind === 'verify' ? String(c.right) : '';
  return `${c.kind}|${tx}|${rr}|${proof}|${rest}`;
}

/**
 * Remembered card runs and interned images, per generation (bounded-cache.ts). A run takes about
 * 300 bytes and keeps the image it leads to (6 KB) alive: a million runs are about 1 GB at most.
 */
const MEMO_LIMIT = 1_000_000;
const IMAGE_LIMIT = 30_000;

interface Execution {
  answer: CardAnswer;
  image: string;
  owner: boolean;
  /** What the run itself violates (an exception in the applet, a refusal that changed memory). */
  memoryViolations: string[];
}

function memoryViolations(
  side: Side,
  apdu: Uint8Array,
  answer: CardAnswer,
  before: string,
  after: string,
): string[] {
  const { sw, torn } = answer;
  const out: string[] = [];
  if (sw === SW.UNKNOWN) out.push(`${side}: 6F00, an exception inside the applet`);
  if (!torn && sw !== undefined && !isSuccess(sw) && after !== before) {
    try {
      checkRefusalKeptState(side, { cla: apdu[0]!, ins: apdu[1]! }, sw, before, after);
    } catch (e) {
      if (!(e instanceof InvariantViolation)) throw e;
      out.push(e.message);
    }
  }
  return out;
}

const tornAnswer = (landed: number): CardAnswer =>
  Object.freeze({
    raw: new Uint8Array(0),
    sw: undefined,
    data: new Uint8Array(0),
    torn: true,
    commits: 1,
    landed,
  });
const TORN_BEFORE = tornAnswer(0);
const TORN_AFTER = tornAnswer(1);

/** Answers without data and without a write (the refusals: most of them) are shared, one per status word. */
const bareAnswers = new Map<number, CardAnswer>();
function sharedAnswer(a: CardAnswer): CardAnswer {
  if (a.torn || a.data.length > 0 || a.commits > 0 || a.sw === undefined) return a;
  let shared = bareAnswers.get(a.sw);
  if (shared === undefined) {
    shared = Object.freeze({ ...a });
    bareAnswers.set(a.sw, shared);
  }
  return shared;
}

function sortArchive(list: ArchivedRecord[]): ArchivedRecord[] {
  return list.sort((a, b) => (archiveKey(a) < archiveKey(b) ? -1 : archiveKey(a) > archiveKey(b) ? 1 : 0));
}
