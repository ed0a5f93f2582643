// A version-1 log (schema 1–3: hex hashes and canonical-JSON payloads per row) converted into the
// compact journal by migration 004, and the old chain recomputed from the converted entries.
//
// Conversion: each old row becomes a new entry with the same seq, time (ms), flow, step and payload
// (JSON → CBOR loses nothing: decoding gives back the JSON value, hence the same canonical JSON), on
// a new chain from zero. While reading, the old chain is verified by its own rule (as verify-log did).
// Then one anchor entry (flow LEGACY_ANCHOR_FLOW_ID, kind 'journal', step 'legacy-chain') records the
// old head's seq and hash and that verdict. From then on:
//   - the new chain protects every converted entry like any other (a later edit is named);
//   - verifyLegacyChain() recomputes the old chain from the converted entries and compares it with the
//     anchor's old head hash: the conversion kept every old entry exactly, or it says so;
//   - a log whose old chain was already broken stays reported as broken, at the entry the old rule
//     named (Journal.verify reads the anchor's verdict).
import type Database from 'better-sqlite3';
import { checkFacts, type FlowFacts } from './flow-facts.js';
import { TAG_LENGTH } from './journal-chain.js';
import { decodeRecord, encodePayload, flowIdOf, kindOf, storedFlowId } from './journal-codec.js';
import { FLOW_KINDS, type FlowKind } from './journal-vocabulary.js';
import { JournalWriter } from './journal-writer.js';
import { LEGACY_ANCHOR_FLOW_ID } from './legacy-anchor.js';
import { entryHash, GENESIS_HASH } from './legacy-hash.js';

const BATCH = 2000;

/** A row of the version-1 journal table. */
export interface LegacyRow {
  seq: number;
  at: string;
  flow_id: string;
  flow_kind: string;
  step: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

interface LegacyHead {
  seq: number;
  hash: string;
}

/**
 * Moves the version-1 tables out of the way of the new schema (their triggers and the flow-state
 * cache go; journal_head is renamed). Returns the old head, or undefined on a file without them.
 */
export function setAsideLegacyJournal(db: Database.Database): LegacyHead | undefined {
  const has = (name: string) =>
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  if (!has('journal')) return undefined;
  const head = (
    has('journal_head') ? db.prepare('SELECT seq, hash FROM journal_head WHERE id = 1').get() : undefined
  ) as LegacyHead | undefined;
  const triggers = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('journal', 'journal_head')",
    )
    .pluck()
    .all() as string[];
  for (const t of triggers) db.exec(`DROP TRIGGER "${t.replaceAll('"', '""')}"`);
  db.exec('DROP TABLE IF EXISTS flow_state');
  if (has('journal_head')) db.exec('ALTER TABLE journal_head RENAME TO legacy_journal_head');
  return head ?? { seq: 0, hash: GENESIS_HASH };
}

