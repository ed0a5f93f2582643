// Reading the requests issuing servers send the authority: what of a refused request still goes
// into the authorizations log, and how a schema's refusal is worded.
import { registrationRequestSchema, TERMINAL_ID_PATTERN } from '../../protocol/issuing/authority-protocol.js';

/** The pinned key as the registration schema reads it (uppercase hex), or undefined if it is none. */
export function serverKey(hex: string): string | undefined {
  const parsed = registrationRequestSchema.shape.serverPublicKey.safeParse(hex);
  return parsed.success ? parsed.data : undefined;
}

/** The terminal ID of a request that failed validation, if it has a well-formed one (for the log). */
export function looseTerminalId(raw: unknown): string | undefined {
  const id = (raw as { serverInfo?: { terminalId?: unknown } } | undefined)?.serverInfo?.terminalId;
  return typeof id === 'string' && TERMINAL_ID_PATTERN.test(id) ? id : undefined;
}

/** The first schema issue of a refused request, as `path: message`. */
export function issueText(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const first = error.issues[0];
  return first ? `${first.path.map(String).join('.') || '(root)'}: ${first.message}` : 'not valid';
}
