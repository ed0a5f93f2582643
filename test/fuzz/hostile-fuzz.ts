// Hostile cards, randomized: the matrices of hostile-*.test.ts take one misbehaviour at one command;
// this core lets both cards lie at once, at any occurrence of any command of a value transfer, a key
// update, a content transmission or an exchange, for the soak command's long runs.
//
// Properties: the terminal answers with an outcome or a typed error (never E_INTERNAL, never an
// untyped exception); the journal verifies; no value is created, none is lost beyond what the
// in-doubt list shows, and the ticket is never on both cards; once the cards are honest again,
// recovery settles everything, the journal says truly whether the value or the ticket moved, and
// the cards still work.
import fc from 'fast-check';
import { MISBEHAVIOURS } from '../../card-sim/hostile/hostile-card.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { isTerminalError, type TerminalError } from '../../protocol/errors.js';
import { ticket } from '../support/content-fixtures.js';
import { checkProperty, type FuzzOptions, type FuzzReport, FuzzStats, invariant } from './fuzz-report.js';
import {
  armOnce,
  EXCHANGE_COMMANDS,
  type FlowCommand,
  type HostileKind,
  type HostileTerminal,
  honestAgain,
  issueTo,
  KEY_UPDATE_COMMANDS,
  makeHostileTerminal,
  SLOW,
  TRANSFER_COMMANDS,
  TRANSMISSION_COMMANDS,
} from './hostile-terminal.js';
import { withSeededRandom } from './seeded-random.js';

export type HostileFlow = 'transfer' | 'key-update' | 'transmission' | 'exchange';

const COMMANDS: Record<HostileFlow, readonly FlowCommand[]> = {
  transfer: TRANSFER_COMMANDS,
  'key-update': KEY_UPDATE_COMMANDS,
  transmission: TRANSMISSION_COMMANDS,
  exchange: EXCHANGE_COMMANDS,
};

export interface HostileRuleCase {
  /** Index into the flow's commands (modulo). */
  command: number;
  kind: HostileKind;
  /** Which occurrence of that command (a flow and its recovery may send it more than once). */
  nth: number;
}

export interface HostileCase {
  flow: HostileFlow;
  rngSeed: number;
  /** At most one rule per card; the second is dropped when it names the same card. */
  rules: HostileRuleCase[];
}

const ruleArb = fc.record({
  command: fc.nat(),
  kind: fc.constantFrom<HostileKind>(...MISBEHAVIOURS, ...SLOW),
  nth: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }),
});

export const hostileCaseArb: fc.Arbitrary<HostileCase> = fc.record({
  flow: fc.constantFrom<HostileFlow>('transfer', 'key-update', 'transmission', 'exchange'),
  rngSeed: fc.nat(),
  rules: fc.array(ruleArb, { minLength: 1, maxLength: 2 }),
});

export async function runHostileFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const stats = new FuzzStats();
  const property = fc.asyncProperty(hostileCaseArb, (c) =>
    withSeededRandom(`hostile:${opts.seed}:${c.rngSeed}`, () => runHostileCase(c, stats)),
  );
  return checkProperty('hostile', property, opts, stats);
}

const PRICE = 1500;

interface World {
  t: HostileTerminal;
  itemId?: string;
  /** Payer and payee purses before the flow, and after it if it moves value. */
  before: Record<SlotName, number>;
  moved: Record<SlotName, number>;
  /** The flow's operation; resolves to its flow ID (if any) and error (if any). */
  run(): Promise<{ flowId?: string; error?: TerminalError }>;
}

async function world(flow: HostileFlow): Promise<World> {
  if (flow === 'transfer' || flow === 'key-update') {
    const keys = flow === 'key-update' ? { payer: { transferKeyId: 1 }, payee: { transferKeyId: 2 } } : {};
    const t = makeHostileTerminal({
      payer: { balance: 1000, ...keys.payer },
      payee: { balance: 500, ...keys.payee },
    });
    const amount = 50;
    return {
      t,
      before: { payer: 1000, payee: 500 },
      moved: { payer: 1000 - amount, payee: 500 + amount },
      async run() {
        // A key update moves no value: the transfer that follows it is what moves value, if it runs.
        const outcome = await t.engine.transfer({ amount });
        return outcome.status === 'completed'
          ? { flowId: outcome.flowId }
          : { flowId: outcome.flowId, error: outcome.error };
      },
    };
  }
  const t = makeHostileTerminal({
    payer: { balance: 5000 },
    payee: { balance: 0, issuerCard: true, pin: '0000' },
  });
  const item = ticket(t.issuer);
  await issueTo(t, 'payee', item);
  await t.engine.login('payer', '1234');
  await t.contents.authenticate();
  const exchange = flow === 'exchange';
  return {
    t,
    itemId: item.id,
    before: { payer: 5000, payee: 0 },
    moved: exchange ? { payer: 5000 - PRICE, payee: PRICE } : { payer: 5000, payee: 0 },
    async run() {
      const outcome = exchange
        ? await t.contents.exchange({
            initiator: 'payer',
            give: { amount: PRICE },
            take: { itemId: item.id },
          })
        : await t.contents.send({ from: 'payee', itemId: item.id });
      return outcome.status === 'completed'
        ? { flowId: outcome.flowId }
        : { flowId: outcome.flowId, error: outcome.error };
    },
  };
}

