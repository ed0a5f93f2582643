// Migration 004 (the compact journal): a fresh file, a real version-1 log converted entry by entry
// (test/db/fixtures/v1-log.db, written by the terminal's engines before this format), a version-1 log
// that had been tampered with, and the new tables' append-only triggers.
import { copyFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { Flows } from '../../db/flows.js';
import { Journal } from '../../db/journal.js';
import { TAG_LENGTH } from '../../db/journal-chain.js';
import { type LegacyRow, verifyLegacyChain } from '../../db/legacy-journal.js';
import { migrate } from '../../db/migrate.js';
import { LATEST_VERSION, MIGRATIONS } from '../../db/migrations/index.js';
import { foldTransfer, valueState } from '../../electron/services/settlement/transfer-record.js';
import { rawOpen, tableNames, userVersion, useTempDir } from './helpers.js';

const tmp = useTempDir();
const FIXTURE = new URL('./fixtures/v1-log.db', import.meta.url);

type V1Row = Omit<LegacyRow, 'prev_hash' | 'hash'>;

function fixtureCopy(name = 'v1.db'): string {
  const path = tmp.path(name);
  copyFileSync(FIXTURE, path);
  return path;
}

function v1Rows(path: string): V1Row[] {
  const raw = rawOpen(path);
  try {
    return raw
      .prepare('SELECT seq, at, flow_id, flow_kind, step, payload FROM journal ORDER BY seq')
      .all() as V1Row[];
  } finally {
    raw.close();
  }
}

describe('migration 004: compact journal', () => {
  it('on a fresh file: the new tables and triggers, no version-1 table left, no anchor', () => {
    const db = tmp.track(openDatabase(tmp.path()));
    expect(userVersion(db.handle)).toBe(LATEST_VERSION);
    const tables = tableNames(db.handle, 'table');
    for (const t of [
      'journal_entry',
      'journal_head',
      'journal_checkpoint',
      'journal_verification',
      'flow',
      'flow_item',
      'card',
    ]) {
      expect(tables).toContain(t);
    }
    for (const gone of ['journal', 'flow_state', 'legacy_journal_head']) expect(tables).not.toContain(gone);
    expect(new Journal(db).verify()).toEqual({ ok: true, count: 0, checked: 0 });
    expect(verifyLegacyChain(db.handle)).toEqual({ migrated: false });
  });

  it('converts a real version-1 log entry by entry: same seq, time, flow, step and payload, and a verifiable old chain', () => {
    const path = fixtureCopy();
    const before = v1Rows(path);
    expect(before).toHaveLength(32);
    const db = tmp.track(openDatabase(path));
    expect(userVersion(db.handle)).toBe(LATEST_VERSION);
    const journal = new Journal(db);
    const after = journal.page({ limit: 100 }).records.reverse();
    expect(after).toHaveLength(33);
    for (const [i, old] of before.entries()) {
      expect(after[i]).toMatchObject({
        seq: old.seq,
        at: old.at,
        flowId: old.flow_id,
        flowKind: old.flow_kind,
        step: old.step,
        payload: JSON.parse(old.payload),
      });
    }
    expect(after[32]).toMatchObject({
      seq: 33,
      flowKind: 'journal',
      step: 'legacy-chain',
      payload: { legacyHeadSeq: 32, legacyVerified: true, rule: 'v1' },
    });
    expect(journal.verify()).toEqual({ ok: true, count: 33, checked: 33 });
    expect(journal.verifyLegacy()).toEqual({ migrated: true, ok: true, count: 32 });
    // A third of the size: the same 32 entries, binary.
    const bytes = db.handle
      .prepare('SELECT sum(length(body)) FROM journal_entry WHERE seq <= 32')
      .pluck()
      .get() as number;
    const oldBytes = before.reduce(
      (n, r) => n + r.payload.length + r.at.length + r.flow_id.length + r.step.length + 128,
      0,
    );
    expect(bytes * 3).toBeLessThan(oldBytes);
  });

  it('keeps open flows open: the sale left in doubt is still in doubt, with its facts', () => {
    const db = tmp.track(openDatabase(fixtureCopy()));
    const journal = new Journal(db);
    const flows = new Flows(db);
    const open = flows.openFlows();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      flowKind: 'value-transfer',
      lastStep: 'interrupted',
      amount: 700,
      currency: 978,
    });
    expect(open[0]!.cards).toHaveLength(2);
    const fold = foldTransfer(journal.entriesForFlow(open[0]!.flowId));
    expect(valueState(fold)).toBe('in-doubt');
    expect(fold).toMatchObject({ amount: 700, lastStep: 'interrupted' });
    expect(fold.receptionChallenge).toMatch(/^[0-9A-F]{32}$/);
    // Facts read from the old payloads: the exchange's e-money leg and its ticket, the issued ticket.
    const exchange = flows.search({ amount: 1500 }, { limit: 5 }).flows;
    expect(exchange).toEqual([
      expect.objectContaining({
        flowKind: 'content-exchange',
        items: [{ label: 'Concert 24 Dec', type: 'ticket' }],
      }),
    ]);
    // New entries continue the chain after the anchor.
    journal.append({ flowId: open[0]!.flowId, flowKind: 'value-transfer', step: 'rolled-back', payload: {} });
    expect(journal.verify()).toMatchObject({ ok: true, count: 34 });
    expect(flows.openFlows()).toEqual([]);
  });

  it('a version-1 log that was tampered with converts, and stays reported where the old chain broke', () => {
    const path = fixtureCopy();
    const raw = rawOpen(path);
    raw.exec('DROP TRIGGER journal_no_update');
    raw.exec(`UPDATE journal SET payload = '{"amount":99999,"currency":978}' WHERE seq = 14`);
    raw.close();
    const db = tmp.track(openDatabase(path));
    const journal = new Journal(db);
    expect(journal.verify()).toEqual({ ok: false, firstBadSeq: 14, reason: 'hash-mismatch' });
    expect(verifyLegacyChain(db.handle)).toEqual({
      migrated: true,
      ok: false,
      reason: 'old-chain-broken',
      firstBadSeq: 14,
    });
    expect(journal.entriesForFlow(journal.page({ limit: 1, beforeSeq: 15 }).records[0]!.flowId)).toHaveLength(
      6,
    );
  });

  it('a converted entry edited afterwards is named by the new chain and breaks the old one', () => {
    const path = fixtureCopy();
    tmp.track(openDatabase(path)).close();
    const raw = rawOpen(path);
    raw.exec('DROP TRIGGER journal_entry_no_update');
    const body = raw.prepare('SELECT body FROM journal_entry WHERE seq = 11').pluck().get() as Buffer;
    body.writeUInt8(body.readUInt8(TAG_LENGTH + 12) ^ 0x01, TAG_LENGTH + 12);
    raw.prepare('UPDATE journal_entry SET body = ? WHERE seq = 11').run(body);
    raw.close();
    const db = tmp.track(openDatabase(path));
    expect(new Journal(db).verify()).toEqual({ ok: false, firstBadSeq: 11, reason: 'hash-mismatch' });
    expect(verifyLegacyChain(db.handle)).toMatchObject({
      migrated: true,
      ok: false,
      reason: 'conversion-differs',
    });
  });

  it('a database newer than this terminal is refused and left untouched', () => {
    const path = fixtureCopy();
    const raw = rawOpen(path);
    raw.pragma(`user_version = ${LATEST_VERSION + 1}`);
    raw.close();
    expect(() => openDatabase(path)).toThrow(expect.objectContaining({ code: 'E_DB_TOO_NEW' }));
    expect(v1Rows(path)).toHaveLength(32);
  });

  it('refuses UPDATE and DELETE on the new tables, an insert that does not extend the head, a head or checkpoint that lies', () => {
    const raw = tmp.track(rawOpen(tmp.path()));
    migrate(raw, MIGRATIONS);
    const journal = new Journal({ handle: raw });
    journal.append({ flowId: 'f1', flowKind: 'admin', step: 'started', payload: {} });
    const body = raw.prepare('SELECT body FROM journal_entry').pluck().get() as Buffer;
    expect(() => raw.exec("UPDATE journal_entry SET body = x'00112233445566778899'")).toThrow(
      /append-only: UPDATE refused/,
    );
    expect(() => raw.exec('DELETE FROM journal_entry')).toThrow(/append-only: DELETE refused/);
    expect(() =>
      raw.prepare('INSERT INTO journal_entry (seq, flow_no, body) VALUES (1, 1, ?)').run(body),
    ).toThrow(/must extend the head/);
    expect(() =>
      raw.prepare('INSERT INTO journal_entry (seq, flow_no, body) VALUES (3, 1, ?)').run(body),
    ).toThrow(/must extend the head/);
    expect(() =>
      raw.prepare('INSERT OR REPLACE INTO journal_entry (seq, flow_no, body) VALUES (1, 1, ?)').run(body),
    ).toThrow(/must extend the head/);
    expect(() => raw.exec('UPDATE journal_head SET seq = 0')).toThrow(/only advances/);
    expect(() =>
      raw.prepare('INSERT INTO journal_entry (seq, flow_no, body) VALUES (2, 1, ?)').run(body),
    ).not.toThrow();
    // The head may only move to the new entry with a hash whose start is its tag.
    expect(() => raw.prepare('UPDATE journal_head SET seq = 2, hash = zeroblob(32)').run()).toThrow(
      /only advances/,
    );
    expect(() => raw.exec('DELETE FROM journal_head')).toThrow(/cannot be deleted/);
    expect(() => raw.exec('INSERT INTO journal_checkpoint (seq, hash) VALUES (1, zeroblob(32))')).toThrow(
      /copies the journal head/,
    );
    expect(() => raw.exec('DELETE FROM flow')).toThrow(/cannot be deleted/);
    expect(() => raw.exec("UPDATE flow SET flow_id = 'f2'")).toThrow(/keeps its number, ID/);
    expect(() => raw.exec('DELETE FROM card')).not.toThrow(); // no card yet: nothing to refuse
  });
});
