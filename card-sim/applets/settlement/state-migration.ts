// Migration of a version-1 card image to version 2 (docs/protocol.md §11): every key, record, proof,
// item and counter is kept; the cardholder policy is added on a card with a PIN. Version 1's record
// states are a subset of version 2's, so the migrated image is checked by the version-2 schema alone.
import { TerminalError } from '../../../protocol/errors.js';
import {
  type NoPinLimits,
  PIN_FOR_EVERY_PAYMENT,
  validNoPinLimits,
} from '../../../protocol/settlement/cardholder-policy.js';
import { type SettlementState, STATE_FORMAT, settlementStateSchema } from './state.js';

export type MigrationResult =
  | { migrated: true; state: SettlementState; from: number }
  | { migrated: false; state: SettlementState };

/**
 * Reads a card image of any known format and returns it as version 2. `limits` is the policy a
 * migrated card with a PIN gets; by default every payment needs the PIN (the issuer chose none).
 */
export function migrateCardImage(
  image: string,
  limits: NoPinLimits = PIN_FOR_EVERY_PAYMENT,
): MigrationResult {
  if (!validNoPinLimits(limits)) throw new TerminalError('E_INPUT_INVALID', 'no-PIN limits out of range');
  let raw: unknown;
  try {
    raw = JSON.parse(image);
  } catch {
    throw new TerminalError('E_CARD_STATE', 'the card image is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new TerminalError('E_CARD_STATE', 'the card image is not an object');
  const v1 = raw as Record<string, unknown>;
  if (v1.format === STATE_FORMAT) return { migrated: false, state: parse(v1) };
  if (v1.format !== 1)
    throw new TerminalError(
      'E_CARD_VERSION',
      `card image format ${String(v1.format)} is not one this tool knows`,
    );
  if ('cardholderPolicy' in v1)
    throw new TerminalError('E_CARD_STATE', 'a version-1 image with a version-2 field');
  const state = parse({
    ...v1,
    format: STATE_FORMAT,
    ...(v1.owner === undefined
      ? {}
      : {
          cardholderPolicy: {
            perPayment: limits.perPayment,
            cumulative: limits.cumulative,
            consecutive: limits.consecutive,
            noPinTotal: 0,
            noPinCount: 0,
          },
        }),
  });
  return { migrated: true, state, from: 1 };
}

function parse(raw: unknown): SettlementState {
  const parsed = settlementStateSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TerminalError(
      'E_CARD_STATE',
      `the card image is not valid: ${parsed.error.message.slice(0, 300)}`,
    );
  }
  return parsed.data;
}
