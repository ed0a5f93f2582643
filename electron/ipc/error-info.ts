// A TerminalError as it crosses a transport: its code, message and details, the details made JSON-safe.
import type { TerminalError } from '../../protocol/errors.js';
import type { ErrorInfo } from './contract.js';

export function errorInfo(e: TerminalError): ErrorInfo {
  return { code: e.code, message: e.message, details: jsonSafe(e.details) };
}

/** Details cross a JSON transport: bigints become decimal strings, anything unserializable is dropped. */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  } catch {
    return {};
  }
}