/** Converts every old row (in batches: better-sqlite3 allows no write while a read is iterating). */
export function convertLegacyJournal(db: Database.Database, head: LegacyHead, now: () => Date): void {
  const writer = new JournalWriter(db);
  const select = db.prepare('SELECT * FROM journal WHERE seq > ? ORDER BY seq LIMIT ?');
  const kindOfFlow = db.prepare('SELECT kind FROM flow WHERE flow_id = ?').pluck();
  let verdict:
    | { seq: number; reason: 'gap' | 'prev-mismatch' | 'hash-mismatch' | 'head-mismatch' }
    | undefined;
  let expected = 1;
  let prevHash = GENESIS_HASH;
  let after = 0;
  for (;;) {
    const rows = select.all(after, BATCH) as LegacyRow[];
    if (rows.length === 0) break;
    for (const row of rows) {
      if (!verdict) {
        if (row.seq !== expected) verdict = { seq: expected, reason: 'gap' };
        else if (row.prev_hash !== prevHash) verdict = { seq: row.seq, reason: 'prev-mismatch' };
        else if (legacyHashOf(row) !== row.hash) verdict = { seq: row.seq, reason: 'hash-mismatch' };
      }
      prevHash = row.hash;
      expected = row.seq + 1;
      const payload = parsePayload(row.payload);
      const flowId = storedFlowId(row.flow_id);
      const known = kindOfFlow.get(flowId) as number | undefined;
      const flowKind: FlowKind =
        known !== undefined
          ? kindOf(known)
          : (FLOW_KINDS as readonly string[]).includes(row.flow_kind)
            ? (row.flow_kind as FlowKind)
            : 'journal';
      const at = Date.parse(row.at);
      writer.write({
        flowId,
        flowKind,
        step: row.step,
        at: Number.isFinite(at) ? at : 0,
        payload: encodePayload(payload).bytes,
        facts: checkFacts(legacyFacts(flowKind, row.step, payload)),
      });
    }
    after = rows.at(-1)!.seq;
  }
  if (after === 0 && head.seq === 0) {
    dropLegacyTables(db); // an empty log: nothing to anchor
    return;
  }
  const lastSeq = expected - 1;
  if (!verdict && lastSeq < head.seq) verdict = { seq: lastSeq + 1, reason: 'gap' };
  if (!verdict && (lastSeq > head.seq || prevHash !== head.hash)) {
    verdict = { seq: Math.min(lastSeq, head.seq + 1), reason: 'head-mismatch' };
  }
  writer.write({
    flowId: LEGACY_ANCHOR_FLOW_ID,
    flowKind: 'journal',
    step: 'legacy-chain',
    at: now().getTime(),
    payload: encodePayload({
      rule: 'v1',
      legacyHeadSeq: head.seq,
      // Uppercase: stored as its 32 bytes (journal-codec.ts); the old chain wrote it in lowercase.
      legacyHeadHash: head.hash.toUpperCase(),
      legacyVerified: verdict === undefined,
      ...(verdict ? { firstBadSeq: verdict.seq, reason: verdict.reason } : {}),
    }).bytes,
    facts: checkFacts({}),
  });
  dropLegacyTables(db);
}

function dropLegacyTables(db: Database.Database): void {
  db.exec('DROP TABLE journal');
  db.exec('DROP TABLE IF EXISTS legacy_journal_head');
}

/** The outcome of recomputing the version-1 chain of a migrated log. */
export type LegacyChainResult =
  | { readonly migrated: false }
  | { readonly migrated: true; readonly ok: true; readonly count: number }
  | {
      readonly migrated: true;
      readonly ok: false;
      readonly reason: 'old-chain-broken' | 'conversion-differs';
      readonly firstBadSeq?: number;
    };

/**
 * Recomputes the old chain over the converted entries 1..legacyHeadSeq (their payloads decoded and
 * written as canonical JSON again) and compares the last hash with the one the anchor recorded.
 */
export function verifyLegacyChain(db: Database.Database): LegacyChainResult {
  const anchor = db
    .prepare('SELECT e.body FROM flow AS f JOIN journal_entry AS e ON e.seq = f.flow_no WHERE f.flow_id = ?')
    .get(LEGACY_ANCHOR_FLOW_ID) as { body: Uint8Array } | undefined;
  if (!anchor) return { migrated: false };
  const a = decodeRecord(anchor.body.subarray(TAG_LENGTH)).payload;
  if (a.legacyVerified !== true) {
    return { migrated: true, ok: false, reason: 'old-chain-broken', firstBadSeq: Number(a.firstBadSeq) };
  }
  const last = Number(a.legacyHeadSeq);
  const select = db.prepare(
    `SELECT e.seq, e.body, f.flow_id, f.kind FROM journal_entry AS e
     JOIN flow AS f ON f.flow_no = e.flow_no WHERE e.seq > ? AND e.seq <= ? ORDER BY e.seq LIMIT ?`,
  );
  let prev = GENESIS_HASH;
  let after = 0;
  try {
    while (after < last) {
      const rows = select.all(after, last, BATCH) as {
        seq: number;
        body: Uint8Array;
        flow_id: Uint8Array | string;
        kind: number;
      }[];
      if (rows.length === 0) break;
      for (const r of rows) {
        const { at, step, payload } = decodeRecord(r.body.subarray(TAG_LENGTH));
        prev = entryHash(prev, {
          seq: r.seq,
          at: new Date(at).toISOString(),
          flow_id: flowIdOf(r.flow_id),
          flow_kind: kindOf(r.kind),
          step,
          payload,
        });
        after = r.seq;
      }
    }
  } catch {
    return { migrated: true, ok: false, reason: 'conversion-differs', firstBadSeq: after + 1 };
  }
  if (after !== last || prev !== String(a.legacyHeadHash).toLowerCase()) {
    return { migrated: true, ok: false, reason: 'conversion-differs' };
  }
  return { migrated: true, ok: true, count: last };
}

