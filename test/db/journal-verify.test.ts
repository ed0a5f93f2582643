// Tampering is done the way an attacker with access to the file would: a plain SQLite connection
// that first drops the append-only triggers. Every case is checked by the full verify on this thread
// and by the parallel one (checkpoint segments in worker threads): both name the same entry.

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { Journal, type VerifyResult } from '../../db/journal.js';
import { ChainHasher, TAG_LENGTH } from '../../db/journal-chain.js';
import { encodePayload, encodeRecord, storedStep } from '../../db/journal-codec.js';
import { rawOpen, stepClock, useTempDir } from './helpers.js';

const tmp = useTempDir();

/**
 * Writes 15 entries of five flows (three each), with verified checkpoints at 5 and 10 (verify()
 * records the head), closes, and returns a function that tampers and reopens.
 */
let files = 0;

/** What an attacker with the file does first: the append-only triggers go. */
function dropJournalTriggers(raw: Database.Database): void {
  for (const t of raw
    .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    .pluck()
    .all() as string[]) {
    if (!t.startsWith('card_label')) raw.exec(`DROP TRIGGER "${t}"`);
  }
}

function journalOfFifteen(): (tamper: (raw: Database.Database) => void) => Journal {
  const path = tmp.path(`journal-${++files}.db`);
  const db = openDatabase(path);
  const journal = new Journal(db, { now: stepClock() });
  for (let i = 1; i <= 15; i++) {
    journal.append({
      flowId: `flow-${Math.ceil(i / 3)}`,
      flowKind: 'value-transfer',
      step: i % 3 === 0 ? 'completed' : `step-${i}`,
      payload: { amount: i * 100, payeeId: `0${i % 10}AB` },
    });
    if (i === 5 || i === 10) expect(journal.verify()).toMatchObject({ ok: true });
  }
  db.close();
  return (tamper) => {
    const raw = rawOpen(path);
    dropJournalTriggers(raw);
    tamper(raw);
    raw.close();
    return new Journal(tmp.track(openDatabase(path)));
  };
}

/** The full verify, and the parallel one in two worker threads: the same verdict. */
async function verdicts(journal: Journal): Promise<VerifyResult> {
  const full = journal.verify();
  expect(await journal.verifyParallel(2)).toEqual(full);
  return full;
}

const bodyOf = (raw: Database.Database, seq: number) =>
  raw.prepare('SELECT body FROM journal_entry WHERE seq = ?').pluck().get(seq) as Buffer;

/** Rewrites an entry's payload and gives it the tag that is right for its new bytes and its predecessor. */
function editAndRehash(raw: Database.Database, seq: number, prevHash: Uint8Array): Uint8Array {
  const record = encodeRecord(
    Date.parse('2025-01-01T00:00:00Z'),
    storedStep('step-x'),
    encodePayload({ amount: 1 }).bytes,
  );
  const flowNo = raw.prepare('SELECT flow_no FROM journal_entry WHERE seq = ?').pluck().get(seq) as number;
  const hash = new ChainHasher().link(prevHash, { seq, flowNo }, record);
  raw
    .prepare('UPDATE journal_entry SET body = ? WHERE seq = ?')
    .run(Buffer.concat([hash.subarray(0, TAG_LENGTH), record]), seq);
  return hash;
}

