// Writing a version-1 log (schema 1–3) the way the terminal did before migration 004: one row per
// entry with canonical-JSON payload and hex chain hashes (db/legacy-hash.ts), through the version-1
// tables' own triggers (which keep journal_head and flow_state).
import type Database from 'better-sqlite3';
import { entryHash, GENESIS_HASH } from '../../db/legacy-hash.js';
import { canonicalJson } from '../../protocol/canonical-json.js';

export interface LegacyEntry {
  flowId: string;
  flowKind: string;
  step: string;
  payload: Record<string, unknown>;
  at: string;
}

export function appendLegacy(db: Database.Database, entries: readonly LegacyEntry[]): void {
  const head = db.prepare('SELECT seq, hash FROM journal_head WHERE id = 1');
  const insert = db.prepare(
    'INSERT INTO journal (seq, at, flow_id, flow_kind, step, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (const e of entries) {
    const h = (head.get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS_HASH };
    const seq = h.seq + 1;
    const payload = JSON.parse(canonicalJson(e.payload));
    const hash = entryHash(h.hash, {
      seq,
      at: e.at,
      flow_id: e.flowId,
      flow_kind: e.flowKind,
      step: e.step,
      payload,
    });
    insert.run(seq, e.at, e.flowId, e.flowKind, e.step, canonicalJson(payload), h.hash, hash);
  }
}
