import { describe, expect, it } from 'vitest';
import { entryHash } from '../../db/legacy-hash.js';
import { canonicalJson } from '../../protocol/canonical-json.js';
import { isTerminalError } from '../../protocol/errors.js';

function refused(value: unknown): boolean {
  try {
    canonicalJson(value);
    return false;
  } catch (e) {
    return isTerminalError(e, 'E_INPUT_INVALID');
  }
}

describe('canonicalJson', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    const value = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x y' } };
    expect(canonicalJson(value)).toBe('{"a":{"c":"x y","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('is independent of key insertion order', () => {
    const one = { amount: 1500, currency: 'JPY', payer: { id: '01AB', seq: 7 }, tags: ['a', 'b'] };
    const two = { tags: ['a', 'b'], payer: { seq: 7, id: '01AB' }, currency: 'JPY', amount: 1500 };
    expect(canonicalJson(two)).toBe(canonicalJson(one));
    const fields = { seq: 1, at: '2025-01-01T00:00:00.000Z', flow_id: 'f', flow_kind: 'admin', step: 's' };
    expect(entryHash('0'.repeat(64), { ...fields, payload: two })).toBe(
      entryHash('0'.repeat(64), { ...fields, payload: one }),
    );
  });

  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
  });

  it('orders keys by UTF-16 code units and escapes strings as JSON does', () => {
    expect(canonicalJson({ é: 1, Z: 2, a: 3, '10': 4, '9': 5 })).toBe('{"10":4,"9":5,"Z":2,"a":3,"é":1}');
    expect(canonicalJson({ s: 'quote " backslash \\ newline \n' })).toBe(
      '{"s":"quote \\" backslash \\\\ newline \\n"}',
    );
  });

  it('writes -0 as 0 and omits undefined properties', () => {
    expect(canonicalJson({ a: -0, b: undefined, c: 1.5 })).toBe('{"a":0,"c":1.5}');
  });

  it('accepts a shared (non-circular) sub-object twice', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
  });

  it('refuses values with no exact JSON form', () => {
    expect(refused({ amount: 10n })).toBe(true);
    expect(refused({ key: new Uint8Array([1, 2]) })).toBe(true);
    expect(refused({ key: Buffer.from('ab') })).toBe(true);
    expect(refused({ when: new Date(0) })).toBe(true);
    expect(refused({ m: new Map() })).toBe(true);
    expect(refused({ n: Number.NaN })).toBe(true);
    expect(refused({ n: Number.POSITIVE_INFINITY })).toBe(true);
    expect(refused({ n: 2 ** 53 })).toBe(true);
    expect(refused({ f: () => 1 })).toBe(true);
    expect(refused({ s: Symbol('x') })).toBe(true);
    expect(refused({ list: [1, undefined] })).toBe(true);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(refused(loop)).toBe(true);
  });

  it('accepts the largest safe integer', () => {
    expect(canonicalJson({ n: Number.MAX_SAFE_INTEGER })).toBe('{"n":9007199254740991}');
  });
});
