// Money is integers in minor units everywhere. An amount the cards can move is a whole number above
// zero that fits their 32-bit purse: this one rule is what the IPC contract validates operator
// requests with, and what both engines check before they touch a card. Pure (zod only): the
// renderer bundles it through the contract.
import { z } from 'zod';

/** The largest amount a card's purse can hold or move, in minor units. */
export const MAX_AMOUNT = 0xffffffff;

export const AMOUNT_RULE = 'the amount must be a whole number of minor units above zero';

export const amountSchema = z.number().int().min(1).max(MAX_AMOUNT);

export function isAmount(value: unknown): value is number {
  return amountSchema.safeParse(value).success;
}
