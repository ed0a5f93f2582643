// Valid IPC requests generated from the contract itself: each request schema is exported as JSON
// Schema (zod's toJSONSchema) and turned into a fast-check arbitrary. A channel added to the contract
// is fuzzed without touching this file; a schema construct this file does not know fails loudly.
import fc from 'fast-check';
import { type ZodType, z } from 'zod';

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  maxItems?: number;
}

export function arbitraryFor(schema: ZodType): fc.Arbitrary<unknown> {
  return fromJsonSchema(z.toJSONSchema(schema, { io: 'input' }) as JsonSchema, 'request');
}

function fromJsonSchema(s: JsonSchema, where: string): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (union) return fc.oneof(...union.map((u, i) => fromJsonSchema(u, `${where}|${i}`)));
  switch (s.type) {
    case 'object': {
      const required = new Set(s.required ?? []);
      const shape = Object.fromEntries(
        Object.entries(s.properties ?? {}).map(([key, p]) => [key, fromJsonSchema(p, `${where}.${key}`)]),
      );
      const optional = Object.keys(shape).filter((key) => !required.has(key));
      return fc.record(shape, { requiredKeys: [...required] as never[] }).map((o) => {
        for (const key of optional)
          if ((o as Record<string, unknown>)[key] === undefined) delete (o as Record<string, unknown>)[key];
        return o;
      });
    }
    case 'string':
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
      if (s.format === 'date')
        return fc
          .date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
          .map((d) => d.toISOString().slice(0, 10));
      return fc.string({ minLength: s.minLength ?? 0, maxLength: s.maxLength ?? 64 });
    case 'integer': {
      const min = Math.max(s.minimum ?? -(2 ** 31), Number.MIN_SAFE_INTEGER);
      const max = Math.min(s.maximum ?? 2 ** 31, Number.MAX_SAFE_INTEGER);
      // The bounds themselves, and anything between (beyond 32 bits too).
      return fc.oneof(
        fc.constantFrom(min, max),
        fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number),
      );
    }
    case 'number':
      return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(s.items ? fromJsonSchema(s.items, `${where}[]`) : fc.jsonValue(), {
        maxLength: s.maxItems ?? 5,
      });
    default:
      throw new Error(
        `json-schema-arbitrary: ${where} uses ${JSON.stringify(s).slice(0, 120)}, not supported yet`,
      );
  }
}
