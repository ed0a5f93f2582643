// Mutated DER for the certificate and CRL fuzzer. A valid certificate or CRL is read into a tree
// (descending into BIT STRINGs and OCTET STRINGs that hold DER, as signatures, keys and extension
// values do); edits on the tree (splice in a TLV from another structure, delete, duplicate, swap,
// retag, change a value, break one length field) are written back with every other length right,
// so the damage reaches the parser's inner layers; byte edits (flips, sets, cuts, tails) follow.
import fc from 'fast-check';

export interface DerNode {
  tag: number;
  /** Bytes before the children inside an encapsulating primitive (the BIT STRING's unused-bits byte). */
  prefix?: Uint8Array;
  children?: DerNode[];
  value?: Uint8Array;
}

export type LengthDamage =
  | 'plus-one'
  | 'minus-one'
  | 'zero'
  | 'indefinite'
  | 'non-minimal'
  | 'huge'
  | 'five-octets';

export type TreeEdit =
  | { op: 'splice'; node: number; donor: number }
  | { op: 'insert'; node: number; donor: number }
  | { op: 'delete'; node: number }
  | { op: 'duplicate'; node: number }
  | { op: 'swap'; node: number }
  | { op: 'retag'; node: number; tag: number }
  | { op: 'value'; node: number; pos: number; value: number; cut: boolean }
  | { op: 'length'; node: number; damage: LengthDamage };

export type ByteEdit =
  | { op: 'flip'; pos: number; bit: number }
  | { op: 'set'; pos: number; value: number }
  | { op: 'truncate'; keep: number }
  | { op: 'extend'; bytes: Uint8Array };

const node = fc.nat({ max: 500 });
export const treeEditArb: fc.Arbitrary<TreeEdit> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('splice' as const), node, donor: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), node, donor: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), node }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), node }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('swap' as const), node }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('retag' as const),
      node,
      tag: fc.constantFrom(
        0x01,
        0x02,
        0x03,
        0x04,
        0x05,
        0x06,
        0x0a,
        0x0c,
        0x13,
        0x17,
        0x18,
        0x30,
        0x31,
        0x80,
        0xa0,
        0xa3,
        0x1f,
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('value' as const),
      node,
      pos: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
      cut: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('length' as const),
      node,
      damage: fc.constantFrom<LengthDamage>(
        'plus-one',
        'minus-one',
        'zero',
        'indefinite',
        'non-minimal',
        'huge',
        'five-octets',
      ),
    }),
  },
);

export const byteEditArb: fc.Arbitrary<ByteEdit> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('flip' as const),
      pos: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      pos: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), keep: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('extend' as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
    }),
  },
);

/** Reads valid DER into a tree; throws on anything else (it is only given the project's own output). */
export function readTree(bytes: Uint8Array): DerNode {
  const [root, end] = readNode(bytes, 0);
  if (end !== bytes.length) throw new Error('trailing bytes');
  return root;
}

function readNode(b: Uint8Array, at: number): [DerNode, number] {
  const tag = b[at]!;
  let i = at + 1;
  let length = b[i++]!;
  if (length & 0x80) {
    const n = length & 0x7f;
    length = 0;
    for (let k = 0; k < n; k++) length = length * 256 + b[i++]!;
  }
  const content = b.subarray(i, i + length);
  const end = i + length;
  if (tag & 0x20) return [{ tag, children: readAll(content) ?? [] }, end];
  // Signatures, keys and extension values: primitives that hold DER.
  if (tag === 0x03 && content[0] === 0) {
    const inner = content.length > 1 && content[1] === 0x30 ? readAll(content.subarray(1)) : undefined;
    if (inner) return [{ tag, prefix: content.slice(0, 1), children: inner }, end];
  }
  if (tag === 0x04 && content.length > 1) {
    const inner = readAll(content);
    if (inner) return [{ tag, prefix: new Uint8Array(0), children: inner }, end];
  }
  return [{ tag, value: content.slice() }, end];
}

function readAll(b: Uint8Array): DerNode[] | undefined {
  const out: DerNode[] = [];
  try {
    for (let at = 0; at < b.length; ) {
      const [n, end] = readNode(b, at);
      if (end > b.length || end <= at) return undefined;
      out.push(n);
      at = end;
    }
  } catch {
    return undefined;
  }
  return out;
}

