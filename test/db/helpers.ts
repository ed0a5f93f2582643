// Shared helpers for the database tests: a fresh temporary directory per test, and a raw
// better-sqlite3 connection for playing the attacker (or an older terminal) against the file.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';

interface Closable {
  close(): void;
}

export function useTempDir(): { path(name?: string): string; track<T extends Closable>(db: T): T } {
  let dir = '';
  const open: Closable[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'terminal-db-'));
  });
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    path: (name = 'terminal.db') => join(dir, name),
    track: (db) => {
      open.push(db);
      return db;
    },
  };
}

export function rawOpen(path: string): Database.Database {
  return new Database(path);
}

// A deterministic clock: 2025-01-01T00:00:00Z, one second later on every call.
export function stepClock(start = Date.UTC(2025, 0, 1)): () => Date {
  let t = start;
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}

export function tableNames(db: Database.Database, type: 'table' | 'index' | 'trigger'): string[] {
  return db
    .prepare("SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all(type) as string[];
}

export function columns(
  db: Database.Database,
  table: string,
): { name: string; type: string; notnull: number; pk: number }[] {
  return (
    db.pragma(`table_info(${table})`) as { name: string; type: string; notnull: number; pk: number }[]
  ).map(({ name, type, notnull, pk }) => ({ name, type, notnull, pk }));
}

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}
