import { setTimeout as sleep } from 'node:timers/promises';
import type { SyncResult } from '../../electron/services/host-link/journal-uploader.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { openLogReadOnly } from '../../electron/services/terminal-lock.js';
import { createReports } from '../../electron/services/terminal-services.js';
import { forgedUpload } from './fleet-forged-upload.js';
import { businessDays, checkFleetInvariants, openNeeds, unheldInFlight } from './fleet-invariants.js';
import type { KillArm } from './fleet-terminal.js';
import {
  cardState,
  createFleetWorld,
  type FleetCard,
  type FleetWorld,
  HostInstance,
  TerminalGone,
  TerminalProcess,
  type TerminalSetup,
} from './fleet-world.js';
import type { Operation } from './operations.js';
import { SeededRandom } from './seeded-random.js';

export const FLEET_FAULTS = [
  'terminal-killed',
  'instance-killed',
  'postgres-killed',
  'terminal-offline',
  'replay',
  'edited',
] as const;
type Fault = (typeof FLEET_FAULTS)[number];

export interface FleetSoakReport {
  seed: number;
  rounds: number;
  /** Operations by kind and outcome ("transfer completed", "exchange killed"…). */
  operations: Record<string, number>;
  /** Faults struck, and how they went ("terminal-killed: carried payee-first"…). */
  faults: Record<string, number>;
  /** What the terminals' recovery did: foreign records adopted, flows settled, proofs delivered. */
  recovery: Record<string, number>;
  entries: number;
  violations: string[];
  elapsedMs: number;
}

interface Station {
  setup: TerminalSetup;
  process: TerminalProcess | undefined;
  cards: Partial<Record<SlotName, FleetCard>>;
  batchSize: number;
}

type Recovered = { adopted: number; settled: number; failed: number; refunded: number };
/** A value transfer, a ticket bought with e-money, a ticket sent, or e-money sent as a content transfer. */
type PlannedOp = { kind: 'transfer' | 'exchange' | 'send' | 'e-money send'; share: number };

const SLOTS: SlotName[] = ['payer', 'payee'];
/** What the report calls each operation. */
const OPERATION_NAMES = {
  transfer: 'transfer',
  'content-exchange': 'exchange',
  'content-send': 'send',
  'emoney-send': 'e-money send',
  'key-update': 'key update',
} as const satisfies Record<Operation['kind'], string>;

