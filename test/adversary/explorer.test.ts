// The exhaustive bounded exploration of the two-card protocol (docs/safety.md), in small: every
// sequence of 3 commands of the hostile terminal from the root, and 3 more from a payment in flight,
// with every invariant in every state; each deliberately broken card caught with a sequence that
// replays; the residual case of docs/protocol.md §10.3 performed with two honest cards. The full
// depth is `npm run explore -- --depth 8 --workers 2` (figures in docs/safety.md).
import { beforeAll, describe, expect, it } from 'vitest';
import { MAC_LABEL, type MacLabel } from '../../protocol/settlement/mac-input.js';
import { cliProcess } from '../support/cli-process.js';
import { type Command, enumerateCommands } from './alphabet.js';
import { type BROKEN_CARDS, brokenApplets } from './broken-cards.js';
import { Explorer } from './explorer.js';
import { buildExplorerRoot, type ExplorerRoot } from './explorer-root.js';
import { cardsOf, macId, macIdOfMessage, type WorldState } from './world-state.js';

let root: ExplorerRoot;
beforeAll(async () => {
  root = await buildExplorerRoot();
});

type Pick = (c: Command, s: WorldState) => boolean;
/** The newest debit record of card A: the transaction the next honest step is about. */
const newestOfA = (s: WorldState) => cardsOf(s).A.debitLog.at(-1)!.txRandom;
const genuine =
  (kind: Command['kind'], card: 'A' | 'B'): Pick =>
  (c, s) =>
    c.kind === kind &&
    c.card === card &&
    'proof' in c &&
    c.proof.kind === 'genuine' &&
    c.tx.terms.txRandom === newestOfA(s);
const initiateDebit =
  (amount: number): Pick =>
  (c) =>
    c.kind === 'initiate-debit' && c.card === 'A' && c.amount === amount;
/** A pays B `amount` up to the step named: INITIATE DEBIT, INITIATE CREDIT, DEBIT, CREDIT. */
const payment = (amount: number, steps: number): Pick[] =>
  [
    initiateDebit(amount),
    genuine('initiate-credit', 'B'),
    genuine('debit', 'A'),
    genuine('credit', 'B'),
  ].slice(0, steps);

describe('the explorer’s own parts', () => {
  it('names each MAC by its message (label ‖ terms), as the card computes it', () => {
    const terms = {
      transferKeyId: 1,
      payerId: root.holderIds.A,
      payeeId: root.holderIds.B,
      currency: root.currency,
      amount: 2_501,
      date: root.date,
      txRandom: 'AB'.repeat(16),
    };
    for (const label of Object.values(MAC_LABEL) as MacLabel[])
      expect(macId(label, terms, 'CD'.repeat(16))).toBe(macIdOfMessage(label, terms, 'CD'.repeat(16)));
  });

  it('deduplicates states up to the names of their randoms, and tells different states apart', () => {
    const explorer = new Explorer(root);
    const s = explorer.replay(explorer.pathOf(payment(1, 2)))!.state;
    const rt = newestOfA(s);
    const other = '5A'.repeat(16);
    const rename = (text: string) => text.split(rt).join(other);
    const renamed: WorldState = {
      ...s,
      images: { A: rename(s.images.A), B: rename(s.images.B) },
      issued: s.issued.map(rename).sort(),
    };
    expect(renamed.images.A).not.toBe(s.images.A);
    expect(explorer.hash(renamed)).toBe(explorer.hash(s));
    const richer = {
      ...s,
      images: { ...s.images, A: s.images.A.replace('"balance":6000', '"balance":6001') },
    };
    expect(explorer.hash(richer)).not.toBe(explorer.hash(s));
    expect(explorer.hash({ ...s, owner: { A: true, B: false } })).not.toBe(explorer.hash(s));
  });

  it('derives a single-write command cut before or after its write as running it cut gives', () => {
    const derived = new Explorer(root);
    const executed = new Explorer(root, {}, { executeTears: true });
    const states = [derived.start, derived.replay(derived.pathOf(payment(2_500, 2)))!.state];
    let cuts = 0;
    for (const s of states) {
      for (const c of enumerateCommands(s, root)) {
        const a = derived.world.successors(s, c);
        const b = executed.world.successors(s, c);
        expect(a.map((x) => [x.power, derived.hash(x.state), x.answer.torn])).toEqual(
          b.map((x) => [x.power, executed.hash(x.state), x.answer.torn]),
        );
        cuts += a.filter((x) => x.answer.torn).length;
      }
    }
    expect(cuts).toBeGreaterThan(20);
  });

  it('replays a path to the very state, byte for byte, in a new explorer', () => {
    const path = new Explorer(root).pathOf(payment(2_500, 4));
    const a = new Explorer(root).replay(path)!;
    const b = new Explorer(root).replay(path)!;
    expect(a.state.images).toEqual(b.state.images);
    expect(a.steps).toEqual(b.steps);
    expect(a.steps.map((s) => s.split(' → ')[1]!.slice(0, 4))).toEqual(['9000', '9000', '9000', '9000']);
  });
});

