// Reading the requests issuing servers send the authority: who may send them, what of a refused
// request still goes into the authorizations log, and how a schema's refusal is worded.
import {
  type RejectReason,
  type ServerInfo,
  TERMINAL_ID_PATTERN,
} from '../../protocol/issuing/authority-protocol.js';

/** The terminal whose signed request carried a registration or authentication request. */
export interface AuthoritySender {
  terminalId: string;
  /** Its key registered at the host (65-byte uncompressed P-256 point). */
  publicKey: Uint8Array;
}

/** A decision to reject, before it is logged and becomes an ack. */
export type Reject = { reason: RejectReason; message: string; details?: Record<string, unknown> | undefined };

/** Why a request may not come from this sender: it names another issuing server. */
export function senderMismatch(serverInfo: ServerInfo, sender: AuthoritySender): Reject | undefined {
  if (serverInfo.terminalId === sender.terminalId) return undefined;
  return {
    reason: 'wrong-sender',
    message: `terminal ${sender.terminalId} may not speak for issuing server ${serverInfo.terminalId}`,
  };
}

/** A request that fails its schema. */
export function badRequest(what: string, error: Parameters<typeof issueText>[0]): Reject {
  return { reason: 'bad-request', message: `${what}: ${issueText(error)}` };
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