export async function runFleetSoak(o: {
  seed: number;
  rounds: number;
  log?: (line: string) => void;
}): Promise<FleetSoakReport> {
  const started = Date.now();
  const random = new SeededRandom(o.seed);
  const below = (n: number) => random.int(0, n - 1);
  const log = o.log ?? (() => {});
  const clock = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const report: FleetSoakReport = {
    seed: o.seed,
    rounds: o.rounds,
    operations: {},
    faults: {},
    recovery: {},
    entries: 0,
    violations: [],
    elapsedMs: 0,
  };
  const count = (map: Record<string, number>, key: string) => {
    map[key] = (map[key] ?? 0) + 1;
  };
  const v = report.violations;

  const world: FleetWorld = await createFleetWorld({
    cards: 12,
    balance: 20_000,
    tickets: 8,
    shops: [
      { shopId: 'shop-north', terminals: ['till-1', 'till-2'] },
      { shopId: 'shop-south', terminals: ['till-3'] },
    ],
  });
  const instances: HostInstance[] = [];
  const stations: Station[] = world.terminals.map((setup) => ({
    setup,
    process: undefined,
    cards: {},
    batchSize: 3 + below(30),
  }));
  const urls = () => instances.map((i) => i.url);
  const live = () => stations.filter((s) => s.process?.alive);
  const where = (card: FleetCard) =>
    stations.flatMap((s) => SLOTS.filter((slot) => s.cards[slot] === card).map((slot) => ({ s, slot })))[0];
  const startStation = async (s: Station) => {
    s.cards = {};
    s.process = await TerminalProcess.start(s.setup.terminalId, world.env(s.setup, urls(), s.batchSize));
  };
  const call = async <T>(s: Station, command: Parameters<TerminalProcess['call']>[0]): Promise<T> =>
    s.process!.call<T>(command);
  /** A station whose process died: its slots are empty (the kernel released its card locks). */
  const died = (s: Station) => {
    s.cards = {};
  };

  const vacate = async (s: Station, slot: SlotName) => {
    if (!s.cards[slot]) return;
    await call(s, { cmd: 'remove', slot });
    s.cards[slot] = undefined;
  };
  /** Puts `card` into `slot` at `s`, taking it out of wherever it is first. */
  const place = async (s: Station, slot: SlotName, card: FleetCard) => {
    if (s.cards[slot] === card) return;
    await vacate(s, slot);
    const at = where(card);
    if (at && at.s !== s && random.chance(0.25)) {
      // Another terminal holds it: the lock refuses this one, and nothing changes.
      const refused = await call(s, { cmd: 'insert', slot, file: card.file }).then(
        () => 'inserted',
        (e: { code?: string }) => e.code ?? 'untyped',
      );
      if (refused === 'E_CARD_IN_USE') count(report.operations, 'insert refused: card in use');
      else
        v.push(
          `${s.setup.terminalId} opened ${card.label} while ${at.s.setup.terminalId} held it: ${refused}`,
        );
    }
    if (at) await vacate(at.s, at.slot);
    const r = await call<{ delivered: number; recovered: Recovered }>(s, {
      cmd: 'insert',
      slot,
      file: card.file,
    });
    s.cards[slot] = card;
    tally(r.recovered, r.delivered);
  };
  const tally = (r: Recovered, delivered = 0) => {
    const add = (key: string, n: number) => {
      if (n > 0) report.recovery[key] = (report.recovery[key] ?? 0) + n;
    };
    add('foreign records adopted', r.adopted);
    add('flows settled', r.settled);
    add('release proofs delivered from the host', delivered);
    add('payer records refunded by a release proof', r.refunded);
    if (r.failed > 0) add('passes that failed', r.failed);
  };
  const recover = async (s: Station) =>
    tally((await call<{ recovered: Recovered }>(s, { cmd: 'recover' })).recovered);
  const syncUntilCaughtUp = async (s: Station, tries = 20): Promise<SyncResult> => {
    let r: SyncResult | undefined;
    for (let i = 0; i < tries; i++) {
      r = await call<SyncResult>(s, { cmd: 'sync' });
      if (r.ok && r.waiting === 0) return r;
      await sleep(200);
    }
    return r!;
  };

  // Fault kinds in a seeded order first, then drawn.
  const order = [...FLEET_FAULTS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = below(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  // The shortest payment and exchange seen, in APDUs and journal writes: kill points fall inside.
  const shortest: Record<string, number> = {
    'transfer:apdu': 8,
    'transfer:journal': 4,
    'exchange:apdu': 10,
    'exchange:journal': 4,
    // An e-money send runs VERIFY and the six AUTH commands first, then its five content commands
    // (15 to 18 APDUs in all) and journals six entries: the kill points reach its last command.
    'e-money send:apdu': 15,
    'e-money send:journal': 6,
  };

  try {
    log(`${clock()}: PostgreSQL, cards and terminal identities ready`);
    const starting = await Promise.allSettled([0, 1].map(() => HostInstance.start(world.hostConfig)));
    for (const r of starting) if (r.status === 'fulfilled') instances.push(r.value); // stopped at the end
    for (const r of starting) if (r.status === 'rejected') throw r.reason;
    await Promise.all(stations.map(startStation));
    log(`${clock()}: two host instances and three terminals started`);

    for (let round = 0; round < o.rounds; round++) {
      const fault: Fault = round < order.length ? order[round]! : random.pick(FLEET_FAULTS);
      count(report.faults, fault);
      // The round's plan, drawn before anything runs (the processes then run at once).
      const shuffled = [...world.cards];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = below(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const plans = stations.map(() =>
        Array.from(
          { length: 1 + below(3) },
          (): PlannedOp => ({
            kind: random.weighted([
              ['transfer', 6],
              ['exchange', 3],
              ['send', 1],
              ['e-money send', 2],
            ] as const),
            share: random.chance(0.3) ? 0.2 + random.int(0, 30) / 100 : random.int(1, 10) / 100,
          }),
        ),
      );
      const victim =
        fault === 'terminal-killed' || fault === 'terminal-offline' ? stations[below(3)]! : undefined;
      const unit: KillArm['unit'] = random.chance(0.6) ? 'apdu' : 'journal';
      const killPoint = random.int(1, 1000) / 1000;
      if (victim && fault === 'terminal-killed')
        plans[stations.indexOf(victim)]![0]!.kind = random.weighted([
          ['transfer', 6],
          ['exchange', 2],
          ['e-money send', 2],
        ] as const);
      const carry = random.pick(['both', 'payee-first', 'payer-first'] as const);
      const helpers = [below(2), below(2)];
      const strikeAt = below(2);
      const strikeDelay = below(30);

      if (fault === 'terminal-offline') await call(victim!, { cmd: 'offline', offline: true });
      // Two cards to each terminal: one holding a ticket receives where an exchange is planned, else
      // the richer one pays.
      for (const [i, s] of stations.entries()) {
        const pair = [shuffled[2 * i]!, shuffled[2 * i + 1]!].sort(
          (a, b) => cardState(b).balance - cardState(a).balance,
        );
        if (plans[i]!.some((p) => p.kind === 'exchange') && cardState(pair[1]!).contents.length === 0)
          pair.reverse();
        await place(s, 'payer', pair[0]!);
        await place(s, 'payee', pair[1]!);
      }

      const operate = async (s: Station, plan: PlannedOp[]) => {
        for (const [n, p] of plan.entries()) {
          const payer = cardState(s.cards.payer!);
          const payee = cardState(s.cards.payee!);
          const amount = Math.max(1, Math.floor(payer.balance * p.share));
          let op: Operation = { kind: 'transfer', amount };
          if (p.kind === 'exchange' && payee.contents.length > 0)
            op = { kind: 'content-exchange', amount, itemId: payee.contents[0]!.id };
          else if (p.kind === 'e-money send') op = { kind: 'emoney-send', from: 'payer', amount };
          else if (p.kind === 'send' && payer.contents.length + payee.contents.length > 0)
            op = {
              kind: 'content-send',
              from: payer.contents.length > 0 ? 'payer' : 'payee',
              itemId: (payer.contents[0] ?? payee.contents[0])!.id,
            };
          const name = OPERATION_NAMES[op.kind];
          const kill: KillArm | undefined =
            s === victim && fault === 'terminal-killed' && n === 0 && name !== 'send'
              ? { unit, at: Math.max(1, Math.ceil(killPoint * shortest[`${name}:${unit}`]!)) }
              : undefined;
          if (kill)
            count(
              report.faults,
              `terminal-killed: armed in a${/^[aeiou]/.test(name) ? 'n' : ''} ${name} at ${kill.unit} ${kill.at}`,
            );
          try {
            const r = await call<{ status: string; code?: string; apdus: number; journalWrites: number }>(s, {
              cmd: 'operate',
              op,
              ...(kill ? { kill } : {}),
            });
            count(
              report.operations,
              `${name} ${r.status}${r.code && r.status !== 'completed' ? ` ${r.code}` : ''}`,
            );
            if (r.status === 'threw') v.push(`${s.setup.terminalId}: ${name} threw ${r.code}`);
            if (r.status === 'completed' && name !== 'send') {
              shortest[`${name}:apdu`] = Math.min(shortest[`${name}:apdu`]!, r.apdus);
              shortest[`${name}:journal`] = Math.min(shortest[`${name}:journal`]!, r.journalWrites);
            }
            if (kill) count(report.faults, 'terminal-killed: the kill point was past the operation');
          } catch (e) {
            if (!(e instanceof TerminalGone)) throw e;
            count(report.operations, `${name} killed`);
            if (!kill)
              v.push(`${s.setup.terminalId} died without a kill: ${s.process!.output.slice(-5).join(' | ')}`);
            return;
          }
        }
      };

      // The host-side faults strike while the terminals sell and upload.
      const strike = async () => {
        if (fault === 'instance-killed') {
          const i = strikeAt;
          const hit = await instances[i]!.nextUpload(5000);
          count(report.faults, `instance-killed ${hit ? 'mid-upload' : 'idle'}`);
          await sleep(strikeDelay);
          await instances[i]!.kill();
          instances[i] = await HostInstance.start(world.hostConfig);
          for (const s of live()) await call(s, { cmd: 'hosts', urls: urls() });
        } else if (fault === 'postgres-killed') {
          const hit = await Promise.race(instances.map((i) => i.nextUpload(5000)));
          count(report.faults, `postgres-killed ${hit ? 'mid-upload' : 'idle'}`);
          await sleep(strikeDelay);
          await world.pg.restart({ mode: 'kill' });
        }
      };
      await Promise.all([...stations.map((s, i) => operate(s, plans[i]!)), strike()]);

      if (fault === 'terminal-killed' && !victim!.process!.alive) {
        const k = victim!;
        const payer = k.cards.payer!;
        const payee = k.cards.payee!;
        died(k);
        const others = live();
        const b = others[helpers[0]! % others.length]!;
        const c = others[helpers[1]! % others.length]!;
        count(report.faults, `terminal-killed: cards carried ${carry}`);
        if (carry === 'both') {
          await place(b, 'payer', payer);
          await place(b, 'payee', payee);
          await recover(b);
        } else {
          const [first, second] = carry === 'payee-first' ? [payee, payer] : [payer, payee];
          const [slot1, slot2]: [SlotName, SlotName] =
            carry === 'payee-first' ? ['payee', 'payer'] : ['payer', 'payee'];
          await vacate(b, slot2);
          await place(b, slot1, first);
          await recover(b);
          await syncUntilCaughtUp(b); // what b learnt (a release proof) reaches the host
          await vacate(b, slot1);
          await vacate(c, slot1);
          await place(c, slot2, second);
          await recover(c);
        }
        await startStation(k); // later: its log recovered, its uploads resumed
      }
      if (fault === 'terminal-offline') {
        const r = await call<SyncResult>(victim!, { cmd: 'sync' });
        if (r.ok) v.push(`round ${round}: ${victim!.setup.terminalId} uploaded while offline`);
        await call(victim!, { cmd: 'offline', offline: false });
        const back = await syncUntilCaughtUp(victim!);
        if (!back.ok || back.waiting > 0)
          v.push(`round ${round}: ${victim!.setup.terminalId} did not catch up: ${back.error?.code}`);
        else {
          count(report.faults, 'terminal-offline: caught up');
          report.faults['terminal-offline: entries uploaded when back'] =
            (report.faults['terminal-offline: entries uploaded when back'] ?? 0) + back.uploaded;
        }
      }
      if (fault === 'replay' || fault === 'edited') {
        const s = stations[below(3)]!;
        const problem = await forgedUpload(world, s.setup, instances[below(2)]!, fault, below, () =>
          syncUntilCaughtUp(s),
        );
        if (problem === undefined)
          count(
            report.faults,
            fault === 'replay'
              ? 'replay: answered as duplicates, nothing booked'
              : 'edited: refused, alert raised, nothing booked',
          );
        else if (problem === 'skipped') count(report.faults, `${fault}: skipped (nothing held yet)`);
        else v.push(`round ${round}: ${problem}`);
      }
      // Everyone uploads what it has: what the host holds in flight, some terminal holds open.
      for (const s of live()) await syncUntilCaughtUp(s);
      for (const key of await unheldInFlight(world.db, world.terminals))
        v.push(`round ${round}: the host holds ${key} in flight, no terminal holds it open`);
      log(`${clock()}: round ${round + 1}/${o.rounds}: ${fault}`);
    }

    // Everyone back; recovery with the cards each journal still names, until nothing is open.
    for (const s of stations) if (!s.process?.alive) await startStation(s);
    for (let pass = 0; ; pass++) {
      let open = 0;
      for (const s of stations) {
        const needs = openNeeds(s.setup);
        open += needs.length;
        for (const pair of needs) {
          const cards = pair.map((id) => world.cards.find((c) => c.holderId === id));
          for (const [i, slot] of SLOTS.entries()) {
            const card = cards[i];
            if (card) await place(s, slot, card);
            else await vacate(s, slot);
          }
          await recover(s);
        }
        await syncUntilCaughtUp(s);
      }
      if (open === 0) break;
      if (pass >= 6) {
        v.push(`recovery did not settle everything after ${pass} passes`);
        break;
      }
    }
    for (const s of stations) for (const slot of SLOTS) await vacate(s, slot);
    for (const s of stations) {
      const r = await syncUntilCaughtUp(s);
      if (!r.ok || r.waiting > 0)
        v.push(`${s.setup.terminalId} did not catch up: ${r.error?.code} ${r.error?.message}`);
    }
    log(`${clock()}: every terminal recovered and caught up`);
    const logs = stations.map((s) => ({ s, reader: openLogReadOnly(s.setup.dataDir) }));
    try {
      const checked = await checkFleetInvariants({
        db: world.db,
        cards: world.cards,
        items: world.items,
        logs: logs.map(({ s, reader }) => ({
          terminalId: s.setup.terminalId,
          journal: reader.journal,
          flows: reader.flows,
          day: createReports(
            {
              currencyCode: 'EUR',
              minorUnits: 2,
              locale: 'en-IE',
              shop: { name: s.setup.shopId, terminalId: s.setup.terminalId.slice(0, 16), timeZone: 'UTC' },
            },
            reader.journal,
            reader.flows,
          ).day,
        })),
        days: businessDays(new Date(started), new Date()),
      });
      v.push(...checked.violations);
      report.entries = checked.entries;
    } finally {
      for (const l of logs) l.reader.close();
    }
  } catch (e) {
    v.push(`the soak itself failed: ${(e as Error).stack ?? String(e)}`);
    for (const s of stations)
      if (s.process) v.push(`  ${s.setup.terminalId}: ${s.process.output.slice(-8).join(' | ')}`);
  } finally {
    await Promise.all(stations.map((s) => s.process?.stop()));
    await Promise.all(instances.map((i) => i.stop()));
    await world.close();
  }
  report.elapsedMs = Date.now() - started;
  return report;
}

/** `--seed S --rounds N` (or `--cases N`) of both fleet tiers: whole numbers, default seed 1 and 10 rounds. */
export function fleetSoakArguments(argv: string[]): { seed: number; rounds: number } {
  const value = (name: string, fallback: number) => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return fallback;
    const raw = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not ${raw}`);
    return n;
  };
  const seed = value('seed', 1);
  const rounds = value('rounds', value('cases', 10));
  return { seed, rounds };
}

/** `npm run soak -- --tier fleet --seed S [--rounds N]`: exit code 0 when no invariant broke. */
export async function fleetSoakMain(argv: string[]): Promise<number> {
  const { seed, rounds } = fleetSoakArguments(argv);
  const report = await runFleetSoak({ seed, rounds, log: (line) => console.error(line) });
  console.log(formatFleetReport(report));
  return report.violations.length === 0 ? 0 : 1;
}

export function formatFleetReport(r: FleetSoakReport): string {
  const lines = (m: Record<string, number>) =>
    Object.entries(m)
      .sort()
      .map(([k, n]) => `    ${k.padEnd(52)} ${String(n).padStart(6)}`);
  return [
    `fleet soak, seed ${r.seed}: ${r.rounds} rounds, ${r.entries} journal entries cleared, in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    '  operations:',
    ...lines(r.operations),
    '  faults:',
    ...lines(r.faults),
    '  recovery:',
    ...lines(r.recovery),
    `  violations: ${r.violations.length}`,
    ...r.violations.map((x) => `    ${x}`),
    ...(r.violations.length > 0
      ? [`    replay: npm run soak -- --tier fleet --seed ${r.seed} --rounds ${r.rounds}`]
      : []),
  ].join('\n');
}
