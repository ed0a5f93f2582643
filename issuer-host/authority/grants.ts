// What a create command allows a registered issuing server (seed 000, second embodiment): which
// content types, how many create rights, for how long; checked when the issuer's staff or the
// authority's options set one, and compared when a server registers again.
import { TerminalError } from '../../protocol/errors.js';
import type { CreateCommand } from '../../protocol/issuing/authority-protocol.js';
import { CONTENT_TYPES, type ContentType } from '../../protocol/settlement/contents-codec.js';
import type { CreateCommandRow } from '../db/authority-records.js';

/** What a create command issued to a server allows. */
export interface Grant {
  contentTypes: ContentType[];
  /** Create rights per command; null or absent: no limit. */
  maxIssuances?: number | null;
  /** How long a create command stays valid, in seconds. */
  validitySeconds: number;
}

export const DEFAULT_GRANT: Grant = {
  contentTypes: ['ticket', 'coupon'],
  maxIssuances: null,
  validitySeconds: 30 * 86_400,
};

/** The create command as the server receives it. */
export function toCreateCommand(c: CreateCommandRow): CreateCommand {
  return {
    commandId: c.commandId,
    terminalId: c.terminalId,
    contentTypes: c.contentTypes,
    issuerId: c.issuerId,
    notAfter: c.notAfter,
    maxIssuances: c.maxIssuances,
  };
}

/** Whether a stored command already grants what `g` allows (registering again then changes nothing). */
export function sameGrant(c: CreateCommandRow, g: Grant): boolean {
  return (
    (c.maxIssuances ?? null) === (g.maxIssuances ?? null) &&
    c.contentTypes.length === g.contentTypes.length &&
    c.contentTypes.every((t) => g.contentTypes.includes(t))
  );
}

/** A grant with its content types deduplicated; E_INPUT_INVALID when any part is not allowed. */
export function checkGrant(g: Grant): Grant {
  const types = [...new Set(g.contentTypes)];
  if (types.length === 0 || !types.every((t) => (CONTENT_TYPES as readonly string[]).includes(t)))
    throw new TerminalError('E_INPUT_INVALID', `content types are some of ${CONTENT_TYPES.join(', ')}`);
  const max = g.maxIssuances ?? null;
  if (max !== null && (!Number.isSafeInteger(max) || max < 1 || max > 2_147_483_647))
    throw new TerminalError('E_INPUT_INVALID', 'the issuance limit is a positive whole number');
  if (!Number.isSafeInteger(g.validitySeconds) || g.validitySeconds < 1 || g.validitySeconds > 3650 * 86_400)
    throw new TerminalError('E_INPUT_INVALID', 'the command validity is 1 second to 10 years');
  return { contentTypes: types, maxIssuances: max, validitySeconds: g.validitySeconds };
}
