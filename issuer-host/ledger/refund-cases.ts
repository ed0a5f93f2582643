// Refund cases (migration 005; docs/issuer-host.md, "Refund cases"): a transfer whose value stayed in
// flight (pending, neither posted nor voided) longer than the configured age becomes the issuer's
// case, carrying the journal's proofs: every entry of every terminal's flow of that transfer (payer
// and payee IDs, amount, Rt, challenges, release proofs), decoded. Staff settle a case: the refund
// is booked (a void of the pending transfer, source 'refund-case') in the same transaction, and only
// while nothing else has resolved the transfer (a card settling it meanwhile wins: E_CONFLICT).
import { decodeRecord } from '../../db/journal-codec.js';
import { TerminalError } from '../../protocol/errors.js';
import { appendAuditEvent } from '../db/audit-log.js';
import type { HostDatabase, Sql } from '../db/host-database.js';

export const DEFAULT_REFUND_AFTER_MS = 30 * 24 * 3600 * 1000;
const SCAN_LIMIT = 500;

export interface RefundCase {
  caseId: bigint;
  transferKey: string;
  payerId: string;
  amount: bigint;
  currency: number;
  inDoubtSince: Date;
  openedAt: Date;
  status: 'open' | 'settled';
  settledAt: Date | null;
  settledBy: string | null;
  note: string | null;
  proofs: unknown[];
}

/** One scan at a time over the whole database, whichever host instance runs it. */
const SCAN_LOCK = `hashtextextended('issuer-host:refund-scan', 0)`;

/**
 * Opens a case for each transfer in flight since before `now - ageMs` that has none; returns how many,
 * or null when `wait` is false and another scan holds the lock (the scheduled scan skips its tick).
 * One transaction under an advisory lock, so two instances never scan at once; the unique transfer
 * key of refund_cases makes a second case impossible whatever happens.
 */
