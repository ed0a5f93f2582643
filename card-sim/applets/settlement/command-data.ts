// Reads the fixed-layout data field of a command; any length mismatch is a 6700 refusal.
import { readU32 } from '../../../protocol/bytes.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';

export class CommandData {
  private offset = 0;
  constructor(private readonly data: Uint8Array) {}

  static expectLength(data: Uint8Array, length: number): CommandData {
    if (data.length !== length)
      throw new CardStatusError(SW.WRONG_LENGTH, `data field must be ${length} bytes`);
    return new CommandData(data);
  }

  static expectAtLeast(data: Uint8Array, length: number): CommandData {
    if (data.length < length)
      throw new CardStatusError(SW.WRONG_LENGTH, `data field must be at least ${length} bytes`);
    return new CommandData(data);
  }

  bytes(length: number): Uint8Array {
    if (this.offset + length > this.data.length) throw new CardStatusError(SW.WRONG_LENGTH);
    const out = this.data.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u32(): number {
    const value = readU32(this.bytes(4));
    return value;
  }

  u16(): number {
    const b = this.bytes(2);
    return (b[0]! << 8) | b[1]!;
  }

  rest(): Uint8Array {
    const out = this.data.slice(this.offset);
    this.offset = this.data.length;
    return out;
  }
}

/** Refuses any P1 outside `allowedP1` and any P2 other than 00 with 6A86. */
export function requireParameters(cmd: { p1: number; p2: number }, allowedP1: readonly number[]): void {
  if (!allowedP1.includes(cmd.p1) || cmd.p2 !== 0) throw new CardStatusError(SW.INCORRECT_P1P2);
}