describe('Journal.verify', () => {
  it('accepts an untouched journal and an empty one', async () => {
    const reopen = journalOfFifteen();
    expect(await verdicts(reopen(() => {}))).toEqual({ ok: true, count: 15, checked: 15 });
    const empty = new Journal(tmp.track(openDatabase(tmp.path('empty.db'))));
    expect(empty.verify()).toEqual({ ok: true, count: 0, checked: 0 });
  });

  it('names an edited payload', async () => {
    const journal = journalOfFifteen()((raw) => {
      const body = bodyOf(raw, 7);
      body.writeUInt8(body.readUInt8(body.length - 1) ^ 0x01, body.length - 1);
      raw.prepare('UPDATE journal_entry SET body = ? WHERE seq = 7').run(body);
    });
    expect(await verdicts(journal)).toEqual({ ok: false, firstBadSeq: 7, reason: 'hash-mismatch' });
  });

  it('names an edited time, step or flow, and a flow ID changed in the flow table', async () => {
    const moved = journalOfFifteen()((raw) => raw.exec('UPDATE journal_entry SET flow_no = 1 WHERE seq = 8'));
    expect(await verdicts(moved)).toEqual({ ok: false, firstBadSeq: 8, reason: 'hash-mismatch' });
    const renamed = journalOfFifteen()((raw) =>
      raw.exec("UPDATE flow SET flow_id = 'flow-x' WHERE flow_no = 10"),
    );
    expect(await verdicts(renamed)).toEqual({ ok: false, firstBadSeq: 10, reason: 'hash-mismatch' });
    const rekinded = journalOfFifteen()((raw) => raw.exec('UPDATE flow SET kind = 5 WHERE flow_no = 13'));
    expect(await verdicts(rekinded)).toEqual({ ok: false, firstBadSeq: 13, reason: 'hash-mismatch' });
  });

  it('reads 16-byte and text flow IDs side by side, and names a changed byte of a 16-byte one', async () => {
    const path = tmp.path(`journal-${++files}.db`);
    const db = openDatabase(path);
    const journal = new Journal(db, { now: stepClock() });
    const ids = ['0d6c6f2e-3b6a-4f53-9a1e-6f0c2b7d8e91', 'flow-text', 'a3f1c9d2-5e7b-4c1a-8f2d-9b0e1c3d4f5a'];
    for (let i = 0; i < 9; i++) {
      journal.append({
        flowId: ids[i % 3]!,
        flowKind: 'value-transfer',
        step: `step-${i}`,
        payload: { n: i },
      });
    }
    expect(await verdicts(journal)).toEqual({ ok: true, count: 9, checked: 9 });
    db.close();
    const raw = rawOpen(path);
    dropJournalTriggers(raw);
    const third = raw.prepare('SELECT flow_id FROM flow WHERE flow_no = 3').pluck().get() as Buffer;
    expect(third.length).toBe(16);
    third[15] = third[15]! ^ 1;
    raw.prepare('UPDATE flow SET flow_id = ? WHERE flow_no = 3').run(third);
    raw.close();
    const edited = new Journal(tmp.track(openDatabase(path)));
    expect(await verdicts(edited)).toEqual({ ok: false, firstBadSeq: 3, reason: 'hash-mismatch' });
  });

  it('names the entry after one that was edited and re-hashed', async () => {
    // The attacker recomputes entry 8's tag from entry 7's chain hash, but not the entries after it.
    const journal = journalOfFifteen()((raw) => {
      editAndRehash(raw, 8, recompute(raw, 7));
    });
    expect(await verdicts(journal)).toEqual({ ok: false, firstBadSeq: 9, reason: 'hash-mismatch' });
  });

  it('names the last entry edited and re-hashed, by its head', async () => {
    const journal = journalOfFifteen()((raw) => editAndRehash(raw, 15, recompute(raw, 14)));
    expect(await verdicts(journal)).toEqual({ ok: false, firstBadSeq: 15, reason: 'head-mismatch' });
  });

  it('names a deleted middle row, even when the later rows are renumbered to close the gap', async () => {
    const deleted = journalOfFifteen()((raw) => raw.exec('DELETE FROM journal_entry WHERE seq = 2'));
    expect(await verdicts(deleted)).toEqual({ ok: false, firstBadSeq: 2, reason: 'gap' });
    const renumbered = journalOfFifteen()((raw) => {
      raw.exec('PRAGMA foreign_keys = OFF; PRAGMA ignore_check_constraints = ON');
      raw.exec(
        'DELETE FROM journal_entry WHERE seq = 2; UPDATE journal_entry SET seq = seq - 1 WHERE seq > 2',
      );
      raw.exec('UPDATE journal_head SET seq = 14');
    });
    expect(await verdicts(renumbered)).toMatchObject({ ok: false, firstBadSeq: 2 });
  });

  it('names a deleted tail, which the chain alone cannot show, also after further appends', async () => {
    const tail = journalOfFifteen()((raw) => raw.exec('DELETE FROM journal_entry WHERE seq = 15'));
    expect(await verdicts(tail)).toEqual({ ok: false, firstBadSeq: 15, reason: 'gap' });
    const more = journalOfFifteen()((raw) => raw.exec('DELETE FROM journal_entry WHERE seq >= 12'));
    // The head still says 15: the next append follows it, and the hole stays visible.
    expect(more.append({ flowId: 'flow-new', flowKind: 'admin', step: 'started', payload: {} }).seq).toBe(16);
    expect(await verdicts(more)).toEqual({ ok: false, firstBadSeq: 12, reason: 'gap' });
  });

  it('names rows added past the head, and a head moved back over a checkpoint', async () => {
    const added = journalOfFifteen()((raw) => {
      const body = bodyOf(raw, 15);
      raw.prepare('INSERT INTO journal_entry (seq, flow_no, body) VALUES (16, 13, ?)').run(body);
    });
    expect(await verdicts(added)).toEqual({ ok: false, firstBadSeq: 16, reason: 'head-mismatch' });
    const rewound = journalOfFifteen()((raw) => {
      raw.exec('DELETE FROM journal_entry WHERE seq > 8');
      const hash = raw.prepare('SELECT hash FROM journal_checkpoint WHERE seq = 5').pluck().get();
      raw.prepare('UPDATE journal_head SET seq = 5, hash = ?').run(hash);
      raw.exec('DELETE FROM journal_entry WHERE seq > 5');
    });
    expect(await verdicts(rewound)).toEqual({ ok: false, firstBadSeq: 6, reason: 'head-mismatch' });
  });

  it('names an edited checkpoint', async () => {
    const journal = journalOfFifteen()((raw) =>
      raw.exec('UPDATE journal_checkpoint SET hash = zeroblob(32) WHERE seq = 10'),
    );
    expect(await verdicts(journal)).toEqual({ ok: false, firstBadSeq: 10, reason: 'checkpoint-mismatch' });
  });

  it('names an entry whose body is too short to be one, and a first entry whose flow is gone', async () => {
    const short = journalOfFifteen()((raw) => {
      raw.exec('PRAGMA ignore_check_constraints = ON');
      raw.exec("UPDATE journal_entry SET body = x'0102' WHERE seq = 4");
    });
    expect(await verdicts(short)).toEqual({ ok: false, firstBadSeq: 4, reason: 'unreadable' });
    const orphan = journalOfFifteen()((raw) => {
      raw.exec('PRAGMA foreign_keys = OFF');
      raw.exec('DELETE FROM flow WHERE flow_no = 7');
    });
    expect(await verdicts(orphan)).toEqual({ ok: false, firstBadSeq: 7, reason: 'unreadable' });
  });

  it('a parallel verify while the terminal appends: the entries appended meanwhile are no tampering', async () => {
    const journal = journalOfFifteen()(() => {});
    const running = journal.verifyParallel(2); // planned now, at entry 15; the workers read up to it
    for (let i = 0; i < 3; i++) {
      journal.append({ flowId: 'flow-late', flowKind: 'value-transfer', step: `step-${i}`, payload: {} });
    }
    expect(await running).toEqual({ ok: true, count: 15, checked: 15 });
    expect(journal.verify()).toEqual({ ok: true, count: 18, checked: 18 });
  });

  it('a second parallel verify asked while one runs joins it: one set of workers, one verification recorded', async () => {
    const journal = journalOfFifteen()(() => {});
    const db = (journal as unknown as { db: Database.Database }).db;
    const verifications = () =>
      db.prepare('SELECT count(*) FROM journal_verification').pluck().get() as number;
    const before = verifications();
    const first = journal.verifyParallel(2);
    const second = journal.verifyParallel(2);
    expect(second).toBe(first);
    expect(await second).toEqual({ ok: true, count: 15, checked: 15 });
    expect(verifications()).toBe(before + 1);
    // Once it ended, the next request starts a verify of its own.
    const third = journal.verifyParallel(2);
    expect(third).not.toBe(first);
    await third;
  });

  it('verifyOrThrow reports tampering as E_LOG_TAMPERED', () => {
    const journal = journalOfFifteen()((raw) => raw.exec('DELETE FROM journal_entry WHERE seq = 15'));
    expect(() => journal.verifyOrThrow()).toThrow(
      expect.objectContaining({ code: 'E_LOG_TAMPERED', details: { firstBadSeq: 15, reason: 'gap' } }),
    );
  });
});

