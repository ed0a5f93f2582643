import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileBackend, MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { PersistentStore, PowerLossError } from '../../card-sim/os/persistent-store.js';

type S = { a: number; b: number };
const codec = { encode: (s: S) => JSON.stringify(s), decode: (t: string) => JSON.parse(t) as S };

describe('persistent store', () => {
  it('commits several writes atomically or not at all', () => {
    const store = new PersistentStore(new MemoryBackend(), codec, { a: 1, b: 1 });
    store.transaction((s) => {
      s.a = 2;
      s.b = 2;
    });
    expect(store.read()).toEqual({ a: 2, b: 2 });
    expect(() =>
      store.transaction((s) => {
        s.a = 3;
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(store.read()).toEqual({ a: 2, b: 2 });
  });

  it('tells its commit observer each commit that reached memory, never an aborted or torn-before one', () => {
    const store = new PersistentStore(new MemoryBackend(), codec, { a: 1, b: 1 });
    const seen: [S, S][] = [];
    store.commitObserver = (before, after) => seen.push([before, after]);
    store.transaction((s) => {
      s.a = 2;
    });
    expect(() =>
      store.transaction(() => {
        throw new Error('abort');
      }),
    ).toThrow('abort');
    store.tearing = () => 'cut-before-write';
    expect(() => store.transaction((s) => Object.assign(s, { b: 7 }))).toThrow(PowerLossError);
    store.tearing = () => 'cut-after-write';
    expect(() => store.transaction((s) => Object.assign(s, { b: 8 }))).toThrow(PowerLossError);
    expect(seen).toEqual([
      [
        { a: 1, b: 1 },
        { a: 2, b: 1 },
      ],
      [
        { a: 2, b: 1 },
        { a: 2, b: 8 },
      ],
    ]);
  });

  it('hands out copies: mutating a read does not touch persistent memory', () => {
    const store = new PersistentStore(new MemoryBackend(), codec, { a: 1, b: 1 });
    store.read().a = 99;
    expect(store.read().a).toBe(1);
  });

  it('tears before the write (old state survives) or after it (new state survives)', () => {
    const backend = new MemoryBackend();
    const store = new PersistentStore(backend, codec, { a: 1, b: 1 });
    store.tearing = () => 'cut-before-write';
    expect(() => store.transaction((s) => Object.assign(s, { a: 5, b: 5 }))).toThrow(PowerLossError);
    expect(new PersistentStore(backend, codec).read()).toEqual({ a: 1, b: 1 });
    store.tearing = () => 'cut-after-write';
    expect(() => store.transaction((s) => Object.assign(s, { a: 6, b: 6 }))).toThrow(PowerLossError);
    expect(new PersistentStore(backend, codec).read()).toEqual({ a: 6, b: 6 });
  });

  it('refuses nested transactions', () => {
    const store = new PersistentStore(new MemoryBackend(), codec, { a: 1, b: 1 });
    expect(() => store.transaction(() => store.transaction(() => 0))).toThrow('nested');
    expect(store.read()).toEqual({ a: 1, b: 1 });
  });

  it('keeps one file per card, replaced atomically, readable only by its owner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'card-'));
    const path = join(dir, 'card.json');
    const store = new PersistentStore(new FileBackend(path), codec, { a: 1, b: 1 });
    store.transaction((s) => Object.assign(s, { a: 7 }));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ a: 7, b: 1 });
    expect(readdirSync(dir)).toEqual(['card.json']); // no temp file left behind
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(new PersistentStore(new FileBackend(path), codec).read()).toEqual({ a: 7, b: 1 });
  });
});
