// What the fleet tier (fleet-soak.ts) checks at its end, once every terminal has caught up and recovery
// has run with the cards present, every card out of every reader:
//  - the ledger sums to zero; nothing is in flight, no pending transfer unresolved, no exception;
//  - each card's ledger balance is the card's own balance (issuance, value transfers and the e-money
//    of content exchanges and sends are all booked); the cards hold together what they were issued (value
//    conserved), and each ticket issued is on exactly one card;
//  - each terminal's chain verifies, and the host holds it to the terminal's head with its hash, each
//    entry once (no upload lost, none booked twice);
//  - the fleet's end of day (the repository behind GET /admin/reports/end-of-day) posts what the
//    terminals' own end of day (their Z reports) sold, each transfer once however many terminals
//    journaled it, and each transfer the host posted is one a terminal completed, for that amount;
//  - each content leg (an exchange's e-money half, an e-money send) is posted at the host exactly when
//    the terminals' journals say the flow completed, for its amount, and voided (or never booked) when
//    it rolled back; the fleet's sends are the terminals' own completed sends, each once.
import { whileHolding } from '../../card-sim/card-files.js';
import type { Flows } from '../../db/flows.js';
import type { Journal } from '../../db/journal.js';
import { foldContentFlow } from '../../electron/services/contents/content-record.js';
import { businessDayBounds, businessDayOf } from '../../electron/services/receipts/business-day.js';
import { inDoubtView } from '../../electron/services/recovery/in-doubt.js';
import type { DayReports } from '../../electron/services/reports/day-summary.js';
import { foldTransfer } from '../../electron/services/settlement/transfer-record.js';
import { openLogReadOnly } from '../../electron/services/terminal-lock.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { fleetReport } from '../../issuer-host/ledger/fleet-report.js';
import { cardState, type FleetCard, type TerminalSetup } from './fleet-world.js';

export interface TerminalLog {
  terminalId: string;
  journal: Journal;
  flows: Flows;
  /** The terminal's own end of day (the Z report), as its screen reads it. */
  day: DayReports;
}

/** The e-money of a closed content flow: its first half's value, and whether it went. */
interface ContentLeg {
  flow: 'exchange' | 'send';
  amount: number;
  moved: boolean;
}

/** What a terminal's journal says moved: value transfers by key, content flows' value by leg key. */
export interface JournalFacts {
  /** payer holder ID ':' Rt → amount, for each value transfer the terminal completed. */
  completed: Map<string, number>;
  /** Sender holder ID ':' tx ID of the first half → the e-money an exchange or a send gave. */
  contentLegs: Map<string, ContentLeg>;
  /** Flows still open (in doubt, delivered and not acknowledged, a release proof to deliver, a content flow). */
  open: number;
}

export function journalFacts(log: TerminalLog): JournalFacts {
  const facts: JournalFacts = { completed: new Map(), contentLegs: new Map(), open: 0 };
  for (const f of log.flows.all()) {
    if (f.flowKind === 'value-transfer' && f.lastStep === 'completed') {
      const r = foldTransfer(log.journal.entriesForFlow(f.flowId));
      if (r.txRandom) facts.completed.set(`${r.payerId}:${r.txRandom}`, r.amount);
    }
    if ((f.flowKind === 'content-exchange' || f.flowKind === 'content-transfer') && f.terminal) {
      const c = foldContentFlow(log.journal.entriesForFlow(f.flowId));
      if (c.txId && 'amount' in c.offer)
        facts.contentLegs.set(`${c.fromId}:${c.txId}`, {
          flow: c.kind === 'content-exchange' ? 'exchange' : 'send',
          amount: c.offer.amount,
          moved: c.lastStep === 'completed',
        });
    }
  }
  facts.open = log.flows.openFlows().length;
  return facts;
}

