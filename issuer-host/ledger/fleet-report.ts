// Fleet end of day from the ledger (docs/issuer-host.md, "Fleet reports"): for an instant range
// [from, to), per terminal, per shop and for the issuer, the transfers posted (delivered) and voided
// (rolled back or refunded) and those still pending, and apart the e-money of content flows (the legs
// of exchanges, and sends), counted and summed in minor units (bigint), by the time of the journal
// entry that booked them; for the issuer also the value issued in the range and the e-money
// outstanding at its end (by the time each issuance was recorded). The caller gives the business
// day's bounds (the terminal's businessDayBounds does the same), so nothing here assumes a time zone.
// A terminal's own summary (Flows.summary) of the same range reconciles with its line: its completed
// value transfers are the posts it booked, its refunded ones the voids, its completed e-money sends
// its sends' posts (test/issuer-host/clearing-reports.test.ts, clearing-content-sends.test.ts).
import type { Sql } from '../db/host-database.js';
import type { TransferKind } from '../db/ledger-records.js';

export interface Totals {
  count: number;
  amount: bigint;
}

/** Value transfers booked: posted (delivered), voided (rolled back, refunded), pending. */
export interface PhaseTotals {
  posted: Totals;
  voided: Totals;
  pending: Totals;
}

/**
 * A line's value transfers (what a terminal's own summary sells and refunds) and, apart, the e-money
 * legs of its content exchanges (migration 007), which the shop's summary counts as exchanges, and
 * its e-money sends (migration 008), which it counts as content transfers.
 */
export interface ReportLine extends PhaseTotals {
  currency: number;
  exchanges: PhaseTotals;
  sends: PhaseTotals;
}

export interface FleetReport {
  from: Date;
  to: Date;
  terminals: (ReportLine & { terminalId: string; shopId: string })[];
  /** Per shop: its terminals' bookings, and the refunds the issuer settled for transfers begun there. */
  shops: (ReportLine & { shopId: string; inFlight: bigint })[];
  /**
   * Per currency, besides the bookings: the issuances recorded in the range (`issued`) and the
   * e-money outstanding at its end (all issued value to then; minus the issuer account's balance).
   */
  issuer: IssuerLine[];
}

export type IssuerLine = ReportLine & { inFlight: bigint; issued: Totals; outstanding: bigint };

const empty = (): Totals => ({ count: 0, amount: 0n });

export async function fleetReport(sql: Sql, range: { from: Date; to: Date }): Promise<FleetReport> {
  const rows = await sql.query<{
    terminal_id: string | null;
    shop_id: string;
    currency: number;
    kind: TransferKind;
    phase: 'pending' | 'post' | 'void';
    n: bigint | number;
    amount: bigint | string;
  }>(
    `SELECT terminal_id, shop_id, currency, kind, phase, count(*) AS n, sum(amount)::bigint AS amount
       FROM ledger_transfers WHERE entry_at >= $1 AND entry_at < $2
      GROUP BY terminal_id, shop_id, currency, kind, phase ORDER BY 1, 2, 3`,
    [range.from, range.to],
  );
  const inFlight = await sql.query<{ ref: string; currency: number; balance: bigint | string }>(
    `SELECT a.ref, a.currency,
            COALESCE((SELECT sum(amount) FROM ledger_transfers t WHERE t.credit_account = a.account_id AND t.entry_at < $1), 0)
          - COALESCE((SELECT sum(amount) FROM ledger_transfers t WHERE t.debit_account = a.account_id AND t.entry_at < $1), 0)
            AS balance
       FROM ledger_accounts a WHERE a.kind = 'in-flight' ORDER BY 1, 2`,
    [range.to],
  );
  const issuances = await sql.query<{
    currency: number;
    n: bigint | number;
    amount: bigint | string;
    outstanding: bigint | string;
  }>(
    `SELECT currency,
            count(*) FILTER (WHERE recorded_at >= $1) AS n,
            COALESCE(sum(amount) FILTER (WHERE recorded_at >= $1), 0)::bigint AS amount,
            sum(amount)::bigint AS outstanding
       FROM ledger_issuances WHERE recorded_at < $2 GROUP BY currency ORDER BY 1`,
    [range.from, range.to],
  );
  const terminals = new Map<string, ReportLine & { terminalId: string; shopId: string }>();
  const shops = new Map<string, ReportLine & { shopId: string; inFlight: bigint }>();
  const issuer = new Map<number, IssuerLine>();
  const phases = (): PhaseTotals => ({ posted: empty(), voided: empty(), pending: empty() });
  const line = () => ({ ...phases(), exchanges: phases(), sends: phases() });
  const issuerLine = (currency: number): IssuerLine => {
    if (!issuer.has(currency))
      issuer.set(currency, { currency, inFlight: 0n, issued: empty(), outstanding: 0n, ...line() });
    return issuer.get(currency)!;
  };
  for (const r of rows) {
    const add = (line: ReportLine) => {
      const l = r.kind === 'exchange-leg' ? line.exchanges : r.kind === 'content-send' ? line.sends : line;
      const t = r.phase === 'post' ? l.posted : r.phase === 'void' ? l.voided : l.pending;
      t.count += Number(r.n);
      t.amount += BigInt(r.amount);
    };
    if (r.terminal_id !== null) {
      const key = `${r.terminal_id}\u0000${r.currency}`;
      if (!terminals.has(key))
        terminals.set(key, { terminalId: r.terminal_id, shopId: r.shop_id, currency: r.currency, ...line() });
      add(terminals.get(key)!);
    }
    const shopKey = `${r.shop_id}\u0000${r.currency}`;
    if (!shops.has(shopKey))
      shops.set(shopKey, { shopId: r.shop_id, currency: r.currency, inFlight: 0n, ...line() });
    add(shops.get(shopKey)!);
    add(issuerLine(r.currency));
  }
  for (const f of inFlight) {
    const balance = BigInt(f.balance);
    const shopKey = `${f.ref}\u0000${f.currency}`;
    if (!shops.has(shopKey))
      shops.set(shopKey, { shopId: f.ref, currency: f.currency, inFlight: 0n, ...line() });
    shops.get(shopKey)!.inFlight = balance;
    issuerLine(f.currency).inFlight += balance;
  }
  for (const i of issuances) {
    const l = issuerLine(i.currency);
    l.issued = { count: Number(i.n), amount: BigInt(i.amount) };
    l.outstanding = BigInt(i.outstanding);
  }
  return {
    from: range.from,
    to: range.to,
    terminals: [...terminals.values()],
    shops: [...shops.values()],
    issuer: [...issuer.values()],
  };
}