function holders(t: HostileTerminal, itemId: string): SlotName[] {
  return (['payer', 'payee'] as const).filter((s) =>
    t.cards[s].store.read().contents.some((i) => i.id === itemId),
  );
}

function inDoubt(t: HostileTerminal): number {
  return t.engine.inDoubt().reduce((sum, i) => sum + i.amount, 0);
}

export async function runHostileCase(c: HostileCase, stats = new FuzzStats()): Promise<void> {
  const w = await world(c.flow);
  const { t } = w;
  const armed = new Map<SlotName, () => boolean>();
  for (const rule of c.rules) {
    const [name, ins, slot] = COMMANDS[c.flow][rule.command % COMMANDS[c.flow].length]!;
    if (armed.has(slot)) continue;
    armed.set(slot, armOnce(t, slot, ins, rule.kind, rule.nth));
    stats.add(`${c.flow} ${name}: ${rule.kind}`);
  }

  let result: Awaited<ReturnType<World['run']>>;
  try {
    result = await w.run();
  } catch (e) {
    throw new Error(`the terminal threw instead of answering an outcome: ${(e as Error)?.message}`);
  }
  if (result.error) {
    invariant(isTerminalError(result.error), `an untyped error: ${String(result.error)}`);
    invariant(result.error.code !== 'E_INTERNAL', `E_INTERNAL: ${result.error.message}`);
    stats.add(`refused ${result.error.code}`);
  } else stats.add('completed');
  stats.add(
    [...armed.values()].some((fired) => fired()) ? 'a card lied' : 'no card lied (command not reached)',
  );
  invariant(t.journal.verify().ok, 'the journal does not verify');
  const mid = t.balances();
  const total = w.before.payer + w.before.payee;
  invariant(mid.payer + mid.payee <= total, `value created (${total} → ${mid.payer + mid.payee})`);
  invariant(mid.payer + mid.payee + inDoubt(t) >= total, 'value lost beyond the in-doubt list');
  if (w.itemId) invariant(holders(t, w.itemId).length <= 1, 'the ticket is on both cards');

  honestAgain(t);
  try {
    await t.engine.recover();
    await t.contents.recover();
  } catch (e) {
    throw new Error(`recovery with honest cards failed: ${(e as Error)?.message}`);
  }
  const after = t.balances();
  const didMove = after.payer !== w.before.payer || after.payee !== w.before.payee;
  const expected = didMove ? w.moved : w.before;
  invariant(
    after.payer === expected.payer && after.payee === expected.payee,
    `balances ${JSON.stringify(after)}`,
  );
  invariant(t.engine.openTransfers().length === 0, 'a value transfer is still open');
  invariant(t.engine.inDoubt().length === 0, 'value is still in doubt');
  invariant(t.contents.openFlows().length === 0, 'a content flow is still open');
  if (w.itemId) {
    const where = holders(t, w.itemId);
    invariant(where.length === 1, `the ticket is on ${where.length} cards`);
    if (c.flow === 'exchange')
      invariant((where[0] === 'payer') === didMove, 'ticket and price did not move together');
  }
  // The journal says truly whether the value (or the ticket) moved.
  const gaveTicket = w.itemId !== undefined && holders(t, w.itemId)[0] === 'payer';
  if (result.flowId) {
    const last = t.journal.entriesForFlow(result.flowId).at(-1)?.step;
    const moved = c.flow === 'transmission' ? gaveTicket : didMove;
    invariant(
      moved ? last === 'completed' : last === 'rolled-back' || last === 'failed-no-value-moved',
      `the journal ends the flow with ${last}, the cards say it ${moved ? 'moved' : 'did not move'}`,
    );
  }
  invariant(t.journal.verify().ok, 'the journal does not verify after recovery');
  stats.add(didMove || gaveTicket ? 'settled forward' : 'settled back');

  // The cards still work.
  const next = await t.engine.transfer({ amount: 1 });
  invariant(next.status === 'completed', `a transfer after recovery: ${next.status}`);
}
