// The value-transfer authentication codes (seed 002 Fig. 4, hardened). Every MAC is AES-128-CMAC under
// the transfer key over one fixed-layout message whose first 8 bytes name its purpose, so a
// transmission challenge can never be accepted as a reception challenge, an acknowledgement or an
// abort proof. Each message binds the key ID, both card identities, the currency, the amount, the
// transaction date and both randoms.
import { ascii, concat, u16, u32 } from '../bytes.js';
import { aesCmac, RANDOM_LENGTH } from '../crypto-suite.js';
import { HOLDER_ID_LENGTH } from './commands.js';

export const MAC_LABEL = {
  /** Payer → payee: "I opened a debit for exactly these terms" (version 2: needed to create a pending credit). */
  DEBIT_PROOF: 'STLM2IDP',
  /** Payee → payer: "I hold a pending credit for exactly this transaction" (seed: transmission challenge 224). */
  TRANSMISSION_CHALLENGE: 'STLM1TXC',
  /** Payer → payee: "I have debited; credit exactly this" (seed: reception challenge 226). */
  RECEPTION_CHALLENGE: 'STLM1RXC',
  /** Payee → payer: "I have credited" (added: lets the payer settle its debit record). */
  CREDIT_ACKNOWLEDGEMENT: 'STLM1ACK',
  /** Payer → payee: "I never debited and never will" (added: lets the payee drop a pending credit). */
  ABORT_PROOF: 'STLM1ABT',
  /** Payee → payer: "I gave up this credit and never will credit it" (version 2: lets the payer refund). */
  RELEASE_PROOF: 'STLM2RLS',
} as const;
export type MacLabel = (typeof MAC_LABEL)[keyof typeof MAC_LABEL];

export interface TransferTerms {
  transferKeyId: number;
  payerId: Uint8Array;
  payeeId: Uint8Array;
  currency: number;
  amount: number;
  date: number;
  /** Payer's transmission random; also the transaction ID on both cards. */
  txRandom: Uint8Array;
  /** Payee's reception random; all zeros in a debit or abort proof made before the payer saw it. */
  rxRandom: Uint8Array;
}

export const ZERO_RANDOM = new Uint8Array(RANDOM_LENGTH);

export function transferMacMessage(label: MacLabel, t: TransferTerms): Uint8Array {
  if (t.payerId.length !== HOLDER_ID_LENGTH || t.payeeId.length !== HOLDER_ID_LENGTH) {
    throw new RangeError('holder IDs are 16 bytes');
  }
  if (t.txRandom.length !== RANDOM_LENGTH || t.rxRandom.length !== RANDOM_LENGTH) {
    throw new RangeError('randoms are 16 bytes');
  }
  return concat(
    ascii(label),
    u32(t.transferKeyId),
    t.payerId,
    t.payeeId,
    u16(t.currency),
    u32(t.amount),
    u32(t.date),
    t.txRandom,
    t.rxRandom,
  );
}

export function transferMac(transferKey: Uint8Array, label: MacLabel, terms: TransferTerms): Uint8Array {
  return aesCmac(transferKey, transferMacMessage(label, terms));
}
