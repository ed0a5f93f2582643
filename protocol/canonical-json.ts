// Canonical JSON for hash-chained journal payloads: the same value always yields the same string,
// so a hash computed today can be recomputed from the stored text years later.
//
// Rules: object keys sorted by UTF-16 code units (what Array.prototype.sort does), recursively;
// no whitespace; strings and numbers as JSON.stringify writes them. Only plain data is accepted:
// bigint, Uint8Array and other binary views, Date, Map, class instances, functions, symbols,
// NaN/Infinity and integers beyond 2^53 are refused with E_INPUT_INVALID, because each has either
// no JSON form or a lossy one. Callers pass hex strings and safe-integer numbers instead.
// Object properties whose value is undefined are omitted (as JSON.stringify does); undefined inside
// an array is refused, since JSON.stringify would silently turn it into null.

import { TerminalError } from './errors.js';

export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `non-finite number ${value}`);
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        refuse(path, `integer ${value} is beyond 2^53 and has lost precision; pass it as a string`);
      }
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      break;
    default:
      refuse(path, `${typeof value} has no canonical JSON form`);
  }

  const obj = value as object;
  if (ancestors.has(obj)) refuse(path, 'circular reference');
  ancestors.add(obj);
  try {
    if (Array.isArray(obj)) {
      const items = obj.map((item, i) => {
        if (item === undefined) refuse(`${path}[${i}]`, 'undefined inside an array');
        return write(item, `${path}[${i}]`, ancestors);
      });
      return `[${items.join(',')}]`;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = ArrayBuffer.isView(obj) ? 'binary data (pass hex)' : (obj.constructor?.name ?? 'object');
      refuse(path, `${kind} is not plain JSON data`);
    }
    const record = obj as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const member = record[key];
      if (member === undefined) continue;
      members.push(`${JSON.stringify(key)}:${write(member, `${path}.${key}`, ancestors)}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(obj);
  }
}

function refuse(path: string, why: string): never {
  throw new TerminalError('E_INPUT_INVALID', `journal payload at ${path}: ${why}`, { path });
}
