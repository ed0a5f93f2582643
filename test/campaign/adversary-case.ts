// The adversary's part of a campaign case: a hostile terminal's visit (adversary-visit.ts) to two
// cards of the world, then the cards back in the honest terminal's readers, its one recovery surface,
// and what must hold then (issue 13):
//   - the visit's own checks, in every state it reached (value with value in flight, proof pairs,
//     genuine payer, stored proofs, the no-PIN policy: no payment above it completes without the PIN);
//   - nothing left in doubt with both cards present;
//   - neither card unable to pay or be paid: 0.01 goes each way and completes (no 9402, no 6A84);
//   - then no unsettled record on either card (an open debit is aborted by the next payment; any
//     other record would hold a log slot for good: a strand);
//   - value conserved over every card of the world, every item on exactly one card.
// A visit that left the cards' memory as it found it (every command refused, or cut before its
// write) leaves them as the last honest case did: those checks held then, and are not run again.

import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { isTerminalError } from '../../protocol/errors.js';
import type { Side } from '../adversary/world-state.js';
import { hostileVisit } from './adversary-visit.js';
import type { CampaignWorld, WorldCard } from './campaign-world.js';
import { recoverUntilSettled, runOperation } from './operations.js';
import { SeededRandom } from './seeded-random.js';
import { snapshotWorld, totalValue, unsettledOf } from './world-snapshot.js';

export interface AdversaryPlan {
  /** Commands the hostile terminal sends (1–10). */
  steps: number;
}

export interface AdversaryOutcome {
  /** visited, or skipped (no two active cards on one transfer key: they could not transact). */
  kind: 'visited' | 'skipped';
  commands: number;
  accepted: number;
  /** Round trips of 0.01 that ran (a card with nothing to pay pays nothing). */
  payments: number;
  violations: string[];
  steps: string[];
  /** Payments of 0.01 refused because the payer's PIN is blocked and the payment needed it. */
  pinBlocked?: number;
}

export interface AdversaryContext {
  expectedTotal: number;
  items: ReadonlySet<string>;
  broken?: string;
}

/** The pair a hostile terminal gets: the cards in the readers if they share a transfer key, else two that do. */
function choosePair(world: CampaignWorld, r: SeededRandom): [WorldCard, WorldCard] | undefined {
  const placed = world.placed();
  const key = (c: WorldCard) => c.state().transferKeyId;
  if (key(placed.payer) === key(placed.payee)) return [placed.payer, placed.payee];
  const active = world.active();
  const pairs: [WorldCard, WorldCard][] = [];
  for (const a of active) for (const b of active) if (a !== b && key(a) === key(b)) pairs.push([a, b]);
  return pairs.length > 0 ? r.pick(pairs) : undefined;
}

export async function runAdversary(
  world: CampaignWorld,
  plan: AdversaryPlan,
  seed: number,
  ctx: AdversaryContext,
): Promise<AdversaryOutcome> {
  const r = new SeededRandom(seed ^ 0xad7e);
  const out: AdversaryOutcome = {
    kind: 'skipped',
    commands: 0,
    accepted: 0,
    payments: 0,
    violations: [],
    steps: [],
  };
  const chosen = choosePair(world, r);
  if (!chosen) return out;
  const pair: Record<Side, WorldCard> = { A: chosen[0], B: chosen[1] };
  const transferKey = world.transferKey(pair.A.state().transferKeyId);
  if (!transferKey) throw new Error(`the world's issuer has no transfer key ${pair.A.state().transferKeyId}`);

  const visit = hostileVisit(pair, {
    random: r,
    steps: plan.steps,
    transferKey,
    ...(ctx.broken ? { broken: ctx.broken } : {}),
  });
  out.kind = 'visited';
  out.commands = visit.steps.length;
  out.accepted = visit.accepted;
  out.steps = visit.steps;
  out.violations.push(...visit.violations);
  // A visit that left no trace on the cards' memory leaves them as the last honest case did.
  if (!visit.changed) return withSteps(out);
  for (const side of ['A', 'B'] as const) pair[side].overwrite(visit.images[side]);

  // Back to the honest terminal: both cards in its readers (a card insertion each), recovery.
  const richer = (a: WorldCard, b: WorldCard) => (a.state().balance >= b.state().balance ? [a, b] : [b, a]);
  const [payer, payee] = richer(pair.A, pair.B) as [WorldCard, WorldCard];
  await world.place(payer, payee);
  out.violations.push(...(await recover(world, new Set([payer.holderId, payee.holderId]))));
  out.violations.push(...(await bringAwaitedPayers(world, payee)));
  // Neither card is unable to pay or be paid: 0.01 each way.
  for (const [from, to] of [
    [payer, payee],
    [payee, payer],
  ] as const) {
    if (from.state().balance < 1) continue;
    await world.place(from, to);
    const t = world.terminal();
    try {
      const outcome = (await runOperation(t, { kind: 'transfer', amount: 1 }, world.pin)) as {
        status: string;
        error?: { code?: string };
      };
      out.payments++;
      // A blocked PIN blocks every payment that needs it (§4.6): the holder's matter with the issuer,
      // not a strand (tries are spent by wrong guesses, which the hostile terminal stops short of the
      // last, and by power cut during an honest VERIFY).
      const blocked = outcome.error?.code === 'E_PIN_BLOCKED' && from.state().owner?.tries === 0;
      if (blocked) out.pinBlocked = (out.pinBlocked ?? 0) + 1;
      else if (outcome.status !== 'completed')
        out.violations.push(
          `after the hostile terminal and honest recovery, ${from.label} could not pay ${to.label} 0.01: ${outcome.status} ${outcome.error?.code ?? ''}`,
        );
    } catch (e) {
      out.violations.push(
        `after the hostile terminal and honest recovery, ${from.label} paying ${to.label} 0.01 threw ${isTerminalError(e) ? e.code : (e as Error).stack}`,
      );
    }
  }
  // What is left now is what neither recovery nor a payment settles (an open debit a new payment
  // aborts is gone): a record that takes a log slot for good, the strand of issue 13.
  out.violations.push(...strands(world, pair, ctx));

  return withSteps(out);
}