export async function checkFleetInvariants(o: {
  db: HostDatabase;
  cards: FleetCard[];
  items: string[];
  logs: TerminalLog[];
  /** The business days of the run (UTC, the terminals' time zone). */
  days: string[];
}): Promise<{ violations: string[]; entries: number }> {
  const v: string[] = [];
  const { db } = o;

  // The cards: out of every reader (whileHolding takes the card's lock: E_CARD_IN_USE otherwise).
  const states = new Map<string, ReturnType<typeof cardState>>();
  for (const card of o.cards) {
    try {
      states.set(
        card.holderId,
        whileHolding(card.file, () => cardState(card)),
      );
    } catch (e) {
      v.push(`${card.label}: ${(e as Error).message}`);
    }
  }
  const issued = o.cards.reduce((s, c) => s + c.issued, 0);
  const held = [...states.values()].reduce((s, c) => s + c.balance, 0);
  if (held !== issued) v.push(`the cards hold ${held}, they were issued ${issued}: value not conserved`);
  const where = new Map<string, string[]>();
  for (const [holder, s] of states)
    for (const item of s.contents)
      where.set(item.id.toUpperCase(), [...(where.get(item.id.toUpperCase()) ?? []), holder]);
  for (const item of o.items)
    if ((where.get(item)?.length ?? 0) !== 1)
      v.push(`ticket ${item} is on ${where.get(item)?.length ?? 0} cards`);
  for (const item of where.keys()) if (!o.items.includes(item)) v.push(`an item no one issued: ${item}`);
  for (const [holder, s] of states) {
    const unsettled =
      s.debitLog.filter((r) => r.status === 'open' || r.status === 'debited').length +
      s.creditLog.filter((r) => r.status === 'pending').length +
      s.contentLog.filter((r) => ['open', 'deleted', 'pending'].includes(r.status)).length;
    if (unsettled > 0) v.push(`card ${holder} still holds ${unsettled} unsettled records`);
  }

  // The terminals: chains verify, nothing open; what they moved.
  const facts = o.logs.map((l) => ({ log: l, facts: journalFacts(l) }));
  let entries = 0;
  for (const { log, facts: f } of facts) {
    const verified = log.journal.verify();
    if (!verified.ok) v.push(`${log.terminalId}: its journal does not verify`);
    if (f.open > 0) {
      const which = log.flows.openFlows().map((x) => `${x.flowKind} at ${x.lastStep}`);
      v.push(`${log.terminalId}: ${f.open} flows still open after the final recovery (${which.join(', ')})`);
    }
    const head = log.journal.head();
    entries += head.seq;
    const [chain] = await db.query<{ last_seq: bigint; head_hash: Uint8Array }>(
      'SELECT last_seq, head_hash FROM clearing_chains WHERE terminal_id = $1',
      [log.terminalId],
    );
    const hostHead = chain ? Number(chain.last_seq) : 0;
    const hostHash = chain ? Buffer.from(chain.head_hash).toString('hex') : '';
    if (hostHead !== head.seq || hostHash !== head.hash)
      v.push(`${log.terminalId}: the host holds its chain to ${hostHead}, its head is ${head.seq}`);
    const [{ n }] = (await db.query(
      'SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM clearing_entries WHERE terminal_id = $1',
      [log.terminalId],
    )) as [{ n: number; d: number }];
    if (n !== head.seq) v.push(`${log.terminalId}: the host holds ${n} of its ${head.seq} entries`);
  }

  // Content flows: one outcome per leg (an exchange's first half, a send), whichever terminals journaled it.
  const contentLegs = new Map<string, ContentLeg>();
  for (const { log, facts: f } of facts)
    for (const [key, leg] of f.contentLegs) {
      const seen = contentLegs.get(key);
      if (seen && seen.moved !== leg.moved)
        v.push(`${leg.flow} ${key}: the journals disagree (${log.terminalId})`);
      contentLegs.set(key, leg);
    }
  // Their legs at the host: posted exactly for the flows that completed.
  const legs = await db.query<{ transfer_key: string; phase: string; amount: bigint | string }>(
    `SELECT transfer_key, phase, amount FROM ledger_transfers
      WHERE kind IN ('exchange-leg', 'content-send') AND phase <> 'pending'`,
  );
  const legOutcome = new Map(legs.map((l) => [l.transfer_key, { phase: l.phase, amount: Number(l.amount) }]));
  for (const [key, e] of contentLegs) {
    const leg = legOutcome.get(key);
    if (e.moved && (leg?.phase !== 'post' || leg.amount !== e.amount))
      v.push(`${e.flow} ${key} completed (${e.amount}); the host booked its leg ${leg?.phase ?? 'nowhere'}`);
    if (!e.moved && leg !== undefined && leg.phase !== 'void')
      v.push(`${e.flow} ${key} rolled back; the host ${leg.phase}ed its leg`);
  }
  for (const key of legOutcome.keys())
    if (!contentLegs.has(key)) v.push(`the host booked a content leg no terminal journaled: ${key}`);

  // The ledger.
  const balances = await db.query<{ kind: string; ref: string; balance: string | bigint }>(
    'SELECT kind, ref, balance::bigint AS balance FROM ledger_balances',
  );
  const sum = balances.reduce((s, b) => s + BigInt(b.balance), 0n);
  if (sum !== 0n) v.push(`the ledger sums to ${sum}, not 0`);
  const inFlight = balances.filter((b) => b.kind === 'in-flight').reduce((s, b) => s + BigInt(b.balance), 0n);
  if (inFlight !== 0n) v.push(`${inFlight} left in flight at the host, no terminal holds anything in doubt`);
  const unresolved = await db.query<{ transfer_key: string }>(
    `SELECT p.transfer_key FROM ledger_transfers p WHERE p.phase = 'pending'
        AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = p.transfer_id)`,
  );
  if (unresolved.length > 0)
    v.push(
      `${unresolved.length} transfers pending at the host, in doubt at no terminal: ${unresolved[0]!.transfer_key}…`,
    );
  const exceptions = await db.query<{ kind: string; transfer_key: string }>(
    'SELECT kind, transfer_key FROM ledger_exceptions',
  );
  for (const x of exceptions) v.push(`ledger exception ${x.kind} on ${x.transfer_key}`);
  for (const card of o.cards) {
    const state = states.get(card.holderId);
    if (!state) continue;
    const booked = BigInt(balances.find((b) => b.kind === 'card' && b.ref === card.holderId)?.balance ?? 0);
    if (booked !== BigInt(state.balance))
      v.push(
        `${card.label}: the ledger books ${booked}, the card holds ${state.balance} (issued ${card.issued})`,
      );
  }

  // Fleet totals: the issuer's line of the fleet's end of day against the terminals' own end of day
  // (the Z report the shop prints: its sales line, which counts the value transfers sold and the
  // e-money sent into the shop's card: every send of the soak goes payer → payee), day by day.
  const keys = new Map<string, { amount: number; copies: number }>();
  const sold = (key: string, amount: number) =>
    keys.set(key, { amount, copies: (keys.get(key)?.copies ?? 0) + 1 });
  for (const { facts: f } of facts) {
    for (const [key, amount] of f.completed) sold(key, amount);
    for (const [key, leg] of f.contentLegs) if (leg.flow === 'send' && leg.moved) sold(key, leg.amount);
  }
  for (const day of o.days) {
    const bounds = businessDayBounds(day, 'UTC');
    const report = await fleetReport(db, { from: bounds.start, to: bounds.end });
    const lines = report.issuer.flatMap((l) => [l, l.sends]);
    const posted = lines.reduce((s, l) => s + l.posted.amount, 0n);
    const postedCount = lines.reduce((s, l) => s + l.posted.count, 0);
    const all = report.issuer.flatMap((l) => [l, l.sends, l.exchanges]);
    const resolved = all.reduce((s, l) => s + l.posted.count + l.voided.count, 0);
    const pending = all.reduce((s, l) => s + l.pending.count, 0);
    const sales = o.logs.map((l) => l.day.summary(day).report.kinds.find((k) => k.kind === 'sale')!);
    const ownAmount = sales.reduce((s, l) => s + l.valueIn.minor, 0);
    const ownCount = sales.reduce((s, l) => s + l.count, 0);
    // A transfer or send completed at two terminals (begun at one, recovered at another) is one post.
    const twice = [...keys.values()].reduce((s, k) => s + (k.copies - 1) * k.amount, 0);
    const twiceCount = [...keys.values()].reduce((s, k) => s + k.copies - 1, 0);
    if (posted !== BigInt(ownAmount - twice) || postedCount !== ownCount - twiceCount)
      v.push(
        `${day}: the fleet posted ${postedCount} transfers and sends, ${posted}; the terminals' Z reports sold ${ownCount}, ${ownAmount}, of which ${twiceCount} (${twice}) at two terminals`,
      );
    if (pending !== resolved)
      v.push(`${day}: the fleet's day has ${pending} pending transfers and legs, ${resolved} resolved`);
  }

  // And transfer by transfer: what the host posted is what some terminal completed.
  const postedKeys = await db.query<{ transfer_key: string; amount: bigint | string }>(
    `SELECT transfer_key, amount FROM ledger_transfers WHERE phase = 'post' AND kind IN ('value-transfer', 'content-send')`,
  );
  const hostPosted = new Map(postedKeys.map((r) => [r.transfer_key, Number(r.amount)]));
  for (const [key, amount] of hostPosted)
    if (keys.get(key)?.amount !== amount)
      v.push(
        `the host posted ${key} (${amount}); the terminals completed ${keys.get(key)?.amount ?? 'no such transfer'}`,
      );
  for (const [key, k] of keys)
    if (!hostPosted.has(key))
      v.push(`the terminals completed ${key} (${k.amount}); the host did not post it`);
  return { violations: v, entries };
}

