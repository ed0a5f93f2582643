// The ledger's rows (migration 004): accounts, two-phase transfers, exceptions. Booking runs in the
// clearing ingest's transaction (issuer-host/ledger/ledger-booker.ts); the unique indexes and the
// pending row's lock make it safe when several host instances book the same transfer at once.
import type { Sql } from './host-database.js';

/** A card's purse, a shop's value in flight, the issuer's float (migration 006). */
export type AccountKind = 'card' | 'in-flight' | 'issuer';
export type TransferPhase = 'pending' | 'post' | 'void';
/**
 * A value transfer between two cards, the value half of a content exchange (migration 007), or an
 * e-money content send (migration 008).
 */
export type TransferKind = 'value-transfer' | 'exchange-leg' | 'content-send';

/**
 * Whether two kinds can name one transfer. A content transfer of value is the same card transfer
 * whichever content flow journaled it: a send and an exchange's first half are signed alike
 * (protocol §9), so one flow reporting it as the other books the same leg, never a second one.
 */
export function sameTransferFamily(a: TransferKind, b: TransferKind): boolean {
  return (a === 'value-transfer') === (b === 'value-transfer');
}

export interface PendingTransfer {
  transferId: bigint;
  kind: TransferKind;
  debitAccount: bigint;
  creditAccount: bigint;
  amount: bigint;
  currency: number;
  /** The resolution booked, if any, and what booked it. */
  resolution: 'post' | 'void' | null;
  resolvedBy: 'journal' | 'refund-case' | null;
  shopId: string;
  flowId: string;
}

export interface Booking {
  transferKey: string;
  /** Absent: a value transfer. */
  kind?: TransferKind;
  amount: bigint;
  currency: number;
  terminalId: string;
  shopId: string;
  seq: number;
  flowId: string;
  entryAt: Date;
  bookedAt: Date;
}

/** The account's ID, made if it does not exist yet (one round trip, unless another transaction made it meanwhile). */
export async function accountId(tx: Sql, kind: AccountKind, ref: string, currency: number): Promise<bigint> {
  const [made] = await tx.query<{ account_id: bigint }>(
    `WITH made AS (
       INSERT INTO ledger_accounts (kind, ref, currency) VALUES ($1, $2, $3)
       ON CONFLICT (kind, ref, currency) DO NOTHING RETURNING account_id)
     SELECT account_id FROM made
     UNION ALL SELECT account_id FROM ledger_accounts WHERE kind = $1 AND ref = $2 AND currency = $3
     LIMIT 1`,
    [kind, ref, currency],
  );
  if (made) return made.account_id;
  // Made by a transaction that committed after this statement's snapshot: read it now.
  const [row] = await tx.query<{ account_id: bigint }>(
    'SELECT account_id FROM ledger_accounts WHERE kind = $1 AND ref = $2 AND currency = $3',
    [kind, ref, currency],
  );
  return row!.account_id;
}

/** Books the pending transfer unless one exists; returns the pending row, locked, and its resolution. */
export async function ensurePending(
  tx: Sql,
  booking: Booking,
  accounts: { debit: bigint; credit: bigint },
): Promise<PendingTransfer> {
  await tx.query(
    `INSERT INTO ledger_transfers (transfer_key, phase, debit_account, credit_account, amount, currency,
       terminal_id, shop_id, seq, flow_id, entry_at, booked_at, kind)
     VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (transfer_key) WHERE phase = 'pending' DO NOTHING`,
    [
      booking.transferKey,
      accounts.debit,
      accounts.credit,
      booking.amount,
      booking.currency,
      booking.terminalId,
      booking.shopId,
      booking.seq,
      booking.flowId,
      booking.entryAt,
      booking.bookedAt,
      booking.kind ?? 'value-transfer',
    ],
  );
  const [row] = await tx.query<{
    transfer_id: bigint;
    kind: TransferKind;
    debit_account: bigint;
    credit_account: bigint;
    amount: bigint;
    currency: number;
    shop_id: string;
    flow_id: string;
  }>(
    `SELECT transfer_id, kind, debit_account, credit_account, amount, currency, shop_id, flow_id FROM ledger_transfers
      WHERE transfer_key = $1 AND phase = 'pending' FOR UPDATE`,
    [booking.transferKey],
  );
  // Read after the lock: a resolution another transaction committed meanwhile is seen.
  const [resolved] = await tx.query<{ phase: 'post' | 'void'; source: 'journal' | 'refund-case' }>(
    `SELECT phase, source FROM ledger_transfers WHERE pending_id = $1 AND phase <> 'pending'`,
    [row!.transfer_id],
  );
  return {
    transferId: row!.transfer_id,
    kind: row!.kind,
    debitAccount: row!.debit_account,
    creditAccount: row!.credit_account,
    amount: row!.amount,
    currency: row!.currency,
    resolution: resolved?.phase ?? null,
    resolvedBy: resolved?.source ?? null,
    shopId: row!.shop_id,
    flowId: row!.flow_id,
  };
}

