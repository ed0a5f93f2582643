// What the command-generating server shows of itself: allow-list entries, registrations with their
// current create command and the rights granted under it, and log lines, as JSON-ready values (ISO
// times) for the staff routes, the terminal's own status and the command line.
import { TerminalError } from '../../protocol/errors.js';
import {
  type CreateCommand,
  type ServerInfo,
  serverInfoSchema,
} from '../../protocol/issuing/authority-protocol.js';
import type { ContentType } from '../../protocol/settlement/contents-codec.js';
import type { AllowedServerRow, AuthorityRecords, AuthorizationLogEntry } from '../db/authority-records.js';
import { toCreateCommand } from './grants.js';

export interface AllowedServer {
  terminalId: string;
  contentTypes: ContentType[];
  maxIssuances: number | null;
  validitySeconds: number;
  changedAt: string;
  changedBy: string;
}

export interface RegisteredServer {
  terminalId: string;
  serverInfo: ServerInfo;
  publicKey: string;
  registeredAt: string;
  updatedAt: string;
  /** The current create command, with the rights granted under it so far. */
  command?: (CreateCommand & { granted: number; expired: boolean }) | undefined;
}

export type AuthorityLogLine = Omit<AuthorizationLogEntry, 'at'> & { at: string };

export function allowedOf(row: AllowedServerRow): AllowedServer {
  return { ...row, changedAt: row.changedAt.toISOString() };
}

/** One terminal's registration with its current command (and the rights granted under it). */
export async function registeredServer(
  records: AuthorityRecords,
  terminalId: string,
  nowSeconds: number,
): Promise<RegisteredServer | undefined> {
  const s = await records.server(terminalId);
  if (!s) return undefined;
  const c = await records.currentCommand(terminalId);
  return {
    terminalId: s.terminalId,
    serverInfo: serverInfoSchema.parse(JSON.parse(s.serverInfo)),
    publicKey: s.publicKey,
    registeredAt: s.registeredAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    command: c && {
      ...toCreateCommand(c),
      granted: await records.grantedCount(c.commandId),
      expired: nowSeconds > c.notAfter,
    },
  };
}

export async function registeredServers(
  records: AuthorityRecords,
  nowSeconds: number,
): Promise<RegisteredServer[]> {
  const list = await Promise.all(
    (await records.servers()).map((s) => registeredServer(records, s.terminalId, nowSeconds)),
  );
  return list.filter((s) => s !== undefined);
}

/** The log, newest first; `terminalId`: lines it sent or that name it. */
export async function logLines(
  records: AuthorityRecords,
  query: { limit?: number; terminalId?: string; beforeId?: number },
): Promise<AuthorityLogLine[]> {
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new TerminalError('E_INPUT_INVALID', 'log limit must be 1..1000');
  const lines = await records.log({ limit, terminalId: query.terminalId, beforeId: query.beforeId });
  return lines.map((l) => ({ ...l, at: l.at.toISOString() }));
}
