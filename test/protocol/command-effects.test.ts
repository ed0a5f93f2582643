// What each command may change of what the terminal keeps for a card's presence (docs/protocol.md
// §4.8): reads change nothing; value, key and content commands the info and the balance; PIN
// commands the owner level too; SELECT, SESSION END, unknown classes and malformed APDUs everything.
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../protocol/bytes.js';
import { commandEffect } from '../../protocol/settlement/command-effects.js';

const effect = (hex: string) => commandEffect(fromHex(hex));
const NOTHING = { info: false, balance: false, ownerLevel: false, endsSession: false, authenticates: false };
const DATA = { ...NOTHING, info: true, balance: true };
const EVERYTHING = { ...DATA, ownerLevel: true, endsSession: true };

describe('command effects (§4.8)', () => {
  it('reads, GET RESPONSE and the first two key-update commands change nothing', () => {
    for (const hex of [
      '80100000000000',
      '8012000000',
      '00C0000000',
      '803E010000',
      '8058000000',
      '807E0100',
      '8020010004',
      '8022010004',
    ])
      expect(effect(hex), hex).toEqual(NOTHING);
  });

  it('value, key and content commands may change the info and the balance, not the access level', () => {
    for (const hex of [
      '8030000000',
      '8034000000',
      '8038000000',
      '8024010000',
      '8040000000',
      '8070000000',
      '8076000000',
    ])
      expect(effect(hex), hex).toEqual(DATA);
  });

  it('VERIFY and RESET RETRY COUNTER may change the owner level too', () => {
    expect(effect('00200080043132333400')).toEqual({ ...DATA, ownerLevel: true });
    expect(effect('002C008000')).toEqual({ ...DATA, ownerLevel: true });
  });

  it('VERIFY without data only asks the PIN state: it changes nothing (§6)', () => {
    for (const hex of ['00200080', '0020008000', '00200080000000']) expect(effect(hex), hex).toEqual(NOTHING);
    // With data (a PIN try) or a length byte it is a try again.
    expect(effect('002000800431323334')).toEqual({ ...DATA, ownerLevel: true });
  });

  it('authentication may change whether the balance is granted; only issuer mode may grant it', () => {
    expect(effect('8050000004')).toEqual({ ...NOTHING, balance: true });
    expect(effect('8050010004')).toEqual({ ...NOTHING, balance: true, authenticates: true });
    expect(effect('8052000000')).toEqual({ ...NOTHING, balance: true });
    expect(effect('8054000000')).toEqual({ ...NOTHING, balance: true });
  });

  it('SELECT, SESSION END, another class and anything malformed may change everything', () => {
    for (const hex of ['00A4040006', '8056000000', '0010000000', 'A010000000', '8010', ''])
      expect(effect(hex), hex).toEqual(EVERYTHING);
  });
});
