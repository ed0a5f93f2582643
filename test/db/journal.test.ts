import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { openDatabase, type TerminalDatabase } from '../../db/connection.js';
import { Journal, type JournalEntry } from '../../db/journal.js';
import { GENESIS_HASH } from '../../db/journal-hash.js';
import { stepClock, useTempDir } from './helpers.js';

const tmp = useTempDir();

function setup(): { db: TerminalDatabase; journal: Journal } {
  const db = tmp.track(openDatabase(tmp.path()));
  return { db, journal: new Journal(db, { now: stepClock() }) };
}

const debit: JournalEntry = {
  flowId: 'flow-A',
  flowKind: 'value-transfer',
  step: 'debit-sent',
  payload: { amount: 1200, currency: 'JPY', payer: '04A1B2' },
};

describe('Journal.append', () => {
  it('chains each entry to the previous one from the all-zero genesis', () => {
    const { journal } = setup();
    const first = journal.append(debit);
    const second = journal.append({ ...debit, step: 'credit-sent', payload: { amount: 1200 } });

    expect(first).toMatchObject({ seq: 1, at: '2025-01-01T00:00:00.000Z', prevHash: GENESIS_HASH });
    expect(second).toMatchObject({ seq: 2, at: '2025-01-01T00:00:01.000Z', prevHash: first.hash });
    // Independent recomputation of the documented formula: sha256(prev_hash hex text ‖ canonical JSON).
    const body =
      '{"at":"2025-01-01T00:00:00.000Z","flow_id":"flow-A","flow_kind":"value-transfer",' +
      '"payload":{"amount":1200,"currency":"JPY","payer":"04A1B2"},"seq":1,"step":"debit-sent"}';
    expect(first.hash).toBe(bytesToHex(sha256(utf8ToBytes(GENESIS_HASH + body))));
  });

  it('stores the payload as canonical JSON and the time as ISO-8601 UTC', () => {
    const { db, journal } = setup();
    journal.append({ ...debit, payload: { z: 1, a: { y: 2, b: [3] } } });
    const row = db.handle.prepare('SELECT at, payload FROM journal').get();
    expect(row).toEqual({ at: '2025-01-01T00:00:00.000Z', payload: '{"a":{"b":[3],"y":2},"z":1}' });
  });

  it('keeps the head row in step with the last entry', () => {
    const { db, journal } = setup();
    journal.append(debit);
    const last = journal.append({ ...debit, step: 'completed' });
    expect(db.handle.prepare('SELECT seq, hash FROM journal_head').get()).toEqual({
      seq: 2,
      hash: last.hash,
    });
  });

  it('refuses invalid entries with E_INPUT_INVALID and appends nothing', () => {
    const { db, journal } = setup();
    const bad: unknown[] = [
      { ...debit, flowKind: 'teleport' },
      { ...debit, flowId: '' },
      { ...debit, flowId: 'has space' },
      { ...debit, step: '' },
      { ...debit, step: 'Completed!' },
      { ...debit, payload: null },
      { ...debit, payload: [] },
      { ...debit, payload: { amount: 10n } },
      { ...debit, payload: { key: new Uint8Array(16) } },
      { ...debit, payload: { blob: 'x'.repeat(70_000) } },
    ];
    for (const entry of bad) {
      expect(() => journal.append(entry as JournalEntry)).toThrow(
        expect.objectContaining({ code: 'E_INPUT_INVALID' }),
      );
    }
    expect(db.handle.prepare('SELECT count(*) FROM journal').pluck().get()).toBe(0);
  });

  it('refuses to change the kind of an existing flow', () => {
    const { journal } = setup();
    journal.append(debit);
    expect(() => journal.append({ ...debit, flowKind: 'refund' as never })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_INVALID' }),
    );
    expect(() => journal.append({ ...debit, flowKind: 'admin' })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_INVALID' }),
    );
  });

  it('refuses to run inside a caller transaction, where it could not commit before returning', () => {
    const { db, journal } = setup();
    const nested = db.handle.transaction(() => journal.append(debit));
    expect(() => nested()).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
    expect(journal.verify()).toEqual({ ok: true, count: 0 });
  });
});

describe('Journal reads', () => {
  it('returns the entries of one flow in order', () => {
    const { journal } = setup();
    journal.append(debit);
    journal.append({ flowId: 'flow-B', flowKind: 'admin', step: 'started', payload: {} });
    journal.append({ ...debit, step: 'completed', payload: {} });
    expect(journal.entriesForFlow('flow-A').map((r) => [r.seq, r.step])).toEqual([
      [1, 'debit-sent'],
      [3, 'completed'],
    ]);
    expect(journal.entriesForFlow('nope')).toEqual([]);
  });

  it('pages newest first and searches flow ids, steps and payloads', () => {
    const { journal } = setup();
    for (let i = 1; i <= 5; i++) {
      journal.append({
        flowId: `flow-${i}`,
        flowKind: 'admin',
        step: 'started',
        payload: { note: `n${i}%` },
      });
    }
    const one = journal.page({ limit: 2 });
    expect(one.records.map((r) => r.seq)).toEqual([5, 4]);
    expect(one.nextBeforeSeq).toBe(4);
    const two = journal.page({ limit: 2, beforeSeq: 4 });
    expect(two.records.map((r) => r.seq)).toEqual([3, 2]);
    const three = journal.page({ limit: 2, beforeSeq: 2 });
    expect(three.records.map((r) => r.seq)).toEqual([1]);
    expect(three.nextBeforeSeq).toBeUndefined();

    expect(journal.page({ limit: 10, search: 'FLOW-3' }).records.map((r) => r.seq)).toEqual([3]);
    expect(journal.page({ limit: 10, search: 'n4%' }).records.map((r) => r.seq)).toEqual([4]);
    // % and _ are literal, not wildcards
    expect(journal.page({ limit: 10, search: 'n_' }).records).toEqual([]);
    expect(journal.page({ limit: 10, search: 'started', beforeSeq: 3 }).records.map((r) => r.seq)).toEqual([
      2, 1,
    ]);
  });

  it('refuses unreasonable page requests', () => {
    const { journal } = setup();
    for (const q of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { limit: 5, beforeSeq: 0 }]) {
      expect(() => journal.page(q)).toThrow(expect.objectContaining({ code: 'E_INPUT_INVALID' }));
    }
  });
});
