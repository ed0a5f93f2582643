import { errorMessage, isTerminalError, TerminalError } from '../protocol/errors.js';

/**
 * Runs a database operation, reporting SQLite failures (busy, I/O, constraint, trigger abort) as
 * E_DB with the SQLite code, and letting the module's own TerminalErrors through unchanged.
 */
export function withDbErrors<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isTerminalError(e)) throw e;
    throw new TerminalError('E_DB', `${what} failed: ${errorMessage(e)}`, {
      sqliteCode: (e as { code?: unknown }).code,
    });
  }
}
