// Tampering is done the way an attacker with access to the file would: a plain SQLite connection
// that first drops the append-only triggers.

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { Journal } from '../../db/journal.js';
import { entryHash } from '../../db/journal-hash.js';
import { rawOpen, stepClock, useTempDir } from './helpers.js';

const tmp = useTempDir();

// Writes five entries (two flows), closes, and returns a function that tampers and reopens.
function journalOfFive(): (tamper: (raw: Database.Database) => void) => Journal {
  const path = tmp.path();
  const db = openDatabase(path);
  const journal = new Journal(db, { now: stepClock() });
  for (let i = 1; i <= 5; i++) {
    journal.append({
      flowId: i % 2 === 0 ? 'flow-even' : 'flow-odd',
      flowKind: 'value-transfer',
      step: i === 5 ? 'completed' : `step-${i}`,
      payload: { amount: i * 100, payee: `card-${i}` },
    });
  }
  db.close();
  return (tamper) => {
    const raw = rawOpen(path);
    raw.exec('DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete');
    tamper(raw);
    raw.close();
    return new Journal(tmp.track(openDatabase(path)));
  };
}

interface Row {
  seq: number;
  at: string;
  flow_id: string;
  flow_kind: string;
  step: string;
  payload: string;
  prev_hash: string;
}

// Rewrites a row's payload and gives it a hash that is correct for its own content.
function editAndRehash(raw: Database.Database, seq: number): void {
  raw
    .prepare('UPDATE journal SET payload = ? WHERE seq = ?')
    .run('{"amount":1,"payee":"card-attacker"}', seq);
  const row = raw.prepare('SELECT * FROM journal WHERE seq = ?').get(seq) as Row;
  const hash = entryHash(row.prev_hash, { ...row, payload: JSON.parse(row.payload) });
  raw.prepare('UPDATE journal SET hash = ? WHERE seq = ?').run(hash, seq);
}

describe('Journal.verify', () => {
  it('accepts an untouched journal and an empty one', () => {
    const reopen = journalOfFive();
    expect(reopen(() => {}).verify()).toEqual({ ok: true, count: 5 });
    const empty = new Journal(tmp.track(openDatabase(tmp.path('empty.db'))));
    expect(empty.verify()).toEqual({ ok: true, count: 0 });
  });

  it('detects an edited payload', () => {
    const journal = journalOfFive()((raw) => {
      raw.exec(`UPDATE journal SET payload = '{"amount":99900,"payee":"card-3"}' WHERE seq = 3`);
    });
    expect(journal.verify()).toEqual({ ok: false, firstBadSeq: 3, reason: 'hash-mismatch' });
  });

  it('detects an edited row whose hash was recomputed but whose successor was not re-chained', () => {
    const journal = journalOfFive()((raw) => editAndRehash(raw, 3));
    expect(journal.verify()).toEqual({ ok: false, firstBadSeq: 4, reason: 'prev-mismatch' });
  });

  it('detects the last row edited and re-hashed, by comparing it with the head', () => {
    const journal = journalOfFive()((raw) => editAndRehash(raw, 5));
    expect(journal.verify()).toEqual({ ok: false, firstBadSeq: 5, reason: 'head-mismatch' });
  });

  it('detects a deleted middle row', () => {
    const journal = journalOfFive()((raw) => raw.exec('DELETE FROM journal WHERE seq = 2'));
    expect(journal.verify()).toEqual({ ok: false, firstBadSeq: 2, reason: 'gap' });
  });

  it('detects a deleted middle row even when the later rows are renumbered to close the gap', () => {
    const journal = journalOfFive()((raw) => {
      raw.exec('DELETE FROM journal WHERE seq = 2; UPDATE journal SET seq = seq - 1 WHERE seq > 2');
      raw.exec('DROP TRIGGER journal_head_advance_only');
      raw.exec('UPDATE journal_head SET seq = 4');
    });
    expect(journal.verify()).toMatchObject({ ok: false, firstBadSeq: 2 });
  });

  it('detects a deleted last row, which the chain alone cannot show', () => {
    const journal = journalOfFive()((raw) => raw.exec('DELETE FROM journal WHERE seq = 5'));
    expect(journal.verify()).toEqual({ ok: false, firstBadSeq: 5, reason: 'gap' });
  });

  it('keeps a deleted tail visible after further appends', () => {
    const journal = journalOfFive()((raw) => raw.exec('DELETE FROM journal WHERE seq >= 4'));
    const next = journal.append({ flowId: 'flow-new', flowKind: 'admin', step: 'started', payload: {} });
    expect(next.seq).toBe(6);
    expect(journal.verify()).toEqual({ ok: false, firstBadSeq: 4, reason: 'gap' });
  });

  it('detects rows added past the head', () => {
    const journal = journalOfFive()((raw) => {
      raw.exec('DROP TRIGGER journal_advance_head');
      const head = raw.prepare('SELECT seq, hash FROM journal_head').get() as { seq: number; hash: string };
      const fields = {
        seq: 6,
        at: '2025-02-01T00:00:00.000Z',
        flow_id: 'flow-x',
        flow_kind: 'admin',
        step: 'forged',
        payload: {},
      };
      raw
        .prepare('INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(
          6,
          fields.at,
          fields.flow_id,
          fields.flow_kind,
          fields.step,
          '{}',
          head.hash,
          entryHash(head.hash, fields),
        );
    });
    expect(journal.verify()).toEqual({ ok: false, firstBadSeq: 6, reason: 'head-mismatch' });
  });

  it('detects a payload edited into text that is not JSON', () => {
    const journal = journalOfFive()((raw) =>
      raw.exec(`UPDATE journal SET payload = 'garbage' WHERE seq = 1`),
    );
    expect(journal.verify()).toEqual({ ok: false, firstBadSeq: 1, reason: 'hash-mismatch' });
  });

  it('verifyOrThrow reports tampering as E_LOG_TAMPERED', () => {
    const journal = journalOfFive()((raw) => raw.exec('DELETE FROM journal WHERE seq = 5'));
    expect(() => journal.verifyOrThrow()).toThrow(
      expect.objectContaining({ code: 'E_LOG_TAMPERED', details: { firstBadSeq: 5, reason: 'gap' } }),
    );
  });
});
