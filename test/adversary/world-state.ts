// The state of two cards under a hostile terminal, as the explorer and the adversary campaign see it:
// both cards' persistent memory, the one piece of transient memory that changes what a card does
// (the owner level: a verified PIN), and three pieces of history the cards' memory does not keep
// but the invariants need:
//
// - issued: every value-transfer MAC a card has ever made (label and the terms it binds). The cards
//   make DP and TC when they create a record, RC, AP, ACK and RP when a record changes state, and
//   re-issue what they store; the hostile terminal is taken to know all of them (it sees every
//   answer, and a command whose answer a power cut swallowed could equally have been answered).
//   For a correct card this is a function of every record that ever existed, so it splits no state.
// - archive: records the cards evicted from a full log (their last form), so that value in flight
//   and the proofs of a transaction stay accounted for after the cards forget them.
// - noPin: what each card paid without the owner level since a PIN was last verified, counted by
//   the explorer itself (never read from the card) to check the cardholder policy (§4.6).
//
// Two states with the same hash have the same future: the cards' behaviour depends only on their
// memory and owner level, the hostile terminal's choices only on what it knows (issued, archive and
// the fixed recorded and forged pools), and the checks only on these fields.
import { createHash, hash } from 'node:crypto';
import type { CreditRecord, DebitRecord, SettlementState } from '../../card-sim/applets/settlement/state.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import type { NoPinCounters } from '../../protocol/settlement/cardholder-policy.js';
import {
  MAC_LABEL,
  type MacLabel,
  type TransferTerms,
  transferMacMessage,
  ZERO_RANDOM,
} from '../../protocol/settlement/mac-input.js';
import { BoundedCache } from './bounded-cache.js';

export type Side = 'A' | 'B';
export const SIDES: readonly Side[] = ['A', 'B'];
export const otherSide = (s: Side): Side => (s === 'A' ? 'B' : 'A');

export type Role = 'debit' | 'credit';

export interface ArchivedRecord {
  side: Side;
  role: Role;
  record: DebitRecord | CreditRecord;
}

export interface WorldState {
  images: Readonly<Record<Side, string>>;
  owner: Readonly<Record<Side, boolean>>;
  /** Every value-transfer MAC a card has issued, as its MAC message in hex (label ‖ terms), sorted. */
  issued: readonly string[];
  /** Evicted records, sorted by side, role and transmission random. */
  archive: readonly ArchivedRecord[];
  /** Paid without the owner level since the last verified PIN, per card (the explorer's own count). */
  noPin: Readonly<Record<Side, NoPinCounters>>;
}

/** A fingerprint of everything that decides the state's future (see the file comment). */
export function stateHash(s: WorldState): string {
  const h = createHash('sha256');
  h.update(s.images.A);
  h.update('\u0000');
  h.update(s.images.B);
  h.update(
    JSON.stringify([
      s.owner.A,
      s.owner.B,
      s.noPin.A,
      s.noPin.B,
      s.issued,
      s.archive.map(archiveKey),
      s.archive,
    ]),
  );
  return h.digest('base64').slice(0, 22);
}

export const archiveKey = (a: ArchivedRecord) => `${a.side}${a.role}${a.record.txRandom}`;

/** What the explorer derives from one card image, once per distinct image (images recur in many states). */
interface ImageInfo {
  card: SettlementState;
  /** The MACs its records say the card made (impliedMacs of every record). */
  implied: Set<string>;
  /** The image with its randoms and stored proofs blanked, hashed: two images differ only in names iff equal. */
  template: string;
  /** Its transmission and reception randoms, in order of appearance. */
  randoms: string[];
  /** Its part of the canonical form, for the last set of fixed randoms asked (canonicalHash). */
  canonical?: CanonicalImage;
}

interface CanonicalImage {
  fixed: ReadonlySet<string>;
  /** The template and the fixed randoms in place, the others marked, hashed. */
  shape: string;
  /** The randoms to be named, in order of appearance. */
  free: string[];
}

