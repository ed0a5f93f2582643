import type Database from 'better-sqlite3';

/**
 * Prepares each SQL text once per connection. Preparing costs tens of microseconds, more than most
 * of the terminal's statements take to run (bench/RESULTS.md measured 43–199 µs per journal append
 * spent re-preparing). Callers must not change a cached statement's modes (pluck, raw, ...) between
 * uses; each SQL text here is always used the same way.
 */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
}