/** A violation names the hostile terminal's commands that led to it (with the replay command of the report). */
function withSteps(out: AdversaryOutcome): AdversaryOutcome {
  if (out.violations.length > 0) out.violations.push(...out.steps.map((s, i) => `  hostile ${i + 1}. ${s}`));
  return out;
}

/**
 * Honest recovery with both cards in the readers: nothing these two cards can settle is left in doubt.
 * A flow that waits for a third card is not theirs to settle: a replayed INITIATE CREDIT whose payer
 * is another card (protocol §4.3) is released here, and its proof waits for that card.
 */
async function recover(world: CampaignWorld, present: ReadonlySet<string>): Promise<string[]> {
  const t = world.terminal();
  const v = await recoverUntilSettled(t);
  const view = t.recovery.inDoubt();
  const open = {
    transfers: view.transfers.filter((r) => present.has(r.payerId) && present.has(r.payeeId)),
    deliveries: view.deliveries.filter((d) => present.has(d.payerId)),
    contents: view.contents.filter((f) => present.has(f.fromId) && present.has(f.toId)),
  };
  if (open.transfers.length + open.deliveries.length + open.contents.length > 0)
    v.push(
      `after the hostile terminal, honest recovery left ${open.transfers.length} transfers, ${open.deliveries.length} deliveries and ${open.contents.length} content flows in doubt with both cards present`,
    );
  return v;
}

/**
 * A release proof the visit left waiting for a third card (a replayed INITIATE CREDIT whose payer is
 * another card of the world, §4.3): that card comes back, as its holder would, beside `other`, and
 * its delivery must close there (with nothing to refund, or refunded), leaving nothing open.
 */
async function bringAwaitedPayers(world: CampaignWorld, other: WorldCard): Promise<string[]> {
  const t = world.terminal();
  const v: string[] = [];
  const awaited = new Set(t.recovery.inDoubt().deliveries.map((d) => d.payerId));
  for (const card of world.cards()) {
    if (!awaited.has(card.holderId) || card === other) continue;
    await world.place(card, other);
    v.push(...(await recoverUntilSettled(t)));
    const left = t.recovery.inDoubt().deliveries.filter((d) => d.payerId === card.holderId);
    if (left.length > 0)
      v.push(`${left.length} release proofs for ${card.label} still to deliver with that card present`);
  }
  return v;
}

/** No record left that could strand a card; value and items where they were. */
function strands(world: CampaignWorld, pair: Record<Side, WorldCard>, ctx: AdversaryContext): string[] {
  const v: string[] = [];
  for (const card of [pair.A, pair.B]) {
    let s: SettlementState;
    try {
      s = card.state();
    } catch (e) {
      v.push(`${card.label}: memory invalid after the hostile terminal: ${(e as Error).message}`);
      continue;
    }
    const n = unsettledOf(s);
    if (n > 0)
      v.push(
        `${card.label}: ${n} unsettled records after the hostile terminal and honest recovery (${describeUnsettled(s)})`,
      );
  }
  const snapshot = snapshotWorld(world.cards());
  for (const bad of snapshot.invalid) v.push(`card memory invalid: ${bad}`);
  const total = totalValue(snapshot);
  if (total !== ctx.expectedTotal)
    v.push(`value after the hostile terminal and honest recovery: ${total}, expected ${ctx.expectedTotal}`);
  const seen = new Map<string, number>();
  for (const c of snapshot.cards) for (const id of c.items) seen.set(id, (seen.get(id) ?? 0) + 1);
  for (const [id, n] of seen)
    if (n !== 1 || !ctx.items.has(id)) v.push(`item ${id.slice(0, 8)} is on ${n} cards`);
  for (const id of ctx.items) if (!seen.has(id)) v.push(`item ${id.slice(0, 8)} was lost`);
  return v;
}

function describeUnsettled(s: SettlementState): string {
  return unsettledRecords(s).join(', ');
}

/** Each unsettled record, as 'debit debited 1A2B' (kind, status, the first hex digits of its ID). */
function unsettledRecords(s: SettlementState): string[] {
  const parts = [
    ...s.debitLog
      .filter((r) => r.status === 'open' || r.status === 'debited')
      .map((r) => `debit ${r.status} ${r.txRandom.slice(0, 4)}`),
    ...s.creditLog
      .filter((r) => r.status === 'pending')
      .map((r) => `credit pending ${r.txRandom.slice(0, 4)}`),
    ...s.contentLog
      .filter((r) => ['open', 'deleted', 'pending'].includes(r.status))
      .map((r) => `content ${r.direction} ${r.status} ${r.txId.slice(0, 4)}`),
  ];
  const locked = s.contents.filter((i) => i.lockedBy).length;
  if (locked > 0) parts.push(`${locked} items locked`);
  return parts;
}
