// What a commit would write on a chip: per region (a field, a record), only what changed.
import { describe, expect, it } from 'vitest';
import { persistentWriteRegions, storedSize } from '../../card-sim/os/persistent-writes.js';

const record = (id: string, status = 'open') => ({ txRandom: id.repeat(32), amount: 100, status });

describe('persistentWriteRegions', () => {
  it('writes nothing for an unchanged state', () => {
    const s = { balance: 5, log: [record('A')], keys: { '1': '00'.repeat(16) } };
    expect(persistentWriteRegions(s, structuredClone(s))).toEqual([]);
  });

  it('counts each changed top-level field as a region of its stored size', () => {
    const before = { balance: 5, holderId: 'AB'.repeat(16), owner: { tries: 3, pin: '1234' } };
    const after = { balance: 4, holderId: 'AB'.repeat(16), owner: { tries: 2, pin: '1234' } };
    expect(persistentWriteRegions(before, after)).toEqual([4, 4]);
  });

  it('counts an appended record whole, and only the changed fields of an updated one', () => {
    const before = { log: [record('A')] };
    expect(persistentWriteRegions(before, { log: [record('A'), record('B')] })).toEqual([16 + 4 + 1]);
    expect(persistentWriteRegions(before, { log: [record('A', 'debited')] })).toEqual([1]);
  });

  it('writes only the new record when a full log drops its oldest (records matched by content)', () => {
    const before = { log: [record('A'), record('B'), record('C')] };
    const after = { log: [record('B'), record('C'), record('D')] };
    // D overwrites A's slot: only the random differs (amount and status are the same values).
    expect(persistentWriteRegions(before, after)).toEqual([16]);
  });

  it('marks a removed field or record with one byte', () => {
    expect(persistentWriteRegions({ a: 1, b: 'FF' }, { a: 1 })).toEqual([1]);
    expect(persistentWriteRegions({ log: [record('A'), record('B')] }, { log: [record('B')] })).toEqual([1]);
    expect(persistentWriteRegions({ keys: { '1': 'AA', '2': 'BB' } }, { keys: { '2': 'BB' } })).toEqual([1]);
  });

  it('sizes leaves as a card stores them', () => {
    expect(storedSize('0A1B')).toBe(2); // hex: bytes
    expect(storedSize('acknowledged')).toBe(1); // an enumeration word
    expect(storedSize('Concert 2026')).toBe(12); // text: UTF-8
    expect(storedSize(70000)).toBe(4);
    expect(storedSize(true)).toBe(1);
  });
});
