// Finding flows through indexes, newest first (by flow number = the seq of the flow's first entry).
// Every search is a few index range scans with a limit, whatever the size of the log:
//   flow ID      exact, or its first 4+ characters (a UUID's dashes may be left out): flow.flow_id
//   holder ID    the first 4+ hex digits of a card's holder ID: card.holder_id, then each card's
//                flows through flow_card_1 / flow_card_2
//   label        words of a card's label (its certificate's CN), each the beginning of a word, any
//                case and accents: the card_label full-text index (FTS5), then the cards' flows
//   item label   words of an item's label (content flows, issuing), as a card label's: the item_label
//                full-text index (FTS5), newest first by its rowid (flow_no * 16 + position)
//   amount       minor units, exact: flow_amount
//   kind         a flow kind's name, exact: flow_kind
//   refund of    a flow ID (exact or its first 4+ characters) also finds the refunds that name it:
//                flow_refund_of; the word "refund" (or "refunds") finds every refund: flow_refunds
// A text typed in the log's search box is tried as each of these that it can be, and the results
// merged; text the screen read as an amount in the shop's locale ({ typed, amount }) is that amount
// or the beginning of a flow ID only (typed digits must not find card IDs or names). A search that names more than MAX_CARDS cards, or a prefix more than MAX_PREFIX flows,
// is refused: it would not be a search any more.
import type Database from 'better-sqlite3';
import { TerminalError } from '../protocol/errors.js';
import { storedFlowId, storedKind } from './journal-codec.js';
import { FLOW_KINDS, type FlowKind } from './journal-vocabulary.js';

export type FlowCriteria =
  | { readonly text: string }
  /** What the operator typed, read by the screen as an amount in minor units. */
  | { readonly typed: string; readonly amount: number }
  | { readonly flowId: string }
  | { readonly holderId: string }
  | { readonly label: string }
  | { readonly amount: number }
  | { readonly kind: FlowKind };

export interface FlowCursor {
  /** Only flows whose number is below this. */
  readonly beforeFlowNo?: number;
  readonly limit: number;
}

export interface FoundFlows {
  /** Newest first, at most `limit`. */
  readonly flowNos: number[];
  /** The cursor of the next (older) page; undefined when nothing older matches. */
  readonly nextBeforeFlowNo: number | undefined;
}

const MAX_CARDS = 50;
const MAX_PREFIX = 1000;
const MIN_PREFIX = 4;
const ID_CHARS = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Exported so test/db can EXPLAIN the exact statements. */
export const SEARCH_SQL = {
  flowIdRange: `SELECT flow_no FROM flow WHERE flow_id >= ? AND flow_id < ? LIMIT ${MAX_PREFIX + 1}`,
  flowIdExact: 'SELECT flow_no FROM flow WHERE flow_id = ?',
  holderRange: `SELECT card_no FROM card WHERE holder_id >= ? AND holder_id < ? LIMIT ${MAX_CARDS + 1}`,
  labelWords: `SELECT rowid AS card_no FROM card_label WHERE card_label MATCH ? LIMIT ${MAX_CARDS + 1}`,
  byCard1: 'SELECT flow_no FROM flow WHERE card_1 = ? AND flow_no < ? ORDER BY flow_no DESC LIMIT ?',
  byCard2: 'SELECT flow_no FROM flow WHERE card_2 = ? AND flow_no < ? ORDER BY flow_no DESC LIMIT ?',
  byAmount: 'SELECT flow_no FROM flow WHERE amount = ? AND flow_no < ? ORDER BY flow_no DESC LIMIT ?',
  byKind: 'SELECT flow_no FROM flow WHERE kind = ? AND flow_no < ? ORDER BY flow_no DESC LIMIT ?',
  refundOfRange: `SELECT flow_no FROM flow WHERE refund_of >= ? AND refund_of < ? LIMIT ${MAX_PREFIX + 1}`,
  refundOfExact: 'SELECT flow_no FROM flow WHERE refund_of = ?',
  itemWords: `SELECT rowid FROM item_label WHERE item_label MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?`,
  refunds: `SELECT flow_no FROM flow INDEXED BY flow_refunds
            WHERE refund_of IS NOT NULL AND flow_no < ? ORDER BY flow_no DESC LIMIT ?`,
} as const;

type Sql = (text: string) => Database.Statement;

