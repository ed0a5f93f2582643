// Which reader serves which slot: configuration, one selector per slot. A selector is either a
// reader's exact PC/SC name ("Virtual PCD A 00 00") or a regular expression written between slashes
// ("/^ACS ACR39U .* 00 00$/", flags i, m, s and u allowed after the closing slash). Patterns search
// anywhere in the name unless anchored with ^ and $.
//
// A reader that both slots' patterns match is bound to neither: swapping payer and payee by accident
// is worse than refusing to guess. An exact name always wins over a pattern.
import { z } from 'zod';
import { errorMessage, TerminalError } from '../../../protocol/errors.js';
import { SLOT_NAMES, type SlotName } from './reader-slots.js';

export type SlotMapping = Record<SlotName, string>;

/** A selector compiled for matching. */
export type ReaderSelector = { kind: 'exact'; name: string } | { kind: 'pattern'; regex: RegExp };

const PATTERN = /^\/(.+)\/([a-z]*)$/s;
const ALLOWED_FLAGS = /^[imsu]*$/;

/** Whether the selector is written as a /pattern/ (not whether the pattern is valid). */
export function isPatternSelector(selector: string): boolean {
  return PATTERN.test(selector);
}

/** Compiles one selector; throws E_INPUT_INVALID for an invalid pattern or an empty selector. */
export function compileSelector(selector: string): ReaderSelector {
  const problem = selectorProblem(selector);
  if (problem !== undefined) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `invalid reader selector ${JSON.stringify(selector)}: ${problem}`,
      {
        selector,
      },
    );
  }
  const m = PATTERN.exec(selector);
  return m ? { kind: 'pattern', regex: new RegExp(m[1]!, m[2]) } : { kind: 'exact', name: selector };
}

function selectorProblem(selector: string): string | undefined {
  if (selector.trim().length === 0) return 'empty';
  const m = PATTERN.exec(selector);
  if (!m) return undefined;
  // g and y make RegExp.test() stateful (lastIndex), which would make matching depend on history.
  if (!ALLOWED_FLAGS.test(m[2]!)) return `unsupported flags "${m[2]}" (allowed: i, m, s, u)`;
  try {
    new RegExp(m[1]!, m[2]);
  } catch (e) {
    return `not a valid regular expression (${errorMessage(e)})`;
  }
  return undefined;
}

const selectorSchema = z.string().superRefine((selector, ctx) => {
  const problem = selectorProblem(selector);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const slotMappingSchema = z
  .strictObject({ payer: selectorSchema, payee: selectorSchema })
  .refine((m) => m.payer !== m.payee, {
    message: 'payer and payee must not use the same reader selector',
    path: ['payee'],
  });

/** Validates configuration input; throws E_INPUT_INVALID with the zod issues in its details. */
export function parseSlotMapping(input: unknown): SlotMapping {
  const parsed = slotMappingSchema.safeParse(input);
  if (!parsed.success) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `invalid reader slot mapping: ${z.prettifyError(parsed.error)}`,
      {
        issues: parsed.error.issues,
      },
    );
  }
  return parsed.data;
}

/** A mapping compiled once, for matching many reader names. */
export interface CompiledSlotMapping {
  readonly mapping: SlotMapping;
  match(readerName: string): SlotName | undefined;
}

export function compileSlotMapping(mapping: SlotMapping): CompiledSlotMapping {
  const valid = parseSlotMapping(mapping);
  const selectors = SLOT_NAMES.map((slot) => ({ slot, selector: compileSelector(valid[slot]) }));
  return {
    mapping: { ...valid },
    match(readerName) {
      const exact = selectors.find((s) => s.selector.kind === 'exact' && s.selector.name === readerName);
      if (exact) return exact.slot;
      const matching = selectors.filter(
        (s) => s.selector.kind === 'pattern' && s.selector.regex.test(readerName),
      );
      return matching.length === 1 ? matching[0]!.slot : undefined;
    },
  };
}

/**
 * The slot `readerName` belongs to under `mapping`, or undefined when it belongs to none (or, matching
 * both slots' patterns, is ambiguous). Throws E_INPUT_INVALID for an invalid mapping.
 */
export function matchReader(mapping: SlotMapping, readerName: string): SlotName | undefined {
  return compileSlotMapping(mapping).match(readerName);
}
