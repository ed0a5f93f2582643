// A seeded fault campaign: case after case, an operation on two cards with one fault injected at a
// random point, then recovery with both cards present, then the invariants (case-invariants.ts).
// The same seed gives the same cases in the same world: a failing case is replayed by running the
// campaign with its seed up to that case (the report names both).
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { isTerminalError } from '../../protocol/errors.js';
import { type NoPinCounters, needsPin } from '../../protocol/settlement/cardholder-policy.js';
import { type AdversaryOutcome, runAdversary } from './adversary-case.js';
import type { CampaignWorld, WorldCard } from './campaign-world.js';
import { checkInvariants } from './case-invariants.js';
import { type CasePlan, FAULT_UNIT, type FaultKind, type OperationKind, planCase } from './case-plan.js';
import { type Operation, recoverUntilSettled } from './operations.js';
import { snapshotWorld, totalValue } from './world-snapshot.js';

export interface CampaignOptions {
  seed: number;
  cases: number;
  /** Index of the first case (to resume a campaign); default 0. */
  from?: number;
  swapChance?: number;
  reissueChance?: number;
  /** Called after each case (progress output). */
  onCase?: (c: CaseResult) => void;
  /** Verify the journal's whole hash chain every this many cases (and after the last); default 1. */
  verifyEvery?: number;
  /** Stop at the first violation; default true. */
  stopOnViolation?: boolean;
  /** Share of cases in which a hostile terminal visits two cards first (adversary-case.ts); default 0.25. */
  adversary?: number;
  /** A deliberately broken card in the hostile terminal's visits (test/adversary/broken-cards.ts). */
  broken?: string;
}

/** The default share of adversary cases in a campaign's mix. */
export const DEFAULT_ADVERSARY_SHARE = 0.25;

export interface CaseResult {
  plan: CasePlan;
  operation: Operation['kind'];
  fault: FaultKind;
  fired: boolean;
  outcome: string;
  violations: string[];
  adversary?: AdversaryOutcome;
}

export interface CampaignReport {
  tier: CampaignWorld['tier'];
  seed: number;
  cases: number;
  /** Faults armed by kind, and how many of them fired (a point past the operation's end does not). */
  faults: Record<string, { armed: number; fired: number }>;
  operations: Record<string, number>;
  /** Outcomes: completed, refused:<code>, interrupted:<code>, threw:<code>, killed. */
  outcomes: Record<string, number>;
  /** The hostile terminal's visits: visited, skipped, commands, accepted (9000), payments (0.01 round trips). */
  adversary: Record<string, number>;
  violations: { case: number; caseSeed: number; plan: CasePlan; messages: string[] }[];
  totalValue: number;
  cards: number;
  items: number;
  elapsedMs: number;
}

const MIN_ITEMS_IN_PLAY = 4;

export async function runCampaign(world: CampaignWorld, o: CampaignOptions): Promise<CampaignReport> {
  const started = Date.now();
  const from = o.from ?? 0;
  const items = new Set<string>();
  for (const c of world.cards()) for (const id of c.state().contents.map((i) => i.id)) items.add(id);
  const expectedTotal = totalValue(snapshotWorld(world.cards()));
  const report: CampaignReport = {
    tier: world.tier,
    seed: o.seed,
    cases: 0,
    faults: {},
    operations: {},
    outcomes: {},
    adversary: {},
    violations: [],
    totalValue: expectedTotal,
    cards: 0,
    items: 0,
    elapsedMs: 0,
  };
  // The longest run seen of each operation, per unit: fault points are fractions of these.
  const longest = new Map<string, number>();
  const bump = (map: Record<string, number>, key: string) => {
    map[key] = (map[key] ?? 0) + 1;
  };

  for (let index = from; index < from + o.cases; index++) {
    const plan = planCase(o.seed, index, {
      faults: world.faults,
      activeCards: world.active().length,
      swapChance: o.swapChance ?? 0.2,
      reissueChance: o.reissueChance ?? 0.03,
      adversaryChance: o.adversary ?? DEFAULT_ADVERSARY_SHARE,
    });
    const messages: string[] = [];
    let result: CaseResult | undefined;
    try {
      const last = index === from + o.cases - 1;
      // The whole chain at the last case; every so many cases only what was appended since.
      const verifyChain = last
        ? 'full'
        : (index - from + 1) % (o.verifyEvery ?? 1) === 0
          ? 'incremental'
          : 'none';
      result = await runCase(world, plan, {
        items,
        expectedTotal,
        longest,
        verifyChain,
        ...(o.broken ? { broken: o.broken } : {}),
      });
      messages.push(...result.violations);
    } catch (e) {
      messages.push(`the case itself failed: ${(e as Error).stack ?? String(e)}`);
    }
    report.cases++;
    if (result) {
      const f = report.faults[result.fault] ?? { armed: 0, fired: 0 };
      report.faults[result.fault] = f;
      f.armed++;
      if (result.fired) f.fired++;
      bump(report.operations, result.operation);
      bump(report.outcomes, result.outcome);
      const a = result.adversary;
      if (a) {
        bump(report.adversary, a.kind);
        report.adversary.commands = (report.adversary.commands ?? 0) + a.commands;
        report.adversary.accepted = (report.adversary.accepted ?? 0) + a.accepted;
        report.adversary.payments = (report.adversary.payments ?? 0) + a.payments;
        if (a.pinBlocked) report.adversary.pinBlocked = (report.adversary.pinBlocked ?? 0) + a.pinBlocked;
      }
      o.onCase?.(result);
    }
    if (messages.length > 0) {
      report.violations.push({ case: index, caseSeed: plan.seed, plan, messages });
      if (o.stopOnViolation ?? true) break;
    }
  }
  report.cards = world.cards().length;
  report.items = items.size;
  report.elapsedMs = Date.now() - started;
  return report;
}

