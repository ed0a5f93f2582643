// The terminals' uploaded journals (migration 003): each terminal's chain as far as the host holds
// it, the uploads, and the entries as the chain hashed them. Written only by the clearing ingest
// (issuer-host/clearing/ingest.ts) inside its transaction; read by it and by staff views.
import { decodeRecord } from '../../db/journal-codec.js';
import type { Sql } from './host-database.js';

export const GENESIS_HASH = new Uint8Array(32);

export interface ChainState {
  lastSeq: number;
  hash: Uint8Array;
  /** Whether the host holds a row for the chain yet (false before the first upload). */
  exists: boolean;
}

/** An entry as held: the bytes the chain covers, its hash, and what the host read of it. */
export interface HeldEntry {
  seq: number;
  flowNo: number;
  /** As hashed, on a flow's first entry: the UUID's 16 bytes or the text ID. */
  linkFlowId: Uint8Array | string | null;
  linkKind: number | null;
  record: Uint8Array;
  chainHash: Uint8Array;
  flowId: string;
  flowKind: string;
}

export interface NewEntry extends HeldEntry {
  step: string;
  at: Date;
}

const ROWS_PER_INSERT = 400;

/** Serializes every ingest of one terminal's chain, whichever host instance runs it. */
export async function lockChain(tx: Sql, terminalId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('issuer-host:clearing:' || $1, 0))", [
    terminalId,
  ]);
}

export async function chainState(sql: Sql, terminalId: string): Promise<ChainState> {
  const rows = await sql.query<{ last_seq: bigint; head_hash: Uint8Array }>(
    'SELECT last_seq, head_hash FROM clearing_chains WHERE terminal_id = $1',
    [terminalId],
  );
  const row = rows[0];
  if (!row) return { lastSeq: 0, hash: GENESIS_HASH, exists: false };
  return { lastSeq: Number(row.last_seq), hash: row.head_hash, exists: true };
}

