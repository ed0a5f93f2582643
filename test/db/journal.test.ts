import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js';
import { encode, Tagged } from 'cborg';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDatabase, type TerminalDatabase } from '../../db/connection.js';
import { Journal, type JournalEntry } from '../../db/journal.js';
import { decodePayload, encodePayload } from '../../db/journal-codec.js';
import { PAYLOAD_KEYS, STEP_NAMES } from '../../db/journal-vocabulary.js';
import { canonicalJson } from '../../protocol/canonical-json.js';
import { stepClock, useTempDir } from './helpers.js';

const tmp = useTempDir();
const ZEROS = '0'.repeat(64);

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

const count = (db: TerminalDatabase) => db.handle.prepare('SELECT count(*) FROM journal_entry').pluck().get();

describe('Journal.append', () => {
  it('chains each entry to the previous one from the all-zero genesis, over the documented bytes', () => {
    const { journal } = setup();
    const first = journal.append(debit);
    const second = journal.append({ ...debit, step: 'completed', payload: { amount: 1200 } });
    expect(first).toMatchObject({ seq: 1, at: '2025-01-01T00:00:00.000Z', prevHash: ZEROS });
    expect(second).toMatchObject({ seq: 2, at: '2025-01-01T00:00:01.000Z', prevHash: first.hash });
    expect(first.tag).toBe(first.hash!.slice(0, 16));
    // Recomputed with a CBOR encoder, from docs/journal.md: h = SHA-256(prev ‖ seq ‖ flow ‖ at ‖ step ‖ payload),
    // flow = [flow ID, kind number] on a flow's first entry, its first seq after; known keys and steps
    // as their dictionary numbers, uppercase hex as a tag-23 byte string.
    const key = (k: string) => PAYLOAD_KEYS.indexOf(k as never);
    const payload = encode(
      new Map<number | string, unknown>([
        [key('amount'), 1200],
        [key('currency'), 'JPY'],
        ['payer', new Tagged(23, Uint8Array.from([0x04, 0xa1, 0xb2]))],
      ]),
    );
    const at = Date.parse('2025-01-01T00:00:00.000Z');
    const link1 = concatBytes(
      new Uint8Array(32),
      encode(1),
      encode(['flow-A', 0]),
      encode(at),
      encode('debit-sent'),
      payload,
    );
    expect(first.hash).toBe(bytesToHex(sha256(link1)));
    const link2 = concatBytes(
      sha256(link1),
      encode(2),
      encode(1),
      encode(at + 1000),
      encode(STEP_NAMES.indexOf('completed')),
      encode(new Map([[key('amount'), 1200]])),
    );
    expect(second.hash).toBe(bytesToHex(sha256(link2)));
  });

  it('stores binary: the flow ID of a UUID in 16 bytes, hex as bytes, the time in milliseconds', () => {
    const { db, journal } = setup();
    const flowId = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const holder = 'A0B1C2D3E4F5061728394A5B6C7D8E9F';
    journal.append({ flowId, flowKind: 'value-transfer', step: 'started', payload: { payerId: holder } });
    const flow = db.handle.prepare('SELECT flow_id, kind, opened_at FROM flow').get() as Record<
      string,
      unknown
    >;
    expect(flow).toEqual({
      flow_id: Buffer.from(flowId.replaceAll('-', ''), 'hex'),
      kind: 0,
      opened_at: Date.parse('2025-01-01T00:00:00Z'),
    });
    const body = db.handle.prepare('SELECT body FROM journal_entry').pluck().get() as Buffer;
    // tag (8) + at (9) + step (1) + map (1) + key (1) + tag 23 (1) + bytes header (1) + 16
    expect(body.length).toBe(8 + 9 + 1 + 1 + 1 + 1 + 1 + 16);
    expect(
      body
        .subarray(body.length - 16)
        .toString('hex')
        .toUpperCase(),
    ).toBe(holder);
    expect(journal.entriesForFlow(flowId)[0]).toMatchObject({ flowId, payload: { payerId: holder } });
  });

  it('keeps the head in step with the last entry, and a checkpoint every 4096 entries', () => {
    const { db, journal } = setup();
    journal.append(debit);
    const last = journal.append({ ...debit, step: 'completed' });
    expect(journal.head()).toEqual({ seq: 2, hash: last.hash });
    expect(db.handle.prepare('SELECT count(*) FROM journal_checkpoint').pluck().get()).toBe(0);
  });

  it('refuses invalid entries and facts with E_INPUT_INVALID and appends nothing', () => {
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
    const badFacts: unknown[] = [
      { amount: 0 },
      { amount: -5 },
      { amount: 1.5 },
      { currency: 1000 },
      { cards: [{ holderId: 'XYZ' }] },
      { cards: [{ holderId: 'AA' }, { holderId: 'BB' }, { holderId: 'CC' }] },
      { operatorId: 'has space' },
      { refundOf: '' },
      { direction: 'sideways' },
      { items: [{ type: 'ticket' }] },
    ];
    for (const facts of badFacts) {
      expect(() => journal.append(debit, facts as never)).toThrow(
        expect.objectContaining({ code: 'E_INPUT_INVALID' }),
      );
    }
    expect(count(db)).toBe(0);
    expect(db.handle.prepare('SELECT count(*) FROM flow').pluck().get()).toBe(0);
  });

  it('refuses to change the kind of an existing flow', () => {
    const { db, journal } = setup();
    journal.append(debit);
    expect(() => journal.append({ ...debit, flowKind: 'admin' })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_INVALID' }),
    );
    expect(count(db)).toBe(1);
  });

  it('refuses to run inside a caller transaction, where it could not commit before returning', () => {
    const { db, journal } = setup();
    const nested = db.handle.transaction(() => journal.append(debit));
    expect(() => nested()).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
    expect(journal.verify()).toMatchObject({ ok: true, count: 0 });
  });
});

