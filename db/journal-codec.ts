// How one journal entry is stored and hashed (docs/journal.md, "Encoding"):
//
//   payload  CBOR (RFC 8949, written by cborg: shortest integers, definite lengths, sorted map keys).
//            Map keys listed in PAYLOAD_KEYS are their number, other keys their text; uppercase hex
//            text (what protocol/bytes toHex writes: IDs, randoms, proofs) is a byte string under tag
//            23 ("expected base16"), a lowercase UUID (flow IDs) 16 bytes under tag 37 (binary UUID).
//            Decoding gives back exactly the JSON value that was appended.
//   record   the CBOR sequence (RFC 8742) at (Unix ms), step, payload: what an entry's row keeps
//            after its 8-byte chain tag (journal_entry.body = tag ‖ record).
//   flow ID  a lowercase UUID as its 16 bytes, any other ID as text.
//   step     its number in STEP_NAMES, or its text when not listed; kind: its number in FLOW_KINDS.
//
// A chain link hashes, after the previous hash, the CBOR sequence seq, flow, then the record, where
// flow is [flow ID, kind] on a flow's first entry and the flow's number (the seq of that first entry)
// on every later one. Anyone with a CBOR decoder and this file can recompute the chain.
import { decode, decodeFirst, encode, Tagged } from 'cborg';
import { canonicalJson } from '../protocol/canonical-json.js';
import { TerminalError } from '../protocol/errors.js';
import { FLOW_KINDS, type FlowKind, PAYLOAD_KEYS, STEP_NAMES } from './journal-vocabulary.js';

const TAG_BASE16 = 23;
const TAG_UUID = 37;
const UPPER_HEX = /^(?:[0-9A-F]{2})+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const KEY_CODE = new Map<string, number>(PAYLOAD_KEYS.map((k, i) => [k, i]));
const STEP_CODE = new Map<string, number>(STEP_NAMES.map((s, i) => [s, i]));
const KIND_CODE = new Map<string, number>(FLOW_KINDS.map((k, i) => [k, i]));

/** A flow ID, step or kind as a column holds it: a number or bytes where the format has one, else text. */
export type StoredName = number | string;
export type StoredFlowId = Uint8Array | string;

/**
 * The payload as the journal keeps it: plain JSON (canonicalJson refuses anything else with
 * E_INPUT_INVALID), encoded. Returns the value a reader gets back and its bytes.
 */
export function encodePayload(payload: Record<string, unknown>): {
  value: Record<string, unknown>;
  bytes: Uint8Array;
} {
  const value = JSON.parse(canonicalJson(payload)) as Record<string, unknown>;
  return { value, bytes: encode(toCbor(value)) };
}

const DECODE_OPTIONS = {
  useMaps: true,
  strict: true,
  rejectDuplicateMapKeys: true,
  tags: Object.assign([], {
    [TAG_BASE16]: (inner: () => unknown) => bytesToUpperHex(asBytes(inner())),
    [TAG_UUID]: (inner: () => unknown) => bytesToUuid(asBytes(inner())),
  }),
};

/** The stored payload back as JSON; throws (SyntaxError) on bytes this codec did not write. */
export function decodePayload(bytes: Uint8Array): Record<string, unknown> {
  const value = fromCbor(decode(bytes, DECODE_OPTIONS as never));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SyntaxError('a payload is a map');
  }
  return value as Record<string, unknown>;
}

function toCbor(value: unknown): unknown {
  if (typeof value === 'string') {
    if (UPPER_HEX.test(value)) return new Tagged(TAG_BASE16, Buffer.from(value, 'hex'));
    if (UUID.test(value)) return new Tagged(TAG_UUID, uuidToBytes(value));
    return value;
  }
  if (Array.isArray(value)) return value.map(toCbor);
  if (typeof value === 'object' && value !== null) {
    const map = new Map<number | string, unknown>();
    for (const [k, v] of Object.entries(value)) map.set(KEY_CODE.get(k) ?? k, toCbor(v));
    return map;
  }
  return value;
}