/** Entries of the terminal with seq in [from, to], by seq. */
export async function heldEntries(
  sql: Sql,
  terminalId: string,
  from: number,
  to: number,
): Promise<HeldEntry[]> {
  const rows = await sql.query<{
    seq: bigint;
    flow_no: bigint;
    link_flow_id: Uint8Array | null;
    link_flow_text: string | null;
    link_kind: number | null;
    record: Uint8Array;
    chain_hash: Uint8Array;
    flow_id: string;
    flow_kind: string;
  }>(
    `SELECT seq, flow_no, link_flow_id, link_flow_text, link_kind, record, chain_hash, flow_id, flow_kind
       FROM clearing_entries WHERE terminal_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
    [terminalId, from, to],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    flowNo: Number(r.flow_no),
    linkFlowId: r.link_flow_id ?? r.link_flow_text,
    linkKind: r.link_kind,
    record: r.record,
    chainHash: r.chain_hash,
    flowId: r.flow_id,
    flowKind: r.flow_kind,
  }));
}

/** Records the upload and its entries and moves the chain forward, in the caller's transaction. */
export async function appendEntries(
  tx: Sql,
  input: { terminalId: string; entries: readonly NewEntry[]; chainExists: boolean; at: Date },
): Promise<bigint> {
  const { terminalId, entries, at } = input;
  const first = entries[0]!;
  const last = entries.at(-1)!;
  const [upload] = await tx.query<{ upload_id: bigint }>(
    `INSERT INTO clearing_uploads (terminal_id, first_seq, last_seq, head_hash, received_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING upload_id`,
    [terminalId, first.seq, last.seq, last.chainHash, at],
  );
  const uploadId = upload!.upload_id;
  for (let start = 0; start < entries.length; start += ROWS_PER_INSERT) {
    const chunk = entries.slice(start, start + ROWS_PER_INSERT);
    const params: unknown[] = [terminalId, uploadId];
    const values = chunk.map((e) => {
      const base = params.length;
      params.push(
        e.seq,
        e.flowNo,
        e.linkFlowId instanceof Uint8Array ? e.linkFlowId : null,
        typeof e.linkFlowId === 'string' ? e.linkFlowId : null,
        e.linkKind,
        e.record,
        e.chainHash,
        e.flowId,
        e.flowKind,
        e.step,
        e.at,
      );
      const p = (i: number) => `$${base + i}`;
      return `($1, $2, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)})`;
    });
    await tx.query(
      `INSERT INTO clearing_entries (terminal_id, upload_id, seq, flow_no, link_flow_id, link_flow_text,
         link_kind, record, chain_hash, flow_id, flow_kind, step, at) VALUES ${values.join(', ')}`,
      params,
    );
  }
  if (input.chainExists) {
    await tx.query(
      'UPDATE clearing_chains SET last_seq = $2, head_hash = $3, updated_at = $4 WHERE terminal_id = $1',
      [terminalId, last.seq, last.chainHash, at],
    );
  } else {
    await tx.query(
      'INSERT INTO clearing_chains (terminal_id, last_seq, head_hash, updated_at) VALUES ($1, $2, $3, $4)',
      [terminalId, last.seq, last.chainHash, at],
    );
  }
  return uploadId;
}

export interface ChainSummary {
  terminalId: string;
  shopId: string;
  lastSeq: number;
  hash: Uint8Array;
  updatedAt: Date;
}

/** Every terminal's chain as the host holds it, for staff. */
export async function listChains(sql: Sql): Promise<ChainSummary[]> {
  const rows = await sql.query<{
    terminal_id: string;
    shop_id: string;
    last_seq: bigint;
    head_hash: Uint8Array;
    updated_at: Date;
  }>(
    `SELECT c.terminal_id, t.shop_id, c.last_seq, c.head_hash, c.updated_at
       FROM clearing_chains c JOIN terminals t USING (terminal_id) ORDER BY c.terminal_id`,
  );
  return rows.map((r) => ({
    terminalId: r.terminal_id,
    shopId: r.shop_id,
    lastSeq: Number(r.last_seq),
    hash: r.head_hash,
    updatedAt: r.updated_at,
  }));
}

export interface ClearingAlert {
  eventId: bigint;
  at: Date;
  kind: string;
  terminalId: string | null;
  detail: Record<string, unknown>;
}

/** The alerts refused uploads raised (audit events `clearing.*`), oldest first after an event ID. */
export async function listClearingAlerts(
  sql: Sql,
  options: { afterId: bigint; limit: number },
): Promise<ClearingAlert[]> {
  const rows = await sql.query<{
    event_id: bigint;
    at: Date;
    kind: string;
    subject: string | null;
    detail: Record<string, unknown>;
  }>(
    `SELECT event_id, at, kind, subject, detail FROM audit_events
      WHERE kind LIKE 'clearing.%' AND event_id > $1 ORDER BY event_id LIMIT $2`,
    [options.afterId, options.limit],
  );
  return rows.map((r) => ({
    eventId: r.event_id,
    at: r.at,
    kind: r.kind,
    terminalId: r.subject,
    detail: r.detail,
  }));
}

/**
 * The held entries of the flows that `entries` continue, decoded, in order (one round trip): what a
 * booker folds before the upload's own entries. The upload's entries are stored already (the same
 * transaction), so only those before `first` are held ones.
 */
export async function heldFlowEntries(
  tx: Sql,
  terminalId: string,
  first: number,
  entries: readonly { flowNo: number; flowId: string }[],
): Promise<{ flowId: string; seq: number; step: string; payload: Record<string, unknown> }[]> {
  const flowIds = [...new Set(entries.filter((e) => e.flowNo < first).map((e) => e.flowId))];
  if (flowIds.length === 0) return [];
  const rows = await tx.query<{ flow_id: string; seq: number | bigint; record: Uint8Array }>(
    `SELECT flow_id, seq, record FROM clearing_entries
      WHERE terminal_id = $1 AND seq < $2 AND flow_id IN (${flowIds.map((_, i) => `$${i + 3}`).join(', ')})
      ORDER BY seq`,
    [terminalId, first, ...flowIds],
  );
  return rows.map((row) => {
    const { step, payload } = decodeRecord(row.record);
    return { flowId: row.flow_id, seq: Number(row.seq), step, payload };
  });
}
