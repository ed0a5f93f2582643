// Command APDUs a hostile terminal could send: mutations of real ones (bytes set, flipped, cut,
// added, moved; header fields, Lc and Le changed; short and extended forms swapped) and made-up ones
// over every instruction. fast-check generates the descriptions; applying one is deterministic.
import fc from 'fast-check';
import { parseCommandApdu } from '../../protocol/apdu.js';
import { INS } from '../../protocol/settlement/commands.js';

export type Mutation =
  | { op: 'set'; pos: number; value: number }
  | { op: 'flip'; pos: number; bit: number }
  | { op: 'truncate'; keep: number }
  | { op: 'extend'; bytes: Uint8Array }
  | { op: 'delete'; pos: number }
  | { op: 'insert'; pos: number; value: number }
  | { op: 'copy'; from: number; to: number; length: number }
  | { op: 'header'; field: number; value: number }
  | { op: 'data'; pos: number; value: number }
  | { op: 'lc'; delta: number }
  | { op: 'le'; le: number | null }
  | { op: 'form'; extended: boolean };

export interface MadeUpApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  /** Le as sent (its low byte in short form, two bytes in extended form); null: no Le. */
  le: number | null;
  extended: boolean;
}

const byte = fc.integer({ min: 0, max: 255 });
const position = fc.nat({ max: 1000 });
/** Lengths the applet checks for (dates, IDs, randoms, MACs, terms, keys, certificates) and a few around them. */
const DATA_LENGTHS = [
  0, 1, 3, 4, 5, 8, 12, 15, 16, 17, 20, 26, 32, 36, 42, 48, 64, 65, 77, 82, 97, 255, 256, 300,
];

/** Weighted toward changes that keep the length right, so the command gets past the length checks. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('data' as const), pos: position, value: byte }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('flip' as const),
      pos: position,
      bit: fc.integer({ min: 0, max: 7 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), pos: position, value: byte }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('header' as const),
      field: fc.integer({ min: 0, max: 3 }),
      value: byte,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), keep: position }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('extend' as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), pos: position }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), pos: position, value: byte }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('copy' as const),
      from: position,
      to: position,
      length: fc.integer({ min: 1, max: 32 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('lc' as const),
      delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('le' as const),
      le: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('form' as const), extended: fc.boolean() }) },
);

const KNOWN_INS = [...new Set(Object.values(INS))];

export const madeUpApduArb: fc.Arbitrary<MadeUpApdu> = fc.record({
  cla: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0x00, 0x80) }, { weight: 1, arbitrary: byte }),
  ins: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...KNOWN_INS) }, { weight: 1, arbitrary: byte }),
  p1: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 3, 4, 0x80) },
    { weight: 1, arbitrary: byte },
  ),
  p2: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 0x80) }, { weight: 1, arbitrary: byte }),
  data: fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(...DATA_LENGTHS).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  ),
  le: fc.option(fc.oneof(fc.constantFrom(0, 1, 16, 255, 256), fc.integer({ min: 0, max: 0xffff })), {
    nil: null,
  }),
  extended: fc.boolean(),
});

/** Encodes a made-up command in the form asked for, even where the lengths make no sense. */
export function encodeMadeUp(c: MadeUpApdu): Uint8Array {
  const out = [c.cla, c.ins, c.p1, c.p2];
  const extended = c.extended || c.data.length > 255;
  if (!extended) {
    if (c.data.length > 0) out.push(c.data.length, ...c.data);
    if (c.le !== null) out.push(c.le & 0xff);
  } else {
    out.push(0);
    if (c.data.length > 0) out.push(c.data.length >> 8, c.data.length & 0xff, ...c.data);
    if (c.le !== null) out.push((c.le >> 8) & 0xff, c.le & 0xff);
  }
  return Uint8Array.from(out);
}

/** Applies mutations in order; each one is defined for any input length. */
export function mutate(apdu: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Array.from(apdu);
  for (const m of mutations) bytes = applyOne(bytes, m);
  return Uint8Array.from(bytes);
}

function applyOne(b: number[], m: Mutation): number[] {
  const at = (pos: number, extra = 0) => (b.length + extra === 0 ? 0 : pos % (b.length + extra));
  switch (m.op) {
    case 'set':
      if (b.length) b[at(m.pos)] = m.value;
      return b;
    case 'flip':
      if (b.length) b[at(m.pos)]! ^= 1 << m.bit;
      return b;
    case 'truncate':
      return b.slice(0, at(m.keep));
    case 'extend':
      return [...b, ...m.bytes];
    case 'delete':
      if (b.length) b.splice(at(m.pos), 1);
      return b;
    case 'insert':
      b.splice(at(m.pos, 1), 0, m.value);
      return b;
    case 'copy': {
      const run = b.slice(at(m.from), at(m.from) + m.length);
      b.splice(at(m.to), run.length, ...run);
      return b;
    }
    case 'header':
      if (b.length > m.field) b[m.field] = m.value;
      return b;
    default:
      return structured(b, m);
  }
}

/** Mutations that need the command's structure; on an unparsable command they degrade to a byte change. */
function structured(b: number[], m: Extract<Mutation, { op: 'data' | 'lc' | 'le' | 'form' }>): number[] {
  let cmd: ReturnType<typeof parseCommandApdu>;
  try {
    cmd = parseCommandApdu(Uint8Array.from(b));
  } catch {
    if (b.length > 4) b[4] = (b[4]! + 1) & 0xff;
    return b;
  }
  const le = cmd.ne === 0 ? null : cmd.ne & 0xffff;
  const base: MadeUpApdu = { ...cmd, le, extended: cmd.extended };
  switch (m.op) {
    case 'data': {
      const data = Uint8Array.from(cmd.data);
      if (data.length) data[m.pos % data.length] = m.value;
      return Array.from(encodeMadeUp({ ...base, data }));
    }
    case 'le':
      return Array.from(encodeMadeUp({ ...base, le: m.le }));
    case 'form':
      return Array.from(encodeMadeUp({ ...base, extended: m.extended }));
    case 'lc': {
      const out = Array.from(encodeMadeUp(base));
      if (cmd.data.length === 0) return out;
      if (!base.extended && cmd.data.length <= 255) out[4] = (out[4]! + m.delta) & 0xff;
      else {
        const lc = (((out[5]! << 8) | out[6]!) + m.delta) & 0xffff;
        out[5] = lc >> 8;
        out[6] = lc & 0xff;
      }
      return out;
    }
  }
}