/** Parsed images per generation (bounded-cache.ts): about 25 KB each with what is derived. */
const IMAGE_CACHE_LIMIT = 30_000;
const imageCache = new BoundedCache<string, ImageInfo>(IMAGE_CACHE_LIMIT);

export function imageInfo(image: string): ImageInfo {
  let info = imageCache.get(image);
  if (info === undefined) {
    const card = JSON.parse(image) as SettlementState;
    const randoms: string[] = [];
    const blank = (r: DebitRecord | CreditRecord) => {
      randoms.push(r.txRandom);
      if (r.rxRandom) randoms.push(r.rxRandom);
      return {
        ...r,
        txRandom: '#',
        ...(r.rxRandom ? { rxRandom: '#' } : {}),
        ...(r.proof ? { proof: '*' } : {}),
      };
    };
    const skeleton = { ...card, debitLog: card.debitLog.map(blank), creditLog: card.creditLog.map(blank) };
    const implied = new Set<string>();
    for (const r of card.debitLog) for (const m of impliedMacs(card.holderId, 'debit', r)) implied.add(m);
    for (const r of card.creditLog) for (const m of impliedMacs(card.holderId, 'credit', r)) implied.add(m);
    const template = hash('sha256', JSON.stringify(skeleton), 'base64').slice(0, 22);
    info = { card, implied, template, randoms };
    imageCache.set(image, info);
  }
  return info;
}

/** Both cards' memory, parsed (shared between states: callers must not mutate it). */
export function cardsOf(s: WorldState): Record<Side, SettlementState> {
  return { A: imageInfo(s.images.A).card, B: imageInfo(s.images.B).card };
}

// ---- Transactions and the MACs that bind them ----

/** The terms of one value transfer as its MACs bind them, without the reception random. */
export interface TxTerms {
  transferKeyId: number;
  payerId: string;
  payeeId: string;
  currency: number;
  amount: number;
  date: number;
  txRandom: string;
}

export function debitTxTerms(payerId: string, r: DebitRecord): TxTerms {
  return { ...commonTerms(r), payerId, payeeId: r.payeeId };
}

export function creditTxTerms(payeeId: string, r: CreditRecord): TxTerms {
  return { ...commonTerms(r), payerId: r.payerId, payeeId };
}

function commonTerms(r: DebitRecord | CreditRecord) {
  return {
    transferKeyId: r.transferKeyId,
    currency: r.currency,
    amount: r.amount,
    date: r.date,
    txRandom: r.txRandom,
  };
}

export const ZERO_RR = toHex(ZERO_RANDOM);

export function macTerms(t: TxTerms, rxRandom: string): TransferTerms {
  return {
    transferKeyId: t.transferKeyId,
    payerId: fromHex(t.payerId),
    payeeId: fromHex(t.payeeId),
    currency: t.currency,
    amount: t.amount,
    date: t.date,
    txRandom: fromHex(t.txRandom),
    rxRandom: fromHex(rxRandom),
  };
}

const hexN = (n: number, bytes: number) =>
  n
    .toString(16)
    .toUpperCase()
    .padStart(bytes * 2, '0');
const LABEL_HEX = new Map<string, string>();

/** The terms of a MAC message between its label and its reception random, in hex. */
export function termsHex(t: TxTerms): string {
  let hex = termsHexCache.get(t);
  if (hex === undefined) {
    hex = `${hexN(t.transferKeyId, 4)}${t.payerId}${t.payeeId}${hexN(t.currency, 2)}${hexN(t.amount, 4)}${hexN(t.date, 4)}${t.txRandom}`;
    termsHexCache.set(t, hex);
  }
  return hex;
}
const termsHexCache = new WeakMap<TxTerms, string>();

export function labelHex(label: MacLabel): string {
  let hex = LABEL_HEX.get(label);
  if (hex === undefined) {
    hex = toHex(new TextEncoder().encode(label));
    LABEL_HEX.set(label, hex);
  }
  return hex;
}

/**
 * Names one MAC: its label and the terms it binds, as the hex of its MAC message
 * (= toHex(transferMacMessage(label, terms)), built as text because the explorer names thousands).
 */