describe('payload encoding', () => {
  it('gives back exactly the JSON value appended, whatever it is', () => {
    const json = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
    const hexish = fc.dictionary(
      fc.constantFrom(...PAYLOAD_KEYS.slice(0, 20)),
      fc.oneof(
        fc
          .uint8Array({ minLength: 1, maxLength: 20 })
          .map((b) => Buffer.from(b).toString('hex').toUpperCase()),
        fc.uint8Array({ minLength: 1, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex')),
        fc.uuid(),
        fc.constantFrom('1000', '0', '00', 'F', 'Ab', '-1', ''),
      ),
    );
    fc.assert(
      fc.property(fc.oneof(json, hexish), (value) => {
        let text: string;
        try {
          text = canonicalJson(value);
        } catch {
          // No JSON form (an integer beyond 2^53): refused the same way.
          expect(() => encodePayload(value)).toThrow(expect.objectContaining({ code: 'E_INPUT_INVALID' }));
          return;
        }
        const expected = JSON.parse(text);
        const { value: normalized, bytes } = encodePayload(value);
        expect(normalized).toEqual(expected);
        expect(decodePayload(bytes)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a key named __proto__ as a key, at any depth, as JSON.parse does', () => {
    const value = JSON.parse('{"__proto__":0,"a":{"__proto__":{"b":1}}}') as Record<string, unknown>;
    const { value: normalized, bytes } = encodePayload(value);
    const back = decodePayload(bytes);
    for (const v of [normalized, back]) {
      expect(Object.keys(v).sort()).toEqual(['__proto__', 'a']);
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toBe(0);
      const a = v.a as Record<string, unknown>;
      expect(Object.getOwnPropertyDescriptor(a, '__proto__')?.value).toEqual({ b: 1 });
      expect((a as { b?: unknown }).b).toBeUndefined();
    }
  });

  it('refuses bytes it did not write', () => {
    for (const bytes of [
      encode(5),
      encode(new Map([[9999, 1]])),
      encode(new Map([['a', new Tagged(23, new Uint8Array(0))]])),
      Uint8Array.of(0xa1),
    ]) {
      expect(() => decodePayload(bytes)).toThrow();
    }
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
    expect(journal.entriesForFlow('not an id')).toEqual([]);
  });

  it('pages newest first; the last page, even exactly full, has no older page after it', () => {
    const { journal } = setup();
    for (let i = 1; i <= 4; i++)
      journal.append({ flowId: `flow-${i}`, flowKind: 'admin', step: 'started', payload: {} });
    const one = journal.page({ limit: 2 });
    expect(one.records.map((r) => r.seq)).toEqual([4, 3]);
    expect(one.nextBeforeSeq).toBe(3);
    const two = journal.page({ limit: 2, beforeSeq: 3 });
    expect(two.records.map((r) => r.seq)).toEqual([2, 1]);
    expect(two.nextBeforeSeq).toBeUndefined();
    const all = journal.page({ limit: 4 });
    expect(all.records).toHaveLength(4);
    expect(all.nextBeforeSeq).toBeUndefined();
    expect(journal.page({ limit: 3 }).nextBeforeSeq).toBe(2);
    expect(journal.page({ limit: 5, beforeSeq: 1 })).toEqual({ records: [], nextBeforeSeq: undefined });
  });

  it('searches whole flows by flow ID prefix, amount and card label; older pages are never empty', () => {
    const { journal } = setup();
    const ids = [
      'aaaa1111-0000-4000-8000-000000000001',
      'aaaa2222-0000-4000-8000-000000000002',
      'bbbb3333-0000-4000-8000-000000000003',
    ];
    for (const [i, flowId] of ids.entries()) {
      journal.append(
        { flowId, flowKind: 'value-transfer', step: 'started', payload: { amount: 100 } },
        {
          amount: 100 * (i + 1),
          cards: [{ holderId: `0${i}AA`, label: i === 2 ? 'Zoë Müller' : 'Alice Martin' }],
        },
      );
      journal.append({ flowId, flowKind: 'value-transfer', step: 'completed', payload: {} });
    }
    const flowsOf = (search: string, limit = 10, beforeSeq?: number) =>
      journal.page({ limit, search, beforeSeq });
    expect(flowsOf('aaaa').records.map((r) => r.seq)).toEqual([4, 3, 2, 1]);
    expect(flowsOf('AAAA2222').records.map((r) => r.flowId)).toEqual([ids[1], ids[1]]);
    expect(flowsOf(ids[2]!).records.map((r) => r.seq)).toEqual([6, 5]);
    expect(flowsOf('200').records.map((r) => r.flowId)).toEqual([ids[1], ids[1]]);
    expect(flowsOf('mull').records.map((r) => r.flowId)).toEqual([ids[2], ids[2]]);
    expect(flowsOf('alice mar').records.map((r) => r.seq)).toEqual([4, 3, 2, 1]);
    expect(flowsOf('nothing-like-it').records).toEqual([]);
    expect(flowsOf('value-transfer').records.map((r) => r.seq)).toEqual([6, 5, 4, 3, 2, 1]);
    // Two entries a flow, two a page: each page one flow, and the last one has nothing after it.
    const first = flowsOf('alice', 2);
    expect(first.records.map((r) => r.seq)).toEqual([4, 3]);
    const second = flowsOf('alice', 2, first.nextBeforeSeq);
    expect(second.records.map((r) => r.seq)).toEqual([2, 1]);
    expect(second.nextBeforeSeq).toBeUndefined();
    // Three a page: the first page ends inside a flow, the next goes on with it.
    const cut = flowsOf('alice', 3);
    expect(cut.records.map((r) => r.seq)).toEqual([4, 3, 2]);
    expect(flowsOf('alice', 3, cut.nextBeforeSeq)).toEqual({
      records: [expect.objectContaining({ seq: 1 })],
      nextBeforeSeq: undefined,
    });
  });

  it('lists a search newest flow first, each flow’s entries together, even when flows interleave', () => {
    const { journal } = setup();
    const entry = (flowId: string, step: string) =>
      journal.append(
        { flowId, flowKind: 'value-transfer', step, payload: {} },
        step === 'started' ? { amount: 300 } : undefined,
      );
    entry('early', 'started');
    entry('late', 'started');
    entry('late', 'completed');
    entry('early', 'completed'); // a flow recovered after a newer one closed
    expect(journal.page({ limit: 10, search: '300' }).records.map((r) => [r.flowId, r.seq])).toEqual([
      ['late', 3],
      ['late', 2],
      ['early', 4],
      ['early', 1],
    ]);
  });

  it('refuses unreasonable page requests', () => {
    const { journal } = setup();
    for (const q of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { limit: 5, beforeSeq: 0 }]) {
      expect(() => journal.page(q)).toThrow(expect.objectContaining({ code: 'E_INPUT_INVALID' }));
    }
  });
});
