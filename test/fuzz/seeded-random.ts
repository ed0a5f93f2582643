// Replaces the platform random source (crypto.getRandomValues, under every noble random: card
// randoms, P-256 keys, GCM nonces) with a seeded generator while a fuzz case runs, so that one seed
// replays the very same bytes: the same keys, the same card answers, the same counterexample.
// Test code only. Runs must not overlap: a second seeded run while one is active is refused.
import { sha256 } from '@noble/hashes/sha2.js';

let active = false;

/** A deterministic byte stream: SHA-256 in counter mode over the seed. */
export function seededBytes(seed: number | string): (out: Uint8Array) => Uint8Array {
  const key = new TextEncoder().encode(`fuzz-seed:${seed}`);
  let counter = 0;
  let block = new Uint8Array(0);
  let used = 0;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      if (used === block.length) {
        const input = new Uint8Array(key.length + 4);
        input.set(key);
        new DataView(input.buffer).setUint32(key.length, counter++);
        block = sha256(input);
        used = 0;
      }
      out[i] = block[used++]!;
    }
    return out;
  };
}

/** Runs `work` with crypto.getRandomValues drawing from `seed`; the platform source is restored after. */
export async function withSeededRandom<T>(seed: number | string, work: () => Promise<T> | T): Promise<T> {
  if (active) throw new Error('seeded random runs must not overlap');
  active = true;
  const crypto = globalThis.crypto;
  const next = seededBytes(seed);
  // An own property shadows Crypto.prototype.getRandomValues; deleting it restores the platform one.
  Object.defineProperty(crypto, 'getRandomValues', {
    configurable: true,
    writable: true,
    value: <A extends ArrayBufferView | null>(array: A): A => {
      if (array) next(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
      return array;
    },
  });
  try {
    return await work();
  } finally {
    delete (crypto as { getRandomValues?: unknown }).getRandomValues;
    active = false;
  }
}