export async function openDueCases(
  db: HostDatabase,
  o: { now: Date; ageMs: number; wait?: boolean },
): Promise<number | null> {
  return db.transaction(async (tx) => {
    if (o.wait === false) {
      const [got] = await tx.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_xact_lock(${SCAN_LOCK}) AS locked`,
      );
      if (!got?.locked) return null;
    } else {
      await tx.query(`SELECT pg_advisory_xact_lock(${SCAN_LOCK})`);
    }
    return openDueCasesLocked(tx, o);
  });
}

async function openDueCasesLocked(db: Sql, o: { now: Date; ageMs: number }): Promise<number> {
  const cutoff = new Date(o.now.getTime() - o.ageMs);
  const due = await db.query<{
    transfer_id: bigint;
    transfer_key: string;
    amount: bigint;
    currency: number;
    entry_at: Date;
  }>(
    `SELECT p.transfer_id, p.transfer_key, p.amount, p.currency, p.entry_at FROM ledger_transfers p
      WHERE p.phase = 'pending' AND p.entry_at < $1
        AND NOT EXISTS (SELECT 1 FROM ledger_transfers s WHERE s.pending_id = p.transfer_id)
        AND NOT EXISTS (SELECT 1 FROM refund_cases c WHERE c.transfer_key = p.transfer_key)
      ORDER BY p.entry_at LIMIT $2`,
    [cutoff, SCAN_LIMIT],
  );
  let opened = 0;
  for (const p of due) {
    const proofs = await proofsOf(db, p.transfer_key);
    const rows = await db.query(
      `INSERT INTO refund_cases (transfer_key, pending_id, payer_id, amount, currency, in_doubt_since, proofs, opened_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) ON CONFLICT DO NOTHING RETURNING case_id`,
      [
        p.transfer_key,
        p.transfer_id,
        p.transfer_key.split(':')[0],
        p.amount,
        p.currency,
        p.entry_at,
        JSON.stringify(proofs),
        o.now,
      ],
    );
    opened += rows.length;
  }
  return opened;
}

/** Every journal entry of the transfer's flows, at every terminal that journaled it. */
async function proofsOf(sql: Sql, transferKey: string): Promise<unknown[]> {
  const rows = await sql.query<{ terminal_id: string; flow_id: string; seq: bigint; record: Uint8Array }>(
    `SELECT e.terminal_id, e.flow_id, e.seq, e.record FROM ledger_transfer_flows f
       JOIN clearing_entries e ON e.terminal_id = f.terminal_id AND e.flow_id = f.flow_id
      WHERE f.transfer_key = $1 ORDER BY e.terminal_id, e.seq`,
    [transferKey],
  );
  return rows.map((r) => {
    const { at, step, payload } = decodeRecord(r.record);
    return {
      terminalId: r.terminal_id,
      flowId: r.flow_id,
      seq: Number(r.seq),
      at: new Date(at).toISOString(),
      step,
      payload,
    };
  });
}

export async function listCases(sql: Sql, status?: 'open' | 'settled'): Promise<RefundCase[]> {
  const rows = await sql.query<{
    case_id: bigint;
    transfer_key: string;
    payer_id: string;
    amount: bigint;
    currency: number;
    in_doubt_since: Date;
    opened_at: Date;
    status: 'open' | 'settled';
    settled_at: Date | null;
    settled_by: string | null;
    note: string | null;
    proofs: unknown[];
  }>(`SELECT * FROM refund_cases WHERE ($1::text IS NULL OR status = $1) ORDER BY case_id LIMIT 1000`, [
    status ?? null,
  ]);
  return rows.map((r) => ({
    caseId: r.case_id,
    transferKey: r.transfer_key,
    payerId: r.payer_id,
    amount: r.amount,
    currency: r.currency,
    inDoubtSince: r.in_doubt_since,
    openedAt: r.opened_at,
    status: r.status,
    settledAt: r.settled_at,
    settledBy: r.settled_by,
    note: r.note,
    proofs: r.proofs,
  }));
}

/** Settles an open case: books the refund to the payer card (void of the pending transfer). */
export async function settleCase(
  db: HostDatabase,
  o: { caseId: bigint; actor: string; note?: string; now: Date },
): Promise<RefundCase> {
  await db.transaction(async (tx) => {
    const [c] = await tx.query<{ status: string; pending_id: bigint; transfer_key: string }>(
      'SELECT status, pending_id, transfer_key FROM refund_cases WHERE case_id = $1 FOR UPDATE',
      [o.caseId],
    );
    if (!c) throw new TerminalError('E_NOT_FOUND', `no refund case ${o.caseId}`);
    if (c.status !== 'open')
      throw new TerminalError('E_CONFLICT', `refund case ${o.caseId} is settled already`);
    const [p] = await tx.query<{
      kind: string;
      debit_account: bigint;
      credit_account: bigint;
      amount: bigint;
      currency: number;
      shop_id: string;
      flow_id: string;
    }>(
      `SELECT kind, debit_account, credit_account, amount, currency, shop_id, flow_id FROM ledger_transfers
        WHERE transfer_id = $1 FOR UPDATE`,
      [c.pending_id],
    );
    const [resolved] = await tx.query<{ phase: string }>(
      `SELECT phase FROM ledger_transfers WHERE pending_id = $1`,
      [c.pending_id],
    );
    if (resolved) {
      throw new TerminalError(
        'E_CONFLICT',
        `transfer ${c.transfer_key} was ${resolved.phase === 'post' ? 'delivered' : 'refunded'} by a card since the case opened: nothing to refund`,
      );
    }
    await tx.query(
      `INSERT INTO ledger_transfers (transfer_key, phase, pending_id, debit_account, credit_account, amount,
         currency, source, shop_id, flow_id, entry_at, booked_at, kind)
       VALUES ($1, 'void', $2, $3, $4, $5, $6, 'refund-case', $7, $8, $9, $9, $10)`,
      [
        c.transfer_key,
        c.pending_id,
        p!.credit_account,
        p!.debit_account,
        p!.amount,
        p!.currency,
        p!.shop_id,
        p!.flow_id,
        o.now,
        p!.kind,
      ],
    );
    await tx.query(
      `UPDATE refund_cases SET status = 'settled', settled_at = $2, settled_by = $3, note = $4 WHERE case_id = $1`,
      [o.caseId, o.now, o.actor, o.note ?? null],
    );
    await appendAuditEvent(tx, {
      kind: 'refund.settled',
      severity: 'info',
      actor: o.actor,
      subject: c.transfer_key,
      detail: { caseId: o.caseId.toString(), amount: p!.amount.toString() },
    });
  });
  const [settled] = (await listCases(db)).filter((c) => c.caseId === o.caseId);
  return settled!;
}
