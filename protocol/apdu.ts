// ISO/IEC 7816-4 command and response APDUs, short and extended length (cases 1, 2S/E, 3S/E, 4S/E).
import { CardStatusError, type StatusWord, SW } from './status-words.js';

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  /** Expected response length Ne; 0 means no data expected. 256 (short) or 65536 (extended) mean "all". */
  ne: number;
  extended: boolean;
}

export const MAX_SHORT_NC = 255;
export const MAX_EXTENDED_NC = 65535;

/** Parses a command APDU; malformed lengths are refused with 6700 as a card would. */
export function parseCommandApdu(raw: Uint8Array): CommandApdu {
  if (raw.length < 4) throw new CardStatusError(SW.WRONG_LENGTH, 'APDU shorter than its header');
  const [cla, ins, p1, p2] = [raw[0]!, raw[1]!, raw[2]!, raw[3]!];
  const body = raw.subarray(4);
  const base = { cla, ins, p1, p2 };
  if (body.length === 0) return { ...base, data: new Uint8Array(0), ne: 0, extended: false }; // case 1
  if (body.length === 1) return { ...base, data: new Uint8Array(0), ne: body[0] || 256, extended: false }; // 2S
  if (body[0] !== 0) {
    // short Lc
    const nc = body[0]!;
    if (body.length === 1 + nc) return { ...base, data: body.slice(1), ne: 0, extended: false }; // 3S
    if (body.length === 2 + nc)
      return { ...base, data: body.slice(1, 1 + nc), ne: body[1 + nc] || 256, extended: false }; // 4S
    throw new CardStatusError(SW.WRONG_LENGTH, 'Lc does not match the data length');
  }
  // body[0] === 0 and length > 1: extended length
  if (body.length === 3) {
    const le = (body[1]! << 8) | body[2]!;
    return { ...base, data: new Uint8Array(0), ne: le || 65536, extended: true }; // 2E
  }
  if (body.length < 3) throw new CardStatusError(SW.WRONG_LENGTH, 'truncated extended length');
  const nc = (body[1]! << 8) | body[2]!;
  if (nc === 0) throw new CardStatusError(SW.WRONG_LENGTH, 'extended Lc of zero');
  if (body.length === 3 + nc) return { ...base, data: body.slice(3, 3 + nc), ne: 0, extended: true }; // 3E
  if (body.length === 5 + nc) {
    const le = (body[3 + nc]! << 8) | body[4 + nc]!;
    return { ...base, data: body.slice(3, 3 + nc), ne: le || 65536, extended: true }; // 4E
  }
  throw new CardStatusError(SW.WRONG_LENGTH, 'extended Lc does not match the data length');
}

/** Encodes a command APDU, choosing short form when it fits and extended form otherwise. */
export function encodeCommandApdu(cmd: {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data?: Uint8Array;
  ne?: number;
}): Uint8Array {
  const data = cmd.data ?? new Uint8Array(0);
  const ne = cmd.ne ?? 0;
  if (data.length > MAX_EXTENDED_NC) throw new RangeError('command data too long for an APDU');
  if (ne < 0 || ne > 65536) throw new RangeError('Ne out of range');
  const header = [cmd.cla, cmd.ins, cmd.p1, cmd.p2];
  const extended = data.length > MAX_SHORT_NC || ne > 256;
  const out: number[] = [...header];
  if (!extended) {
    if (data.length > 0) out.push(data.length, ...data);
    if (ne > 0) out.push(ne === 256 ? 0 : ne);
    return Uint8Array.from(out);
  }
  out.push(0);
  if (data.length > 0) {
    out.push(data.length >> 8, data.length & 0xff);
    for (const b of data) out.push(b);
  }
  if (ne > 0) {
    const le = ne === 65536 ? 0 : ne;
    out.push(le >> 8, le & 0xff);
  }
  return Uint8Array.from(out);
}

export interface ResponseApdu {
  data: Uint8Array;
  sw: StatusWord;
}

export function parseResponseApdu(raw: Uint8Array): ResponseApdu {
  if (raw.length < 2) throw new RangeError('response APDU shorter than its status word');
  return { data: raw.slice(0, -2), sw: (raw[raw.length - 2]! << 8) | raw[raw.length - 1]! };
}

export function encodeResponseApdu(data: Uint8Array, sw: StatusWord): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = sw >> 8;
  out[data.length + 1] = sw & 0xff;
  return out;
}