/** The UTC business days from `from` to `to`, both included. */
export function businessDays(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (
    let t = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
    t <= to.getTime();
    t += 86_400_000
  )
    days.push(businessDayOf(new Date(t), 'UTC'));
  return days;
}

/**
 * The cards each open flow of a terminal's journal names (payer or sender first): in doubt, delivered
 * but not acknowledged, a release proof to deliver, a content flow. Recovery with them present closes it.
 */
export function openNeeds(setup: TerminalSetup): [string, string | undefined][] {
  const reader = openLogReadOnly(setup.dataDir);
  try {
    const view = inDoubtView(reader);
    return [
      ...reader.flows
        .openFlows()
        .filter((f) => f.flowKind === 'value-transfer')
        .map((f) => foldTransfer(reader.journal.entriesForFlow(f.flowId)))
        .map((t): [string, string] => [t.payerId, t.payeeId]),
      ...view.contents.map((c): [string, string] => [c.fromId, c.toId]),
    ];
  } finally {
    reader.close();
  }
}

/**
 * Transfers the host holds in flight (pending, unresolved) that no terminal's journal holds open: once
 * every terminal has uploaded, there must be none (a terminal closes a flow only with a step that
 * resolves it at the host). Checked after every round.
 */
export async function unheldInFlight(db: HostDatabase, setups: TerminalSetup[]): Promise<string[]> {
  const held = new Set<string>();
  for (const setup of setups) {
    const reader = openLogReadOnly(setup.dataDir);
    try {
      for (const f of reader.flows.openFlows()) {
        if (f.flowKind === 'value-transfer') {
          const t = foldTransfer(reader.journal.entriesForFlow(f.flowId));
          if (t.txRandom) held.add(`${t.payerId}:${t.txRandom}`);
        }
        if (f.flowKind === 'content-exchange' || f.flowKind === 'content-transfer') {
          // A content leg (an exchange's value half, an e-money send): its sender and its transfer ID.
          const c = foldContentFlow(reader.journal.entriesForFlow(f.flowId));
          if (c.txId && 'amount' in c.offer) held.add(`${c.fromId}:${c.txId}`);
          if (c.secondTxId && c.take && 'amount' in c.take) held.add(`${c.toId}:${c.secondTxId}`);
        }
      }
    } finally {
      reader.close();
    }
  }
  const pending = await db.query<{ transfer_key: string }>(
    `SELECT p.transfer_key FROM ledger_transfers p WHERE p.phase = 'pending'
        AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = p.transfer_id)`,
  );
  return pending.map((p) => p.transfer_key).filter((key) => !held.has(key));
}