interface CaseContext {
  verifyChain: 'full' | 'incremental' | 'none';
  items: Set<string>;
  expectedTotal: number;
  longest: Map<string, number>;
  broken?: string;
}

async function runCase(world: CampaignWorld, plan: CasePlan, ctx: CaseContext): Promise<CaseResult> {
  // A hostile terminal first, between honest operations: its own checks, then honest recovery.
  const adversary = plan.adversary && (await runAdversary(world, plan.adversary, plan.seed, ctx));
  if (adversary && adversary.violations.length > 0)
    return {
      plan,
      operation: plan.operation,
      fault: plan.fault,
      fired: false,
      outcome: 'adversary',
      violations: adversary.violations,
      adversary,
    };
  // World moves first (no fault armed): a card reissued, another pair in the readers.
  if (plan.reissue) {
    const card = retiree(world);
    if (card) await world.reissue(card);
  }
  await arrangeReaders(world, plan);
  const operation = await chooseOperation(world, plan, ctx);
  const placed = world.placed();

  const before = snapshotWorld(world.cards());
  const unit = FAULT_UNIT[plan.fault];
  const key = `${operation.kind}:${unit}`;
  const at = unit === 'none' ? 0 : Math.max(1, Math.ceil(plan.faultPoint * (ctx.longest.get(key) ?? 8)));
  const run = await world.run(operation, { kind: plan.fault, at });
  for (const [u, n] of [
    ['apdu', run.trace.apdus],
    ['card-write', run.trace.cardWrites],
    ['journal-write', run.trace.journalWrites],
  ] as const) {
    const k = `${operation.kind}:${u}`;
    if (n > (ctx.longest.get(k) ?? 0)) ctx.longest.set(k, n);
  }

  const violations: string[] = [];
  const t = world.terminal();
  violations.push(...(await recoverUntilSettled(t)));

  const outcome = describeOutcome(run.outcome, run.thrown, run.killed);
  if (run.thrown !== undefined && !isTerminalError(run.thrown))
    violations.push(
      `the operation threw an untyped error: ${(run.thrown as Error)?.stack ?? String(run.thrown)}`,
    );
  if (plan.fault !== 'none' && !run.trace.fired && outcome.startsWith('interrupted'))
    violations.push(`interrupted although no fault fired: ${outcome}`);
  if (plan.fault === 'none' && outcome.startsWith('interrupted'))
    violations.push(`interrupted without any fault: ${outcome}`);

  const after = snapshotWorld(world.cards());
  violations.push(
    ...checkInvariants({
      before,
      after,
      placed: { payer: placed.payer.holderId, payee: placed.payee.holderId },
      operation,
      expectedTotal: ctx.expectedTotal,
      items: ctx.items,
      reported: outcome === 'completed' ? 'completed' : outcome.startsWith('refused') ? 'refused' : undefined,
      faultFired: run.trace.fired,
      terminal: t,
      verifyChain: ctx.verifyChain,
    }),
  );
  return {
    plan,
    operation: operation.kind,
    fault: plan.fault,
    fired: run.trace.fired,
    outcome,
    violations,
    ...(adversary ? { adversary } : {}),
  };
}