describe('what the explorer remembers changes its speed, never what it finds', () => {
  // The plain explorer runs every command on the card, every check from scratch, and names states
  // with the first, plain form of the canonical hash: the same states reached by the same paths, in
  // the same order, and the same moves, prove every cache and shortcut of the other one sound here.
  const compare = async (from: (e: Explorer) => number[], depth: number) => {
    const fast = new Explorer(root);
    const plain = new Explorer(root, {}, { plain: true });
    const a = await fast.run(depth, { from: from(fast), collectPaths: true, maxViolations: 5 });
    const b = await plain.run(depth, { from: from(plain), collectPaths: true, maxViolations: 5 });
    const counts = (r: typeof a) => [
      r.states,
      r.transitions,
      r.selfLoops,
      r.revisits,
      r.levels.map((l) => l.states),
    ];
    expect(counts(a)).toEqual(counts(b));
    expect(a.paths).toEqual(b.paths);
    expect(a.violations).toEqual([]);
    expect(b.violations).toEqual([]);
    return a;
  };

  it('from the root, 2 commands deep', async () => {
    expect((await compare(() => [], 2)).states).toBeGreaterThan(60);
  }, 120_000);

  it('from a payment debited and not yet credited, 2 more', async () => {
    expect((await compare((e) => e.pathOf(payment(2_500, 3)), 5)).states).toBeGreaterThan(60);
  }, 120_000);
});

describe('every sequence of hostile-terminal commands on two real cards', () => {
  it('of up to 3 commands from the root: every invariant holds in every state', async () => {
    const report = await new Explorer(root).run(3, { maxViolations: 5 });
    expect(report.violations).toEqual([]);
    expect(report.residual).toEqual([]);
    expect(report.levels.map((l) => l.depth)).toEqual([0, 1, 2, 3]);
    expect(report.states).toBeGreaterThan(300);
    expect(report.transitions).toBeGreaterThan(30_000);
  }, 120_000);

  it('of 3 more commands once a payment of 25.00 is debited and not yet credited: every invariant holds', async () => {
    const explorer = new Explorer(root);
    const from = explorer.pathOf(payment(2_500, 3));
    const report = await explorer.run(6, { from, maxViolations: 5 });
    expect(report.violations).toEqual([]);
    expect(report.levels.map((l) => l.depth)).toEqual([3, 4, 5, 6]);
    expect(report.states).toBeGreaterThan(300);
  }, 120_000);
});

describe('the explorer fails on a broken card, with a sequence that replays', () => {
  const cases: [name: keyof typeof BROKEN_CARDS, prefix: () => Pick[], expected: RegExp][] = [
    ['accepts-forged-debit-proof', () => [], /no payer card's debit proof backs/],
    ['credits-twice', () => payment(1, 4), /value created/],
    ['aborts-debited', () => payment(1, 3), /value lost|the payer issued RC\/\w+ and AP/],
    ['releases-credited', () => payment(1, 4), /the payee issued (ACK and RP|RP and ACK)/],
    ['forgets-no-pin-payments', () => payment(2_500, 3), /without the PIN/],
  ];
  it.each(cases)(
    '%s',
    async (name, prefix, expected) => {
      const explorer = new Explorer(root, brokenApplets(name));
      const from = explorer.pathOf(prefix());
      const report = await explorer.run(from.length + 1, { from });
      expect(report.violations).toHaveLength(1);
      const [v] = report.violations;
      expect(v!.messages.join('\n')).toMatch(expected);
      expect(v!.steps).toHaveLength(v!.path.length);
      // The printed path replays to the same violation in a new explorer, from the root.
      const again = new Explorer(root, brokenApplets(name));
      const replayed = again.replay(v!.path)!;
      const found = [...replayed.moveViolations, ...(await again.checkState(replayed.state)).violations];
      expect(found.join('\n')).toMatch(expected);
      // The real card does not do it.
      const honest = new Explorer(root);
      const real = honest.replay(v!.path);
      if (real) {
        expect(real.moveViolations).toEqual([]);
        expect((await honest.checkState(real.state)).violations).toEqual([]);
      }
    },
    60_000,
  );
});

describe('the residual case of docs/protocol.md §10.3, with two honest cards', () => {
  it('needs a hostile terminal to withhold ACK and push the payee’s record out with 8 more credits; the issuer settles it', async () => {
    const explorer = new Explorer(root);
    // A pays B 0.01; B credits; the terminal keeps the ACK. Then 8 more INITIATE CREDITs on B (each
    // after an INITIATE DEBIT on A that aborts the one before) evict B's record: 20 commands.
    const path = explorer.pathOf([
      ...payment(1, 4),
      ...Array.from({ length: 8 }, () => [initiateDebit(1), genuine('initiate-credit', 'B')]).flat(),
    ]);
    expect(path).toHaveLength(20);
    const { state } = explorer.replay(path)!;
    const debited = cardsOf(state).A.debitLog.filter((r) => r.status === 'debited');
    expect(debited).toHaveLength(1);
    expect(state.archive.some((a) => a.side === 'B' && a.record.txRandom === debited[0]!.txRandom)).toBe(
      true,
    );
    const verdict = await explorer.checkState(state);
    expect(verdict.violations).toEqual([]);
    expect(verdict.residual).toHaveLength(1);
    expect(verdict.residual[0]).toMatch(/evicted with its proof withheld; settled by the issuer/);
  }, 60_000);
});

describe('npm run explore', () => {
  const explore = cliProcess('test/adversary/explore-cli.ts', process.cwd());

  it('prints the sequence that breaks a broken card and the command that replays it, and exits 1', () => {
    const run = explore('--depth', '1', '--broken', 'accepts-forged-debit-proof');
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/VIOLATION after 1 moves:\n {2}1\. B ← INITIATE CREDIT .* → 9000/);
    const replay = run.stdout.match(/replay: npm run explore -- (--replay \S+ --broken \S+)/)![1]!.split(' ');
    const again = explore(...replay);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(
      /VIOLATION: B: a pending credit record \w+ that no payer card's debit proof backs/,
    );
    expect(explore(replay[0]!, replay[1]!).stdout).toMatch(/every invariant holds/); // the real card refuses it
  }, 60_000);

  it('refuses a depth that is not a number, changing nothing', () => {
    const run = explore('--depth', 'eight');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--depth must be an integer ≥ 0/);
  });
});