/** Posts or voids the (locked, unresolved) pending transfer. */
export async function resolve(
  tx: Sql,
  phase: 'post' | 'void',
  pending: PendingTransfer,
  booking: Booking,
  creditAccount: bigint,
): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_transfers (transfer_key, phase, pending_id, debit_account, credit_account, amount,
       currency, terminal_id, shop_id, seq, flow_id, entry_at, booked_at, kind)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      booking.transferKey,
      phase,
      pending.transferId,
      pending.creditAccount,
      creditAccount,
      pending.amount,
      pending.currency,
      booking.terminalId,
      booking.shopId,
      booking.seq,
      booking.flowId,
      booking.entryAt,
      booking.bookedAt,
      pending.kind,
    ],
  );
}

export async function recordException(
  tx: Sql,
  input: {
    transferKey: string;
    kind: 'conflicting-resolution' | 'terms-differ' | 'after-refund-case';
    terminalId: string;
    flowId: string;
    seq: number;
    detail: Record<string, unknown>;
    at: Date;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_exceptions (transfer_key, kind, terminal_id, flow_id, seq, detail, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [input.transferKey, input.kind, input.terminalId, input.flowId, input.seq, input.detail, input.at],
  );
}

/** Notes that this terminal's flow journaled the transfer (where its proofs are). */
export async function noteFlow(tx: Sql, booking: Booking): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_transfer_flows (transfer_key, terminal_id, flow_id) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING`,
    [booking.transferKey, booking.terminalId, booking.flowId],
  );
}

export interface ReleaseProofRow {
  transferKey: string;
  payerId: string;
  payeeId: string;
  amount: bigint;
  currency: number;
  date: number;
  txRandom: string;
  rxRandom: string;
  releaseProof: string;
  terminalId: string;
  seq: number;
}

export async function keepRelease(tx: Sql, p: ReleaseProofRow): Promise<void> {
  await tx.query(
    `INSERT INTO release_proofs (transfer_key, payer_id, payee_id, amount, currency, date, tx_random, rx_random,
       release_proof, terminal_id, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (transfer_key) DO NOTHING`,
    [
      p.transferKey,
      p.payerId,
      p.payeeId,
      p.amount,
      p.currency,
      p.date,
      p.txRandom,
      p.rxRandom,
      p.releaseProof,
      p.terminalId,
      p.seq,
    ],
  );
}

/** The release proofs for a payer card whose transfer is not settled yet (no post or void booked). */
export async function releaseProofsForCard(sql: Sql, payerId: string): Promise<ReleaseProofRow[]> {
  const rows = await sql.query<{
    transfer_key: string;
    payer_id: string;
    payee_id: string;
    amount: bigint;
    currency: number;
    date: bigint;
    tx_random: string;
    rx_random: string;
    release_proof: string;
    terminal_id: string;
    seq: bigint;
  }>(
    `SELECT r.* FROM release_proofs r
      WHERE r.payer_id = $1 AND NOT EXISTS (
        SELECT 1 FROM ledger_transfers p JOIN ledger_transfers s ON s.pending_id = p.transfer_id
         WHERE p.transfer_key = r.transfer_key AND p.phase = 'pending')
      ORDER BY r.transfer_key LIMIT 100`,
    [payerId],
  );
  return rows.map((r) => ({
    transferKey: r.transfer_key,
    payerId: r.payer_id,
    payeeId: r.payee_id,
    amount: r.amount,
    currency: r.currency,
    date: Number(r.date),
    txRandom: r.tx_random,
    rxRandom: r.rx_random,
    releaseProof: r.release_proof,
    terminalId: r.terminal_id,
    seq: Number(r.seq),
  }));
}

export interface AccountBalance {
  kind: AccountKind;
  ref: string;
  currency: number;
  balance: bigint;
}

export async function balances(
  sql: Sql,
  filter: { kind?: AccountKind; ref?: string } = {},
): Promise<AccountBalance[]> {
  const rows = await sql.query<{
    kind: AccountKind;
    ref: string;
    currency: number;
    balance: bigint | string;
  }>(
    `SELECT kind, ref, currency, balance::bigint AS balance FROM ledger_balances
      WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR ref = $2) ORDER BY kind, ref, currency`,
    [filter.kind ?? null, filter.ref ?? null],
  );
  return rows.map((r) => ({ kind: r.kind, ref: r.ref, currency: r.currency, balance: BigInt(r.balance) }));
}

export interface LedgerTransferRow {
  transferId: bigint;
  transferKey: string;
  phase: TransferPhase;
  pendingId: bigint | null;
  debit: { kind: AccountKind; ref: string };
  credit: { kind: AccountKind; ref: string };
  amount: bigint;
  currency: number;
  terminalId: string;
  shopId: string;
  seq: number;
  flowId: string;
  entryAt: Date;
}

/** Transfers, oldest first, optionally of one transfer key or touching one card. */
export async function listTransfers(
  sql: Sql,
  filter: { transferKey?: string; cardId?: string; afterId?: bigint; limit?: number } = {},
): Promise<LedgerTransferRow[]> {
  const rows = await sql.query<{
    transfer_id: bigint;
    transfer_key: string;
    phase: TransferPhase;
    pending_id: bigint | null;
    dk: AccountKind;
    dr: string;
    ck: AccountKind;
    cr: string;
    amount: bigint;
    currency: number;
    terminal_id: string;
    shop_id: string;
    seq: bigint;
    flow_id: string;
    entry_at: Date;
  }>(
    `SELECT t.transfer_id, t.transfer_key, t.phase, t.pending_id, d.kind AS dk, d.ref AS dr, c.kind AS ck,
            c.ref AS cr, t.amount, t.currency, t.terminal_id, t.shop_id, t.seq, t.flow_id, t.entry_at
       FROM ledger_transfers t
       JOIN ledger_accounts d ON d.account_id = t.debit_account
       JOIN ledger_accounts c ON c.account_id = t.credit_account
      WHERE t.transfer_id > $1 AND ($2::text IS NULL OR t.transfer_key = $2)
        AND ($3::text IS NULL OR (d.kind = 'card' AND d.ref = $3) OR (c.kind = 'card' AND c.ref = $3))
      ORDER BY t.transfer_id LIMIT $4`,
    [filter.afterId ?? 0n, filter.transferKey ?? null, filter.cardId ?? null, filter.limit ?? 1000],
  );
  return rows.map((r) => ({
    transferId: r.transfer_id,
    transferKey: r.transfer_key,
    phase: r.phase,
    pendingId: r.pending_id,
    debit: { kind: r.dk, ref: r.dr },
    credit: { kind: r.ck, ref: r.cr },
    amount: r.amount,
    currency: r.currency,
    terminalId: r.terminal_id,
    shopId: r.shop_id,
    seq: Number(r.seq),
    flowId: r.flow_id,
    entryAt: r.entry_at,
  }));
}

export interface LedgerException {
  exceptionId: bigint;
  transferKey: string;
  kind: string;
  terminalId: string;
  flowId: string;
  seq: number;
  detail: Record<string, unknown>;
  at: Date;
}

export async function listExceptions(sql: Sql): Promise<LedgerException[]> {
  const rows = await sql.query<{
    exception_id: bigint;
    transfer_key: string;
    kind: string;
    terminal_id: string;
    flow_id: string;
    seq: bigint;
    detail: Record<string, unknown>;
    at: Date;
  }>('SELECT * FROM ledger_exceptions ORDER BY exception_id');
  return rows.map((r) => ({
    exceptionId: r.exception_id,
    transferKey: r.transfer_key,
    kind: r.kind,
    terminalId: r.terminal_id,
    flowId: r.flow_id,
    seq: Number(r.seq),
    detail: r.detail,
    at: r.at,
  }));
}
