import { describe, expect, it } from 'vitest';
import {
  encodeCommandApdu,
  encodeResponseApdu,
  parseCommandApdu,
  parseResponseApdu,
} from '../../protocol/apdu.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import type { CardStatusError } from '../../protocol/status-words.js';

const sw = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as CardStatusError).sw;
  }
  return undefined;
};

describe('command APDU (ISO/IEC 7816-4 §5.1)', () => {
  it('parses the four short cases', () => {
    expect(parseCommandApdu(fromHex('80100000'))).toMatchObject({ ins: 0x10, ne: 0, extended: false });
    expect(parseCommandApdu(fromHex('8010000000'))).toMatchObject({ ne: 256, extended: false });
    expect(parseCommandApdu(fromHex('8010000002AABB'))).toMatchObject({ data: fromHex('AABB'), ne: 0 });
    expect(parseCommandApdu(fromHex('8010000002AABB10'))).toMatchObject({ data: fromHex('AABB'), ne: 16 });
  });

  it('parses the extended cases', () => {
    expect(parseCommandApdu(fromHex('80100000000000'))).toMatchObject({ ne: 65536, extended: true });
    const data = new Uint8Array(300).fill(7);
    const cmd = encodeCommandApdu({ cla: 0x80, ins: 0x22, p1: 2, p2: 0, data, ne: 65536 });
    expect(toHex(cmd.subarray(0, 7))).toBe('8022020000012C');
    const parsed = parseCommandApdu(cmd);
    expect(parsed).toMatchObject({ ne: 65536, extended: true });
    expect(parsed.data).toEqual(data);
    expect(parseCommandApdu(encodeCommandApdu({ cla: 0x80, ins: 1, p1: 0, p2: 0, data }))).toMatchObject({
      ne: 0,
      extended: true,
    });
  });

  it('round-trips short APDUs through the encoder', () => {
    const apdu = encodeCommandApdu({
      cla: 0,
      ins: 0xa4,
      p1: 4,
      p2: 0,
      data: fromHex('F053544C4D01'),
      ne: 256,
    });
    expect(toHex(apdu)).toBe('00A4040006F053544C4D0100');
  });

  it('refuses inconsistent lengths with 6700', () => {
    expect(sw(() => parseCommandApdu(fromHex('801000')))).toBe(0x6700);
    expect(sw(() => parseCommandApdu(fromHex('8010000003AABB')))).toBe(0x6700);
    expect(sw(() => parseCommandApdu(fromHex('8010000001AABBCC')))).toBe(0x6700);
    expect(sw(() => parseCommandApdu(fromHex('801000000000')))).toBe(0x6700);
    expect(sw(() => parseCommandApdu(fromHex('8010000000000000')))).toBe(0x6700); // extended Lc 0
    expect(sw(() => parseCommandApdu(fromHex('80100000000005AA')))).toBe(0x6700);
  });

  it('refuses to encode impossible lengths', () => {
    expect(() => encodeCommandApdu({ cla: 0, ins: 0, p1: 0, p2: 0, data: new Uint8Array(65536) })).toThrow(
      RangeError,
    );
    expect(() => encodeCommandApdu({ cla: 0, ins: 0, p1: 0, p2: 0, ne: 65537 })).toThrow(RangeError);
  });
});

describe('response APDU', () => {
  it('splits data and status word', () => {
    expect(parseResponseApdu(encodeResponseApdu(fromHex('0102'), 0x9000))).toEqual({
      data: fromHex('0102'),
      sw: 0x9000,
    });
    expect(() => parseResponseApdu(fromHex('90'))).toThrow(RangeError);
  });
});
