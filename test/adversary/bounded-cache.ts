// A cache of bounded size that does not thrash: two generations, the current one filled and the
// previous one read; when the current one is full it becomes the previous one (the older entries
// are dropped), and an entry found in the previous generation moves to the current one. What is
// used at every level of a breadth-first run stays; what a level no longer touches goes.
//
// The explorer's caches are all memoizations of deterministic functions (a card's answer to a
// command in a memory state, the checks of an image...): what one holds changes the run's speed,
// never its results. `plain` turns every cache off, so a test can show exactly that (explorer.test.ts).
export class BoundedCache<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();

  constructor(
    /** Entries per generation. */
    private readonly limit: number,
    private readonly plain = false,
  ) {}

  get(key: K): V | undefined {
    if (this.plain) return undefined;
    const value = this.current.get(key);
    if (value !== undefined) return value;
    const old = this.previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): void {
    if (this.plain) return;
    if (this.current.size >= this.limit) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }
}
