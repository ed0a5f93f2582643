// Java Card-style persistent memory: every update runs inside an atomic transaction whose writes
// reach the backend as one image, or not at all. A tearing policy can cut power at any commit,
// before the image is written (the card keeps the old state) or after (the new state is stored but
// the card never answers), which is how tests reach every power-loss point.
import type { PersistenceBackend } from './persistence-backend.js';

export class PowerLossError extends Error {
  constructor(readonly commitIndex: number) {
    super(`power lost at persistent write #${commitIndex}`);
    this.name = 'PowerLossError';
  }
}

export type TearingDecision = 'proceed' | 'cut-before-write' | 'cut-after-write';
/** Called before each commit with its running index (from 0, across the store's lifetime). */
export type TearingPolicy = (commitIndex: number) => TearingDecision;

export class PersistentStore<T> {
  private committed: T;
  private commits = 0;
  private inTransaction = false;
  tearing: TearingPolicy | undefined;
  /** Called after every commit that reached the backend, with the state before and after (a work meter). */
  commitObserver: ((before: T, after: T) => void) | undefined;

  constructor(
    private readonly backend: PersistenceBackend,
    private readonly codec: { encode(state: T): string; decode(image: string): T },
    initial?: T,
  ) {
    const image = backend.load();
    if (image !== undefined) this.committed = codec.decode(image);
    else if (initial !== undefined) {
      this.committed = initial;
      backend.store(codec.encode(initial));
    } else throw new Error('persistent store is empty and no initial state was given');
  }

  /** A private deep copy of the committed state: callers cannot change persistent memory by mutation. */
  read(): T {
    return structuredClone(this.committed);
  }

  /** Number of commits so far (tests use it to enumerate tearing points). */
  get commitCount(): number {
    return this.commits;
  }

  /**
   * Runs `mutate` on a working copy and commits the result atomically. If `mutate` throws, nothing
   * is written (Java Card's abortTransaction). Nested calls are refused: one command, one commit.
   */
  transaction<R>(mutate: (draft: T) => R): R {
    if (this.inTransaction) throw new Error('nested persistent transaction');
    this.inTransaction = true;
    try {
      const draft = structuredClone(this.committed);
      const result = mutate(draft);
      this.commit(draft);
      return result;
    } finally {
      this.inTransaction = false;
    }
  }

  /** Re-reads persistent memory, as a card does at power-up. */
  reload(): void {
    const image = this.backend.load();
    if (image === undefined) throw new Error('persistent memory vanished');
    this.committed = this.codec.decode(image);
  }

  private commit(next: T): void {
    const index = this.commits++;
    const decision = this.tearing?.(index) ?? 'proceed';
    if (decision === 'cut-before-write') throw new PowerLossError(index);
    const image = this.codec.encode(next);
    this.backend.store(image);
    const before = this.committed;
    this.committed = this.codec.decode(image);
    this.commitObserver?.(before, this.committed);
    if (decision === 'cut-after-write') throw new PowerLossError(index);
  }
}