export function searchFlows(sql: Sql, criteria: FlowCriteria, cursor: FlowCursor): FoundFlows {
  const before = cursor.beforeFlowNo ?? Number.MAX_SAFE_INTEGER;
  const want = cursor.limit + 1;
  const found = new Set<number>();
  const add = (nos: Iterable<number>) => {
    for (const n of nos) if (n < before) found.add(n);
  };
  if ('text' in criteria) {
    const t = criteria.text.trim();
    if (t.length >= MIN_PREFIX && !/\s/.test(t)) add(byFlowId(sql, t, false, true));
    if (/^[0-9A-Fa-f]+$/.test(t) && t.length >= MIN_PREFIX)
      add(byCards(sql, cardsByHolder(sql, t, false), before, want));
    if (/[\p{L}\p{N}]/u.test(t)) {
      add(byCards(sql, cardsByLabel(sql, t, false), before, want));
      add(byItemWords(sql, t, before, want));
    }
    if (/^\d{1,15}$/.test(t) && Number(t) > 0) add(byAmount(sql, Number(t), before, want));
    const kind = FLOW_KINDS.find((k) => k === t.toLowerCase());
    if (kind) add(byKind(sql, kind, before, want));
    if (/^refunds?$/i.test(t)) add(sql(SEARCH_SQL.refunds).pluck().all(before, want) as number[]);
  } else if ('typed' in criteria) {
    if (!Number.isSafeInteger(criteria.amount) || criteria.amount <= 0)
      refuse('amount is a positive integer (minor units)');
    add(byAmount(sql, criteria.amount, before, want));
    const t = requireText(criteria.typed, 'typed');
    if (t.length >= MIN_PREFIX && !/\s/.test(t)) add(byFlowId(sql, t, false, true));
  } else if ('flowId' in criteria) {
    add(byFlowId(sql, requireText(criteria.flowId, 'flowId'), true, false));
  } else if ('holderId' in criteria) {
    add(byCards(sql, cardsByHolder(sql, requireText(criteria.holderId, 'holderId'), true), before, want));
  } else if ('label' in criteria) {
    add(byCards(sql, cardsByLabel(sql, requireText(criteria.label, 'label'), true), before, want));
  } else if ('amount' in criteria) {
    if (!Number.isSafeInteger(criteria.amount) || criteria.amount <= 0)
      refuse('amount is a positive integer (minor units)');
    add(byAmount(sql, criteria.amount, before, want));
  } else if ('kind' in criteria) {
    if (!(FLOW_KINDS as readonly unknown[]).includes(criteria.kind)) refuse('kind is a flow kind');
    add(byKind(sql, criteria.kind, before, want));
  } else {
    refuse('search by text, flowId, holderId, label, amount or kind');
  }
  const sorted = [...found].sort((a, b) => b - a);
  const flowNos = sorted.slice(0, cursor.limit);
  return { flowNos, nextBeforeFlowNo: sorted.length > cursor.limit ? flowNos.at(-1) : undefined };
}

/** Flows whose ID is `id` or begins with it; with `refunds`, also the refunds that name such a flow. */
function byFlowId(sql: Sql, id: string, strict: boolean, refunds: boolean): number[] {
  const found = idMatches(sql, id, strict, SEARCH_SQL.flowIdExact, SEARCH_SQL.flowIdRange);
  if (!refunds) return found;
  return [...found, ...idMatches(sql, id, false, SEARCH_SQL.refundOfExact, SEARCH_SQL.refundOfRange)];
}

/** Rows whose flow-ID column (flow_id, or refund_of) is `id` or begins with it. */
function idMatches(sql: Sql, id: string, strict: boolean, exactSql: string, rangeSql: string): number[] {
  const exact = ID_CHARS.test(id) ? (sql(exactSql).pluck().all(storedFlowId(id)) as number[]) : [];
  const hex = id.replaceAll('-', '').toLowerCase();
  if (/^[0-9a-f]+$/.test(hex) && hex.length >= MIN_PREFIX && hex.length <= 32) {
    const [lo, hi] = hexRange(hex);
    const rows = sql(rangeSql)
      .pluck()
      .all(lo, hi ?? Buffer.alloc(17, 0xff)) as number[];
    if (rows.length > MAX_PREFIX)
      refuse(`more than ${MAX_PREFIX} flow IDs begin with ${id}: type more of it`);
    exact.push(...rows);
  } else if (strict && id.length < MIN_PREFIX && exact.length === 0) {
    refuse(`a flow ID search needs at least ${MIN_PREFIX} characters`);
  }
  // Text IDs (not UUIDs) by their beginning too.
  if (id.length >= MIN_PREFIX && ID_CHARS.test(id)) {
    const rows = sql(rangeSql).pluck().all(id, `${id}\u{10ffff}`) as number[];
    if (rows.length > MAX_PREFIX)
      refuse(`more than ${MAX_PREFIX} flow IDs begin with ${id}: type more of it`);
    exact.push(...rows);
  }
  return exact;
}