describe('Journal.verifyIncremental', () => {
  it('reads only the entries since the last verified checkpoint, and records the new head', () => {
    const journal = journalOfFifteen()(() => {});
    // The last verify (at 10) is where it starts.
    expect(journal.verifyIncremental()).toEqual({ ok: true, count: 15, checked: 5 });
    expect(journal.verifyIncremental()).toEqual({ ok: true, count: 15, checked: 0 });
    journal.append({ flowId: 'flow-9', flowKind: 'admin', step: 'started', payload: {} });
    expect(journal.verifyIncremental()).toEqual({ ok: true, count: 16, checked: 1 });
  });

  it('finds an edit after the last verified checkpoint, and leaves one before it to the full verify', () => {
    const tamper = (seq: number) => (raw: Database.Database) => {
      const body = bodyOf(raw, seq);
      body.writeUInt8(body.readUInt8(body.length - 1) ^ 0x01, body.length - 1);
      raw.prepare('UPDATE journal_entry SET body = ? WHERE seq = ?').run(body, seq);
    };
    const recent = journalOfFifteen()(tamper(12));
    expect(recent.verifyIncremental()).toEqual({ ok: false, firstBadSeq: 12, reason: 'hash-mismatch' });
    const old = journalOfFifteen()(tamper(3));
    expect(old.verifyIncremental()).toMatchObject({ ok: true, checked: 5 });
    expect(old.verify()).toEqual({ ok: false, firstBadSeq: 3, reason: 'hash-mismatch' });
  });

  it('starts from the beginning when no verify ran yet', () => {
    const db = tmp.track(openDatabase(tmp.path('fresh.db')));
    const journal = new Journal(db);
    for (let i = 0; i < 3; i++)
      journal.append({ flowId: `f-${i}`, flowKind: 'admin', step: 'started', payload: {} });
    expect(journal.verifyIncremental()).toEqual({ ok: true, count: 3, checked: 3 });
  });
});

/** Entry `seq`'s chain hash, recomputed from the file. */
function recompute(raw: Database.Database, seq: number): Uint8Array {
  const hasher = new ChainHasher();
  let prev: Uint8Array = new Uint8Array(32);
  for (let s = 1; s <= seq; s++) {
    const row = raw
      .prepare(
        'SELECT e.flow_no, e.body, f.flow_id, f.kind FROM journal_entry e LEFT JOIN flow f ON f.flow_no = e.seq WHERE e.seq = ?',
      )
      .get(s) as { flow_no: number; body: Buffer; flow_id: Buffer | string | null; kind: number | null };
    prev = hasher.link(
      prev,
      { seq: s, flowNo: row.flow_no, flowId: row.flow_id ?? undefined, kind: row.kind ?? undefined },
      row.body.subarray(TAG_LENGTH),
    );
  }
  return prev;
}