function fromCbor(value: unknown): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) {
      const name = typeof k === 'number' ? PAYLOAD_KEYS[k] : k;
      if (typeof name !== 'string') throw new SyntaxError(`unknown payload key ${String(k)}`);
      // defineProperty, as JSON.parse does: an assignment to "__proto__" would set the prototype
      // and lose the key.
      Object.defineProperty(out, name, {
        value: fromCbor(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (Array.isArray(value)) return value.map(fromCbor);
  if (value instanceof Uint8Array || value === undefined) throw new SyntaxError('not a JSON value');
  return value;
}

function asBytes(v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new SyntaxError('a tagged hex value holds bytes');
  return v;
}

function bytesToUpperHex(b: Uint8Array): string {
  if (b.length === 0) throw new SyntaxError('empty hex value');
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex').toUpperCase();
}

function uuidToBytes(uuid: string): Uint8Array {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

function bytesToUuid(b: Uint8Array): string {
  if (b.length !== 16) throw new SyntaxError('a UUID is 16 bytes');
  const h = Buffer.from(b.buffer, b.byteOffset, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A flow ID as the flow table stores it. */
export function storedFlowId(flowId: string): StoredFlowId {
  return UUID.test(flowId) ? uuidToBytes(flowId) : flowId;
}

export function flowIdOf(stored: unknown): string {
  if (typeof stored === 'string') return stored;
  if (stored instanceof Uint8Array) return bytesToUuid(stored);
  throw new SyntaxError('a flow ID is text or 16 bytes');
}

export function storedStep(step: string): StoredName {
  return STEP_CODE.get(step) ?? step;
}

export function stepOf(stored: unknown): string {
  if (typeof stored === 'string') return stored;
  const name = typeof stored === 'number' ? STEP_NAMES[stored] : undefined;
  if (name === undefined) throw new SyntaxError(`unknown step code ${String(stored)}`);
  return name;
}

export function storedKind(kind: FlowKind): number {
  const code = KIND_CODE.get(kind);
  if (code === undefined)
    throw new TerminalError('E_INPUT_INVALID', `flowKind ${JSON.stringify(kind)} is not known`);
  return code;
}

export function kindOf(stored: unknown): FlowKind {
  const kind = typeof stored === 'number' ? FLOW_KINDS[stored] : undefined;
  if (kind === undefined) throw new SyntaxError(`unknown flow kind code ${String(stored)}`);
  return kind;
}

/** What a chain link covers besides the entry's record: its seq and its flow. */
export interface LinkFields {
  readonly seq: number;
  readonly flowNo: number;
  /** Only on the flow's first entry (flowNo === seq). */
  readonly flowId?: StoredFlowId;
  readonly kind?: number;
}

/** Writes the CBOR sequence seq, flow into `out` from `pos`; returns the end (room: linkHeaderLength). */
export function writeLinkHeader(out: Uint8Array, pos: number, f: LinkFields): number {
  let p = writeHead(out, pos, 0, f.seq);
  if (f.flowNo !== f.seq) return writeHead(out, p, 0, f.flowNo);
  if (f.flowId === undefined || f.kind === undefined) {
    throw new SyntaxError(`entry ${f.seq} opens a flow but has no flow ID or kind`);
  }
  p = writeHead(out, p, 4, 2);
  p = writeBytesOrText(out, p, f.flowId);
  return writeHead(out, p, 0, f.kind);
}

/** An upper bound of writeLinkHeader's length for these fields. */
export function linkHeaderLength(f: LinkFields): number {
  const id = f.flowId;
  return (
    9 * 3 +
    1 +
    (typeof id === 'string' ? Buffer.byteLength(id) + 9 : id instanceof Uint8Array ? id.length + 9 : 0)
  );
}

/** An entry's record: at, step, payload (see the header). */
export function encodeRecord(at: number, step: StoredName, payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(9 + (typeof step === 'string' ? Buffer.byteLength(step) + 9 : 9));
  let p = writeHead(head, 0, 0, at);
  p = typeof step === 'number' ? writeHead(head, p, 0, step) : writeBytesOrText(head, p, step);
  const out = new Uint8Array(p + payload.length);
  out.set(head.subarray(0, p), 0);
  out.set(payload, p);
  return out;
}

/** The record back: at, step and the payload as JSON; throws (SyntaxError) on bytes not written so. */
export function decodeRecord(record: Uint8Array): {
  at: number;
  step: string;
  payload: Record<string, unknown>;
} {
  const [at, afterAt] = decodeFirst(record, DECODE_OPTIONS as never) as [unknown, Uint8Array];
  const [step, payload] = decodeFirst(afterAt, DECODE_OPTIONS as never) as [unknown, Uint8Array];
  if (!Number.isSafeInteger(at)) throw new SyntaxError('an entry time is a whole number of milliseconds');
  return { at: at as number, step: stepOf(step), payload: decodePayload(payload) };
}

function writeBytesOrText(out: Uint8Array, pos: number, v: Uint8Array | string): number {
  if (typeof v === 'string') {
    const bytes = Buffer.from(v, 'utf8');
    const p = writeHead(out, pos, 3, bytes.length);
    out.set(bytes, p);
    return p + bytes.length;
  }
  const p = writeHead(out, pos, 2, v.length);
  out.set(v, p);
  return p + v.length;
}

/** A CBOR head (RFC 8949 §3): major type and argument in its shortest form. */
function writeHead(out: Uint8Array, pos: number, major: number, n: number): number {
  const mt = major << 5;
  if (n < 24) {
    out[pos] = mt | n;
    return pos + 1;
  }
  if (n < 0x100) {
    out[pos] = mt | 24;
    out[pos + 1] = n;
    return pos + 2;
  }
  if (n < 0x10000) {
    out[pos] = mt | 25;
    out[pos + 1] = n >>> 8;
    out[pos + 2] = n & 0xff;
    return pos + 3;
  }
  if (n < 0x100000000) {
    out[pos] = mt | 26;
    writeU32(out, pos + 1, n);
    return pos + 5;
  }
  if (!Number.isSafeInteger(n) || n < 0) throw new SyntaxError(`${n} is not a safe unsigned integer`);
  out[pos] = mt | 27;
  writeU32(out, pos + 1, Math.floor(n / 0x100000000));
  writeU32(out, pos + 5, n >>> 0);
  return pos + 9;
}

function writeU32(out: Uint8Array, pos: number, n: number): void {
  out[pos] = n >>> 24;
  out[pos + 1] = (n >>> 16) & 0xff;
  out[pos + 2] = (n >>> 8) & 0xff;
  out[pos + 3] = n & 0xff;
}
