// The one assertion every refusal test makes: the card answered with this status word.
import { expect } from 'vitest';
import { isTerminalError } from '../../protocol/errors.js';

export async function refusedWith(promise: Promise<unknown>, sw: number): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTerminalError(error, 'E_CARD_STATUS'), String(error)).toBe(true);
  expect((error as { details: { sw: number } }).details.sw.toString(16)).toBe(sw.toString(16));
}