export function macId(label: MacLabel, t: TxTerms, rxRandom: string): string {
  const id = labelHex(label) + termsHex(t) + rxRandom;
  // One string object per name: the sets of names are compared by the thousand (canonicalHash).
  const known = macIds.get(id);
  if (known !== undefined) return known;
  macIds.set(id, id);
  return id;
}
const macIds = new BoundedCache<string, string>(500_000);

/** The same name, from the message itself (the check that both agree is in explorer.test.ts). */
export function macIdOfMessage(label: MacLabel, t: TxTerms, rxRandom: string): string {
  return toHex(transferMacMessage(label, macTerms(t, rxRandom)));
}

/** The MACs a record's existence and state say its card made (DP/TC at creation, then its proofs). */
export function impliedMacs(holderId: string, role: Role, r: DebitRecord | CreditRecord): string[] {
  if (role === 'debit') {
    const d = r as DebitRecord;
    const t = debitTxTerms(holderId, d);
    const out = [macId(MAC_LABEL.DEBIT_PROOF, t, ZERO_RR)];
    if (d.rxRandom && (d.status === 'debited' || d.status === 'acknowledged' || d.status === 'refunded'))
      out.push(macId(MAC_LABEL.RECEPTION_CHALLENGE, t, d.rxRandom));
    if (d.status === 'aborted') out.push(macId(MAC_LABEL.ABORT_PROOF, t, ZERO_RR));
    if (d.status === 'refunded' && d.rxRandom) out.push(macId(MAC_LABEL.RELEASE_PROOF, t, d.rxRandom));
    return out;
  }
  const c = r as CreditRecord;
  const t = creditTxTerms(holderId, c);
  const out = [macId(MAC_LABEL.TRANSMISSION_CHALLENGE, t, c.rxRandom)];
  if (c.status === 'credited') out.push(macId(MAC_LABEL.CREDIT_ACKNOWLEDGEMENT, t, c.rxRandom));
  if (c.status === 'released') out.push(macId(MAC_LABEL.RELEASE_PROOF, t, c.rxRandom));
  return out;
}

/** Every record a state's cards hold, with its card and role. */
export function recordsOf(s: WorldState): ArchivedRecord[] {
  const cards = cardsOf(s);
  return SIDES.flatMap((side) => [
    ...cards[side].debitLog.map((record) => ({ side, role: 'debit' as const, record })),
    ...cards[side].creditLog.map((record) => ({ side, role: 'credit' as const, record })),
  ]);
}

/** Records now on the cards and those they evicted: every record that ever existed. */
export function everyRecord(s: WorldState): ArchivedRecord[] {
  return [...recordsOf(s), ...s.archive];
}

export function holderOf(s: WorldState, side: Side): string {
  return cardsOf(s)[side].holderId;
}

/** The terms of a record (whichever card holds it). */
export function termsOf(s: WorldState, a: ArchivedRecord): TxTerms {
  const holder = holderOf(s, a.side);
  return a.role === 'debit'
    ? debitTxTerms(holder, a.record as DebitRecord)
    : creditTxTerms(holder, a.record as CreditRecord);
}

/**
 * Value provably in flight: debited on the payer (its record `debited`) and not credited on the
 * payee (no record of the same transmission and reception random `credited`, on the card or
 * evicted). A released credit leaves the value in flight: its release proof brings it back.
 */
export function valueInFlight(s: WorldState): number {
  const all = everyRecord(s);
  const credited = new Set(
    all
      .filter((a) => a.role === 'credit' && a.record.status === 'credited')
      .map((a) => `${a.record.txRandom}/${(a.record as CreditRecord).rxRandom}`),
  );
  let sum = 0;
  for (const a of all) {
    if (a.role !== 'debit' || a.record.status !== 'debited') continue;
    const d = a.record as DebitRecord;
    if (!credited.has(`${d.txRandom}/${d.rxRandom}`)) sum += d.amount;
  }
  return sum;
}

