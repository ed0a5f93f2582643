// BER-TLV (ISO/IEC 7816-4 §5.2) with one- and two-byte tags and definite lengths up to 0xFFFF.
import { concat } from './bytes.js';

export interface Tlv {
  tag: number;
  value: Uint8Array;
}

function encodeTag(tag: number): Uint8Array {
  if (tag < 0 || tag > 0xffff) throw new RangeError(`tag out of range: ${tag}`);
  return tag > 0xff ? Uint8Array.of(tag >> 8, tag & 0xff) : Uint8Array.of(tag);
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  if (length <= 0xff) return Uint8Array.of(0x81, length);
  if (length <= 0xffff) return Uint8Array.of(0x82, length >> 8, length & 0xff);
  throw new RangeError('TLV value too long');
}

export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  return concat(encodeTag(tag), encodeLength(value.length), value);
}

export function encodeTlvList(items: Tlv[]): Uint8Array {
  return concat(...items.map((t) => encodeTlv(t.tag, t.value)));
}

/** Parses a flat list of TLVs; throws SyntaxError on any malformed or truncated item. */
export function parseTlvList(bytes: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let i = 0;
  while (i < bytes.length) {
    let tag = bytes[i++]!;
    if ((tag & 0x1f) === 0x1f) {
      if (i >= bytes.length) throw new SyntaxError('truncated TLV tag');
      const second = bytes[i++]!;
      if (second & 0x80) throw new SyntaxError('tags longer than two bytes are not used');
      tag = (tag << 8) | second;
    }
    if (i >= bytes.length) throw new SyntaxError('truncated TLV length');
    let length = bytes[i++]!;
    if (length === 0x81) {
      if (i + 1 > bytes.length) throw new SyntaxError('truncated TLV length');
      length = bytes[i++]!;
    } else if (length === 0x82) {
      if (i + 2 > bytes.length) throw new SyntaxError('truncated TLV length');
      length = (bytes[i]! << 8) | bytes[i + 1]!;
      i += 2;
    } else if (length & 0x80) {
      throw new SyntaxError('unsupported TLV length form');
    }
    if (i + length > bytes.length) throw new SyntaxError('TLV value runs past the end');
    out.push({ tag, value: bytes.slice(i, i + length) });
    i += length;
  }
  return out;
}

export function findTlv(items: Tlv[], tag: number): Uint8Array | undefined {
  return items.find((t) => t.tag === tag)?.value;
}
