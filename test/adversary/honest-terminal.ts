// An honest terminal's value transfer, on cards reached through the terminal's own protocol client
// (SettlementClient): the five steps of docs/protocol.md §4.3 in order, asking for the PIN when the
// card needs it (§4.6) and, when the PIN is blocked, having the issuer unblock it first (§6).
import { isTerminalError } from '../../protocol/errors.js';
import type { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { SW } from '../../protocol/status-words.js';

export interface HonestCard {
  name: string;
  client: SettlementClient;
  holderId: Uint8Array;
  pin: string;
  /** The issuer's unblock code for the PIN. */
  puk: string;
}

/** The status word of a card's refusal, or undefined for any other error. */
export function refusalSw(e: unknown): number | undefined {
  return isTerminalError(e, 'E_CARD_STATUS') ? Number(e.details.sw) : undefined;
}

/** Runs a payment step; on 9403 verifies the PIN, on 6983 has the issuer reset it first; then once more. */
export async function withCardholder<T>(card: HonestCard, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    const sw = refusalSw(e);
    if (sw === SW.AUTH_METHOD_BLOCKED) await card.client.resetRetryCounter(card.puk, card.pin);
    else if (sw !== SW.CARDHOLDER_VERIFICATION_REQUIRED) throw e;
    await card.client.verifyPin(card.pin);
    return step();
  }
}

export interface TransferValues {
  txRandom: Uint8Array;
  debitProof: Uint8Array;
  rxRandom: Uint8Array;
  challenge: Uint8Array;
  reception: Uint8Array;
  ack: Uint8Array;
}

export type TransferEnd = 'complete' | 'aborted' | 'refunded';

/**
 * One honest transfer of `amount` from `payer` to `payee`. `end` chooses how it ends: completed, or
 * stopped before the debit (abort proof to the payee), or debited and then released by the payee and
 * refunded to the payer (as an honest recovery does when the payee cannot be credited).
 */
export async function honestTransfer(
  payer: HonestCard,
  payee: HonestCard,
  amount: number,
  date: number,
  currency: number,
  end: TransferEnd = 'complete',
): Promise<Partial<TransferValues>> {
  const terms = (counterpart: HonestCard) => ({
    counterpartId: counterpart.holderId,
    currency,
    amount,
    date,
  });
  const debit = await withCardholder(payer, () => payer.client.initiateDebit(terms(payee)));
  const { txRandom, debitProof } = debit;
  const { rxRandom, challenge } = await payee.client.initiateCredit(terms(payer), debit);
  if (end === 'aborted') {
    const abortProof = await payer.client.abortDebit(txRandom);
    await payee.client.cancelCredit(txRandom, abortProof);
    return { txRandom, debitProof, rxRandom, challenge };
  }
  const reception = await withCardholder(payer, () => payer.client.debit(txRandom, rxRandom, challenge));
  if (end === 'refunded') {
    const releaseProof = await payee.client.releaseCredit(txRandom);
    await payer.client.refundDebit(txRandom, rxRandom, releaseProof);
    return { txRandom, debitProof, rxRandom, challenge, reception };
  }
  const ack = await payee.client.credit(txRandom, reception);
  await payer.client.acknowledgeDebit(txRandom, ack);
  return { txRandom, debitProof, rxRandom, challenge, reception, ack };
}