/** Both balances plus the value in flight: what conservation keeps equal to the start. */
export function totalValue(s: WorldState): number {
  const cards = cardsOf(s);
  return cards.A.balance + cards.B.balance + valueInFlight(s);
}

/** The records a state change evicted (in the card's log before, gone after). */
export function evicted(side: Side, before: SettlementState, after: SettlementState): ArchivedRecord[] {
  const gone = <R extends { txRandom: string }>(role: Role, a: R[], b: R[]) => {
    const kept = new Set(b.map((r) => r.txRandom));
    return a.filter((r) => !kept.has(r.txRandom)).map((record) => ({ side, role, record }));
  };
  return [
    ...gone('debit', before.debitLog, after.debitLog),
    ...gone('credit', before.creditLog, after.creditLog),
  ] as ArchivedRecord[];
}

/** The state a root's images start: no owner level, its records' MACs issued, nothing evicted. */
export function initialState(images: Record<Side, string>): WorldState {
  const s: WorldState = {
    images,
    owner: { A: false, B: false },
    issued: [],
    archive: [],
    noPin: { A: { total: 0, count: 0 }, B: { total: 0, count: 0 } },
  };
  const issued = new Set<string>();
  for (const a of recordsOf(s))
    for (const m of impliedMacs(holderOf(s, a.side), a.role, a.record)) issued.add(m);
  const cards = cardsOf(s);
  const counters = (side: Side) => {
    const p = cards[side].cardholderPolicy;
    return { total: p?.noPinTotal ?? 0, count: p?.noPinCount ?? 0 };
  };
  return { ...s, issued: [...issued].sort(), noPin: { A: counters('A'), B: counters('B') } };
}

/**
 * The same partition of states as canonicalHash, worked out from scratch in its first, plain form
 * (the explorer's `plain` mode): the test that the two explorers reach the very same states is the
 * test of canonicalHash's shortcuts.
 */
export function canonicalHashReference(s: WorldState, fixed: ReadonlySet<string>): string {
  const names = new Map<string, string>();
  const name = (r: string) => {
    if (fixed.has(r)) return r;
    let n = names.get(r);
    if (n === undefined) {
      n = `#${names.size}`;
      names.set(r, n);
    }
    return n;
  };
  const a = imageInfo(s.images.A);
  const b = imageInfo(s.images.B);
  const archive = s.archive
    .map((x) => {
      const r = x.record;
      const blank = {
        ...r,
        txRandom: '#',
        ...(r.rxRandom ? { rxRandom: '#' } : {}),
        ...(r.proof ? { proof: '*' } : {}),
      };
      return {
        key: JSON.stringify([x.side, x.role, blank]),
        randoms: r.rxRandom ? [r.txRandom, r.rxRandom] : [r.txRandom],
        implied: impliedMacs(holderOf(s, x.side), x.role, r),
      };
    })
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const archived = new Set(archive.flatMap((x) => x.implied));
  const extra = s.issued.filter((id) => !a.implied.has(id) && !b.implied.has(id) && !archived.has(id));
  const key = [
    a.template,
    b.template,
    a.randoms.map(name),
    b.randoms.map(name),
    archive.map((x) => [x.key, x.randoms.map(name)]),
    extra.map((id) => `${id.slice(0, 108)}/${name(id.slice(108, 140))}/${name(id.slice(140, 172))}`).sort(),
    s.owner,
    s.noPin,
  ];
  return createHash('sha256').update(JSON.stringify(key)).digest('base64').slice(0, 22);
}

/**
 * The state up to the names of its randoms: every transmission and reception random made during the
 * sequence is replaced by its order of first appearance, and each stored proof by a mark (a record's
 * proof is the MAC its state names over its terms, which invariants.ts checks in every state).
 * Issued MACs that the records already imply are left out (they are a function of the records);
 * only those the records do not show (a card that handed out a proof and forgot it) are kept.
 *
 * Sound for deduplication: a card treats randoms as opaque (it compares them and MACs them), draws
 * each fresh, and the hostile terminal's choices are the same up to the same renaming, so two states
 * with one canonical form have the same futures up to renaming, and every check gives the same
 * verdict on both. Randoms of the root's traffic (the recorded pool) and the forged constants keep
 * their values: the terminal knows them from outside the sequence.
 */
