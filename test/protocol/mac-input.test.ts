import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../protocol/crypto-suite.js';
import {
  MAC_LABEL,
  type TransferTerms,
  transferMac,
  transferMacMessage,
} from '../../protocol/settlement/mac-input.js';

const terms: TransferTerms = {
  transferKeyId: 3,
  payerId: randomBytes(16),
  payeeId: randomBytes(16),
  currency: 978,
  amount: 1234,
  date: 1_800_000_000,
  txRandom: randomBytes(16),
  rxRandom: randomBytes(16),
};
const key = randomBytes(16);

describe('value-transfer MAC inputs', () => {
  it('are domain-separated: no two purposes share a MAC', () => {
    const macs = Object.values(MAC_LABEL).map((label) =>
      Buffer.from(transferMac(key, label, terms)).toString('hex'),
    );
    expect(new Set(macs).size).toBe(macs.length);
  });

  it('bind every field: changing any one changes the MAC', () => {
    const base = transferMac(key, MAC_LABEL.RECEPTION_CHALLENGE, terms);
    const variants: Partial<TransferTerms>[] = [
      { transferKeyId: 4 },
      { payerId: terms.payeeId, payeeId: terms.payerId },
      { currency: 392 },
      { amount: 1235 },
      { date: terms.date + 1 },
      { txRandom: randomBytes(16) },
      { rxRandom: randomBytes(16) },
    ];
    for (const v of variants)
      expect(transferMac(key, MAC_LABEL.RECEPTION_CHALLENGE, { ...terms, ...v })).not.toEqual(base);
  });

  it('has a fixed layout of 86 bytes', () => {
    expect(transferMacMessage(MAC_LABEL.ABORT_PROOF, terms)).toHaveLength(86);
    expect(() =>
      transferMacMessage(MAC_LABEL.ABORT_PROOF, { ...terms, payerId: new Uint8Array(15) }),
    ).toThrow(RangeError);
  });
});
