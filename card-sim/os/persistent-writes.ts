// What a commit of persistent memory would write on a chip. The simulator stores the whole state as one
// image, but a Java Card applet keeps its fields and records in separate persistent objects and writes
// only what changed. This compares the state before and after a commit and returns the bytes written
// per region: each top-level field (a counter, a key, a PIN's retry counter) and each record in a list
// (a debit record, a content item) is one region, as it would be one Util.arrayCopy or field store.
//
// Sizes as a chip would store them: hex strings are bytes (half their length), numbers 4 bytes,
// booleans and enumeration words ("open", "debited") 1 byte, other strings their UTF-8 length; a
// field or record that disappears costs 1 byte (its slot marked free). List records are matched by
// content first, so a record that only moved (a log shifted by one) writes nothing; records that
// changed are paired in order, as a fixed-slot log overwrites its oldest slot.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Bytes written per region by a commit from `before` to `after` (empty when nothing changed). */
export function persistentWriteRegions(before: unknown, after: unknown): number[] {
  const regions: number[] = [];
  diffFields(before as Json, after as Json, regions);
  return regions.filter((bytes) => bytes > 0);
}

/** Top level and nested objects outside lists: every changed leaf is its own region. */
function diffFields(before: Json | undefined, after: Json | undefined, regions: number[]): void {
  if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      diffFields(before[key], after[key], regions);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    regions.push(...diffList(before, after));
    return;
  }
  regions.push(changedBytes(before, after));
}

/** A list of records: unchanged records (by content) write nothing; the rest pair up in order. */
function diffList(before: Json[], after: Json[]): number[] {
  const unmatched = before.map((value) => ({ value, key: JSON.stringify(value) }));
  const added: Json[] = [];
  for (const value of after) {
    const key = JSON.stringify(value);
    const i = unmatched.findIndex((u) => u.key === key);
    if (i >= 0) unmatched.splice(i, 1);
    else added.push(value);
  }
  const regions = added.map((value, i) => changedBytes(unmatched[i]?.value, value));
  // Records that left the list without a successor in their slot: the slot is marked free.
  for (let i = added.length; i < unmatched.length; i++) regions.push(1);
  return regions;
}

/** Bytes of `after` that differ from `before` (1 for a removal). */
function changedBytes(before: Json | undefined, after: Json | undefined): number {
  if (after === undefined) return before === undefined ? 0 : 1;
  if (isObject(after)) {
    const old = isObject(before) ? before : {};
    let sum = 0;
    for (const key of new Set([...Object.keys(old), ...Object.keys(after)])) {
      sum += changedBytes(old[key], after[key]);
    }
    return sum;
  }
  if (Array.isArray(after)) {
    const old = Array.isArray(before) ? before : [];
    return diffList(old, after).reduce((s, n) => s + n, 0);
  }
  return before === after ? 0 : storedSize(after);
}

/** Bytes a leaf value takes on a chip. */
export function storedSize(value: Json): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'number') return 4;
  if (typeof value === 'string') {
    if (value.length % 2 === 0 && /^[0-9A-F]+$/.test(value)) return value.length / 2;
    if (/^[a-z][a-z-]*$/.test(value)) return 1; // an enumeration word: one byte on a card
    return Buffer.byteLength(value);
  }
  return JSON.stringify(value).length;
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
