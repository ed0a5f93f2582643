// The journal's hash chain: h(seq) = SHA-256(h(seq - 1) ‖ seq, flow ‖ record), h(0) = 32 zero bytes
// (journal-codec.ts has the bytes). Only the head, the checkpoints and the first
// TAG_LENGTH bytes of each link are stored (docs/journal.md, "Hash chain"): a verify recomputes the
// chain and compares, which finds the first entry whose bytes changed.
import { sha256 } from '@noble/hashes/sha2.js';
import { type LinkFields, linkHeaderLength, writeLinkHeader } from './journal-codec.js';

export const HASH_LENGTH = 32;
/** Bytes of each link kept with its entry: enough that a changed entry is named, not just found. */
export const TAG_LENGTH = 8;
/** A checkpoint (the chain hash) is stored every this many entries. */
export const CHECKPOINT_INTERVAL = 4096;

export const GENESIS = new Uint8Array(HASH_LENGTH);

/**
 * Computes chain links one after another with one SHA-256 instance and one buffer, reused: noble's
 * sha256() allocates a hasher per call, which costs as much as hashing a short entry.
 */
export class ChainHasher {
  private readonly initial = sha256.create();
  private readonly work = this.initial.clone();
  private buffer = new Uint8Array(1024);

  /** h = SHA-256(prev ‖ header(fields) ‖ record), written into `into` (a fresh array if absent). */
  link(
    prev: Uint8Array,
    fields: LinkFields,
    record: Uint8Array,
    into: Uint8Array = new Uint8Array(HASH_LENGTH),
  ): Uint8Array {
    return this.linkOf(prev, fields, record, 0, record.length, into);
  }

  /**
   * The same for the record at src[start, end): a verify reads a chunk of entries as one array and
   * hashes each in place, with no view made per entry (a Buffer's subarray costs more than hashing
   * a short entry's header).
   */
  linkOf(
    prev: Uint8Array,
    fields: LinkFields,
    src: Uint8Array,
    start: number,
    end: number,
    into: Uint8Array = new Uint8Array(HASH_LENGTH),
  ): Uint8Array {
    const need = HASH_LENGTH + linkHeaderLength(fields) + (end - start);
    if (need > this.buffer.length) this.buffer = new Uint8Array(need * 2);
    const buf = this.buffer;
    buf.set(prev, 0);
    let at = writeLinkHeader(buf, HASH_LENGTH, fields);
    for (let i = start; i < end; i++) buf[at++] = src[i]!;
    this.initial._cloneInto(this.work);
    this.work.update(buf.subarray(0, at));
    this.work.digestInto(into);
    return into;
  }
}

export function tagOf(hash: Uint8Array): Uint8Array {
  return hash.slice(0, TAG_LENGTH);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