/** Every node, parents before children, with where it hangs. */
function walk(root: DerNode): { node: DerNode; parent: DerNode | undefined; index: number }[] {
  const out: { node: DerNode; parent: DerNode | undefined; index: number }[] = [];
  const visit = (n: DerNode, parent: DerNode | undefined, index: number) => {
    out.push({ node: n, parent, index });
    for (const [i, c] of (n.children ?? []).entries()) visit(c, n, i);
  };
  visit(root, undefined, 0);
  return out;
}

export function allNodes(root: DerNode): DerNode[] {
  return walk(root).map((x) => x.node);
}

/** Applies tree edits (on a copy); `damaged` collects the nodes whose length field is to be broken. */
export function editTree(
  root: DerNode,
  edits: readonly TreeEdit[],
  donors: readonly DerNode[],
): { tree: DerNode; damaged: Map<DerNode, LengthDamage> } {
  const tree = structuredClone(root);
  const damaged = new Map<DerNode, LengthDamage>();
  for (const e of edits) {
    const nodes = walk(tree);
    const at = nodes[e.node % nodes.length]!;
    const siblings = at.parent?.children;
    const donor = () => structuredClone(donors[(e as { donor: number }).donor % donors.length]!);
    switch (e.op) {
      case 'splice':
        if (siblings) siblings[at.index] = donor();
        break;
      case 'insert':
        if (siblings) siblings.splice(at.index, 0, donor());
        break;
      case 'delete':
        if (siblings) siblings.splice(at.index, 1);
        break;
      case 'duplicate':
        if (siblings) siblings.splice(at.index, 0, structuredClone(at.node));
        break;
      case 'swap':
        if (siblings && siblings.length > 1) {
          const j = (at.index + 1) % siblings.length;
          [siblings[at.index], siblings[j]] = [siblings[j]!, siblings[at.index]!];
        }
        break;
      case 'retag':
        at.node.tag = e.tag;
        break;
      case 'value': {
        const value = at.node.value ?? contentOf(at.node);
        const bytes = Uint8Array.from(value);
        if (e.cut) at.node.value = bytes.slice(0, bytes.length === 0 ? 0 : e.pos % bytes.length);
        else {
          if (bytes.length) bytes[e.pos % bytes.length] = e.value;
          at.node.value = bytes;
        }
        delete at.node.children;
        delete at.node.prefix;
        break;
      }
      case 'length':
        damaged.set(at.node, e.damage);
        break;
    }
  }
  return { tree, damaged };
}

/** Writes a tree as DER, with correct lengths except at the damaged nodes. */
export function serialize(n: DerNode, damaged: ReadonlyMap<DerNode, LengthDamage> = new Map()): Uint8Array {
  const content = contentOf(n, damaged);
  const damage = damaged.get(n);
  return concatAll([
    Uint8Array.of(n.tag),
    damage ? brokenLength(content.length, damage) : derLength(content.length),
    content,
  ]);
}

function contentOf(n: DerNode, damaged: ReadonlyMap<DerNode, LengthDamage> = new Map()): Uint8Array {
  if (!n.children) return n.value ?? new Uint8Array(0);
  return concatAll([n.prefix ?? new Uint8Array(0), ...n.children.map((c) => serialize(c, damaged))]);
}

export function applyByteEdits(bytes: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let out: Uint8Array = Uint8Array.from(bytes);
  for (const e of edits) {
    const at = (pos: number) => (out.length === 0 ? 0 : pos % out.length);
    if (e.op === 'flip' && out.length) out[at(e.pos)]! ^= 1 << e.bit;
    if (e.op === 'set' && out.length) out[at(e.pos)] = e.value;
    if (e.op === 'truncate') out = out.slice(0, at(e.keep));
    if (e.op === 'extend') out = concatAll([out, e.bytes]);
  }
  return out;
}

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  if (n < 0x10000) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  return Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
}

function brokenLength(n: number, damage: LengthDamage): Uint8Array {
  switch (damage) {
    case 'plus-one':
      return derLength(n + 1);
    case 'minus-one':
      return derLength(Math.max(0, n - 1));
    case 'zero':
      return Uint8Array.of(0);
    case 'indefinite':
      return Uint8Array.of(0x80);
    case 'non-minimal':
      return Uint8Array.of(0x82, n >> 8, n & 0xff);
    case 'huge':
      return Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xf0);
    case 'five-octets':
      return Uint8Array.of(0x85, 0, 0, 0, n >> 8, n & 0xff);
  }
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
