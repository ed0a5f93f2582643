// Small byte helpers shared by card and terminal. Nothing here is cryptographic.

export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function u32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new RangeError(`not a uint32: ${value}`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

export function readU32(bytes: Uint8Array, offset = 0): number {
  if (offset + 4 > bytes.length) throw new RangeError('read past end');
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0);
}

export function u16(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`not a uint16: ${value}`);
  return Uint8Array.of(value >> 8, value & 0xff);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex').toUpperCase();
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new SyntaxError(`not hex: ${hex}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