function cardsByHolder(sql: Sql, prefix: string, strict: boolean): number[] {
  if (!/^[0-9A-Fa-f]+$/.test(prefix) || prefix.length < MIN_PREFIX || prefix.length > 128) {
    if (strict) refuse(`a holder ID search is at least ${MIN_PREFIX} hex digits`);
    return [];
  }
  const [lo, hi] = hexRange(prefix.toLowerCase());
  const cards = sql(SEARCH_SQL.holderRange)
    .pluck()
    .all(lo, hi ?? Buffer.alloc(65, 0xff)) as number[];
  return limitCards(cards, strict, `holder IDs begin with ${prefix}`);
}

/** An FTS5 query: every word of the text, each as the beginning of a word; undefined for none. */
function wordsQuery(text: string): string | undefined {
  const words = text.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
  return words.length === 0 ? undefined : words.map((w) => `"${w.replaceAll('"', '""')}"*`).join(' ');
}

function cardsByLabel(sql: Sql, text: string, strict: boolean): number[] {
  const match = wordsQuery(text);
  if (match === undefined) {
    if (strict) refuse('a label search needs a letter or digit');
    return [];
  }
  const cards = sql(SEARCH_SQL.labelWords).pluck().all(match) as number[];
  return limitCards(cards, strict, `card labels match "${text}"`);
}

function limitCards(cards: number[], strict: boolean, what: string): number[] {
  if (cards.length <= MAX_CARDS) return cards;
  if (strict) refuse(`more than ${MAX_CARDS} ${what}: type more of it`);
  return []; // a free-text search that names too many cards is no card search
}

function byCards(sql: Sql, cards: number[], before: number, want: number): number[] {
  const out: number[] = [];
  for (const card of cards) {
    out.push(...(sql(SEARCH_SQL.byCard1).pluck().all(card, before, want) as number[]));
    out.push(...(sql(SEARCH_SQL.byCard2).pluck().all(card, before, want) as number[]));
  }
  return out;
}

/** Flows with an item whose label has these words, newest first (a flow holds at most 16 items). */
function byItemWords(sql: Sql, text: string, before: number, want: number): number[] {
  const match = wordsQuery(text);
  if (match === undefined) return [];
  const rowids = sql(SEARCH_SQL.itemWords)
    .pluck()
    .all(match, before > 2 ** 48 ? Number.MAX_SAFE_INTEGER : before * 16, want * 16) as number[];
  return rowids.map((r) => Math.floor(r / 16));
}

function byAmount(sql: Sql, amount: number, before: number, want: number): number[] {
  return sql(SEARCH_SQL.byAmount).pluck().all(amount, before, want) as number[];
}

function byKind(sql: Sql, kind: FlowKind, before: number, want: number): number[] {
  return sql(SEARCH_SQL.byKind).pluck().all(storedKind(kind), before, want) as number[];
}

/**
 * The byte range [lo, hi) of the values that begin with these hex digits (an odd count covers both
 * values of the last half byte); hi is undefined when the digits are all f (no upper bound).
 */
function hexRange(hex: string): [Buffer, Buffer | undefined] {
  const lo = Buffer.from(hex.length % 2 === 0 ? hex : `${hex}0`, 'hex');
  const digits = hex.split('').map((d) => Number.parseInt(d, 16));
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === 15) i--;
  if (i < 0) return [lo, undefined];
  const up = [...digits.slice(0, i), digits[i]! + 1].map((d) => d.toString(16)).join('');
  return [lo, Buffer.from(up.length % 2 === 0 ? up : `${up}0`, 'hex')];
}

function requireText(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > 200) refuse(`${what} is 1–200 characters`);
  return v.trim();
}

function refuse(message: string): never {
  throw new TerminalError('E_INPUT_INVALID', `search: ${message}`);
}