export function canonicalHash(s: WorldState, fixed: ReadonlySet<string>): string {
  const names = new Map<string, string>();
  const name = (r: string) => {
    if (fixed.has(r)) return r;
    let n = names.get(r);
    if (n === undefined) {
      n = `#${names.size}`;
      names.set(r, n);
    }
    return n;
  };
  const a = canonicalImage(imageInfo(s.images.A), fixed);
  const b = canonicalImage(imageInfo(s.images.B), fixed);
  const archive = archiveInfo(s);
  const implied = [imageInfo(s.images.A).implied, imageInfo(s.images.B).implied, archive.implied];
  const extra = s.issued.filter((id) => !implied[0]!.has(id) && !implied[1]!.has(id) && !implied[2]!.has(id));
  // Each image's shape says which of its randoms are fixed (and which) and where the others stand:
  // with the names of the others, in order, it gives the image up to the names of its randoms.
  const key = [
    a.shape,
    b.shape,
    a.free.map(name).join(),
    b.free.map(name).join(),
    JSON.stringify(archive.sorted.map((x) => [x.key, x.randoms.map(name)])),
    extra
      .map((id) => `${id.slice(0, 108)}/${name(id.slice(108, 140))}/${name(id.slice(140, 172))}`)
      .sort()
      .join(),
    `${s.owner.A ? 1 : 0}${s.owner.B ? 1 : 0}`,
    `${s.noPin.A.total},${s.noPin.A.count},${s.noPin.B.total},${s.noPin.B.count}`,
  ].join('|');
  return hash('sha256', key, 'base64').slice(0, 22);
}

function canonicalImage(info: ImageInfo, fixed: ReadonlySet<string>): CanonicalImage {
  if (info.canonical?.fixed === fixed) return info.canonical;
  const shape = JSON.stringify([info.template, info.randoms.map((r) => (fixed.has(r) ? r : '?'))]);
  const canonical = {
    fixed,
    shape: hash('sha256', shape, 'base64').slice(0, 22),
    free: info.randoms.filter((r) => !fixed.has(r)),
  };
  info.canonical = canonical;
  return canonical;
}

/** One evicted record as the canonical form takes it: blanked, its randoms, the MACs it implies. */
interface ArchivedInfo {
  key: string;
  randoms: string[];
  implied: string[];
}

/** The evicted records of a state, blanked and sorted, and every MAC they imply. */
interface ArchiveInfo {
  sorted: ArchivedInfo[];
  implied: Set<string>;
}

// A state's archive is shared with the states it leads to until a record is evicted, and each
// evicted record keeps its object: both are worked out once (the holder IDs never change in a run).
const archiveCache = new WeakMap<readonly ArchivedRecord[], ArchiveInfo>();
const archivedCache = new WeakMap<ArchivedRecord, ArchivedInfo>();

function archiveInfo(s: WorldState): ArchiveInfo {
  let info = archiveCache.get(s.archive);
  if (info === undefined) {
    const sorted = s.archive
      .map((x) => archivedInfo(s, x))
      .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    info = { sorted, implied: new Set(sorted.flatMap((x) => x.implied)) };
    archiveCache.set(s.archive, info);
  }
  return info;
}

function archivedInfo(s: WorldState, x: ArchivedRecord): ArchivedInfo {
  let info = archivedCache.get(x);
  if (info === undefined) {
    const r = x.record;
    const blank = {
      ...r,
      txRandom: '#',
      ...(r.rxRandom ? { rxRandom: '#' } : {}),
      ...(r.proof ? { proof: '*' } : {}),
    };
    info = {
      key: JSON.stringify([x.side, x.role, blank]),
      randoms: r.rxRandom ? [r.txRandom, r.rxRandom] : [r.txRandom],
      implied: impliedMacs(holderOf(s, x.side), x.role, r),
    };
    archivedCache.set(x, info);
  }
  return info;
}