/**
 * The card a reissue retires: out of the readers, a card whose PIN got blocked (a tear at VERIFY can
 * cost a try; the shop would send it back), else the one holding least value. A retired card keeps
 * its value, so retiring rich cards would drain the cards in play until most transfers are refused.
 */
function retiree(world: CampaignWorld): WorldCard | undefined {
  const placed = Object.values(world.placed());
  const candidates = world.active().filter((c) => !placed.includes(c));
  const blocked = candidates.find((c) => c.state().owner?.tries === 0);
  if (blocked) return blocked;
  return candidates.sort((a, b) => a.state().balance - b.state().balance)[0];
}

/**
 * The planned pair, or the cards in the readers; a payer that can no longer pay changes roles with
 * the payee, or gives its place to the richest card (new cards start empty).
 */
async function arrangeReaders(world: CampaignWorld, plan: CasePlan): Promise<void> {
  const active = world.active();
  const placed = world.placed();
  const balance = (c: WorldCard) => c.state().balance;
  let payer = plan.swap ? active[plan.swap.payer] : placed.payer;
  let payee = plan.swap ? active[plan.swap.payee] : placed.payee;
  if (!payer || !payee || !active.includes(payer) || !active.includes(payee)) {
    [payer, payee] =
      [placed.payer, placed.payee].filter((c) => active.includes(c)).length === 2
        ? [placed.payer, placed.payee]
        : [active[0]!, active[1]!];
  }
  if (balance(payer) < 100) {
    if (balance(payee) >= 100) [payer, payee] = [payee, payer];
    else {
      const richest = [...active].sort((a, b) => balance(b) - balance(a))[0]!;
      payee = richest === payee ? payer : payee;
      payer = richest;
    }
  }
  if (payer !== payee && (payer !== placed.payer || payee !== placed.payee)) await world.place(payer, payee);
}

/** Makes the planned operation concrete for the cards in the readers. */
async function chooseOperation(world: CampaignWorld, plan: CasePlan, ctx: CaseContext): Promise<Operation> {
  const placed = world.placed();
  const payer = placed.payer.state();
  const payee = placed.payee.state();
  const inPlay = world.active().reduce((n, c) => n + c.state().contents.length, 0);
  if (inPlay < MIN_ITEMS_IN_PLAY || (plan.operation === 'content-exchange' && payee.contents.length === 0)) {
    const slot = plan.operation === 'content-exchange' ? 'payee' : plan.sender;
    ctx.items.add(await world.issueItem(slot, `case ${plan.index}`));
  }
  const amount = plan.overdraw
    ? payer.balance + 1
    : Math.max(1, Math.floor(payer.balance * plan.amountShare));
  const kind: OperationKind = plan.operation;
  // Whether the payer card will need its PIN for this amount (the CLI of a killed terminal is given it).
  const pin = payer.cardholderPolicy ? needsPin(payer.cardholderPolicy, counters(payer), amount) : false;
  switch (kind) {
    case 'transfer':
      return { kind, amount, pin };
    case 'key-update':
      return { kind };
    case 'content-send': {
      const from = world.placed()[plan.sender].state();
      const item = from.contents[0];
      if (!item) return { kind: 'transfer', amount, pin };
      return { kind, from: plan.sender, itemId: item.id };
    }
    case 'content-exchange': {
      const item = world.placed().payee.state().contents[0];
      if (!item) return { kind: 'transfer', amount, pin };
      return { kind, amount, itemId: item.id };
    }
  }
}

function describeOutcome(outcome: unknown, thrown: unknown, killed: boolean): string {
  if (killed) return 'killed';
  if (thrown !== undefined) return `threw:${isTerminalError(thrown) ? thrown.code : 'untyped'}`;
  if (Array.isArray(outcome)) return 'completed'; // key update summaries
  const o = outcome as { status?: string; error?: { code?: string } } | undefined;
  if (!o?.status) return 'unknown';
  return o.status === 'completed' ? 'completed' : `${o.status}:${o.error?.code ?? '?'}`;
}

function counters(card: SettlementState): NoPinCounters {
  const p = card.cardholderPolicy!;
  return { total: p.noPinTotal, count: p.noPinCount };
}
