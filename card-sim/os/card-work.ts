// What a card command did, counted while it ran: each crypto primitive (through the meter of
// protocol/crypto-suite.ts) and each commit of persistent memory with the bytes it would write on a
// chip. A latency model turns this into processing time (card-sim/transport/chip-timing.ts). Only
// work inside measure() counts: the terminal's own crypto never runs inside a card command.
import { type CryptoMeter, type CryptoOperation, withCryptoMeter } from '../../protocol/crypto-suite.js';
import type { PersistentStore } from './persistent-store.js';
import { persistentWriteRegions } from './persistent-writes.js';

export interface CryptoUse {
  operation: CryptoOperation;
  /** Message, plaintext or output bytes, as the operation defines them. */
  bytes: number;
  /** Associated data (AES-GCM), else 0. */
  aadBytes: number;
}

export interface CardWork {
  crypto: CryptoUse[];
  /** One entry per commit of persistent memory: the bytes of each region it wrote. */
  commits: number[][];
}

export function emptyWork(): CardWork {
  return { crypto: [], commits: [] };
}

/** Counts a card's work command by command. */
export class CardWorkMeter implements CryptoMeter {
  private current: CardWork | undefined;

  /** Counts the commits of `store` made during measure(). One meter per store: it takes the store's observer slot. */
  watch<T>(store: PersistentStore<T>): void {
    store.commitObserver = (before, after) => {
      this.current?.commits.push(persistentWriteRegions(before, after));
    };
  }

  count(operation: CryptoOperation, bytes: number, aadBytes = 0): void {
    this.current?.crypto.push({ operation, bytes, aadBytes });
  }

  /** Runs one card command (synchronous) and returns its result with the work it did. */
  measure<R>(command: () => R): { result: R; work: CardWork } {
    const outer = this.current;
    const work = emptyWork();
    this.current = work;
    try {
      return { result: withCryptoMeter(this, command), work };
    } finally {
      this.current = outer;
    }
  }
}