function legacyHashOf(row: LegacyRow): string | undefined {
  try {
    const { seq, at, flow_id, flow_kind, step } = row;
    return entryHash(row.prev_hash, { seq, at, flow_id, flow_kind, step, payload: JSON.parse(row.payload) });
  } catch {
    return undefined;
  }
}

/** An old payload that no longer parses (the file was edited) is kept as its text. */
function parsePayload(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      encodePayload(v as Record<string, unknown>);
      return v as Record<string, unknown>;
    }
  } catch {
    // fall through
  }
  return { unreadableLegacyPayload: text };
}

/**
 * The facts the engines now pass, read from a flow's opening payload (a version-1 log's, or one
 * written by hand): amount and currency, the cards with their labels, the items, the operator and
 * the sale a refund pays back. What is not there or out of range is left out.
 */
export function legacyFacts(kind: FlowKind, step: string, p: Record<string, unknown>): FlowFacts {
  const hex = (v: unknown) => (typeof v === 'string' && /^(?:[0-9A-Fa-f]{2}){1,64}$/.test(v) ? v : undefined);
  const card = (id: unknown, label?: unknown) => {
    const holderId = hex(id);
    if (holderId === undefined) return [];
    return [typeof label === 'string' && label !== '' ? { holderId, label } : { holderId }];
  };
  const amount = (v: unknown) => (Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : undefined);
  const currency = (v: unknown) =>
    Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 999 ? (v as number) : undefined;
  const offer = (o: unknown) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>) : {});
  const item = (o: Record<string, unknown>) =>
    typeof o.label === 'string'
      ? [
          {
            label: o.label,
            type: typeof o.type === 'string' && /^[a-z][a-z0-9-]{0,19}$/.test(o.type) ? o.type : undefined,
          },
        ]
      : [];
  const operator =
    typeof p.operator === 'string' && /^[A-Za-z0-9][A-Za-z0-9._@-]{0,31}$/.test(p.operator)
      ? { operatorId: p.operator }
      : {};
  if (kind === 'value-transfer' && step === 'started') {
    const refundOf =
      typeof p.refundOf === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(p.refundOf)
        ? { refundOf: p.refundOf }
        : {};
    return {
      amount: amount(p.amount),
      currency: currency(p.currency),
      cards: [...card(p.payerId, p.payerLabel), ...card(p.payeeId, p.payeeLabel)],
      ...operator,
      ...refundOf,
    };
  }
  if (kind === 'content-transfer' && step === 'started') {
    const o = offer(p.offer);
    return {
      amount: amount(o.amount),
      currency: currency(o.currency),
      cards: [...card(p.senderId, p.senderLabel), ...card(p.receiverId, p.receiverLabel)],
      items: item(o),
      ...operator,
    };
  }
  if (kind === 'content-exchange' && step === 'started') {
    const give = offer(p.give);
    const take = offer(p.take);
    const money = amount(give.amount) !== undefined ? give : take;
    return {
      amount: amount(money.amount),
      currency: currency(money.currency),
      cards: [...card(p.initiatorId, p.initiatorLabel), ...card(p.responderId, p.responderLabel)],
      items: [...item(give), ...item(take)],
      ...operator,
    };
  }
  if (kind === 'admin' && step === 'issue-requested') {
    return { cards: card(p.cardHolderId, p.cardLabel), items: item(offer(p.item)), ...operator };
  }
  if (kind === 'key-update' && step === 'planned') return { cards: [...card(p.receiver), ...card(p.sender)] };
  return {};
}
