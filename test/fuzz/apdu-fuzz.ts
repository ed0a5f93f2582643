// APDU fuzz of the card simulator. Each case runs one real session between two simulated cards
// (apdu-scenarios.ts) and, at chosen points of it, sends one card hostile commands: the real APDU
// about to go out, mutated; an earlier APDU of the session replayed; the header of one with the
// data of another; made-up APDUs over every instruction; raw bytes; or a card reset. So every
// instruction meets every state the session passes through (fresh, selected, mid transfer after each
// step, logged in, PIN blocked, mid exchange, after the end).
//
// Properties, after every hostile command: the card answers with a status word and never throws
// out of its OS layer, nor answers 6F00 (an applet exception); its persisted image parses by the
// state schema and keeps the purse's bounds; a refusal carries no data and leaves the image byte
// for byte as it was (docs/protocol.md's two deliberate exceptions aside). At the end of the case
// both cards still select and answer GET CARD INFO.
import fc from 'fast-check';
import { encodeCommandApdu, parseResponseApdu } from '../../protocol/apdu.js';
import { toHex } from '../../protocol/bytes.js';
import type { CardChannel } from '../../protocol/card-channel.js';
import { isTerminalError, TerminalError } from '../../protocol/errors.js';
import { CLA_ISO, INS, SETTLEMENT_AID } from '../../protocol/settlement/commands.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { SW, swHex } from '../../protocol/status-words.js';
import {
  encodeMadeUp,
  type MadeUpApdu,
  type Mutation,
  madeUpApduArb,
  mutate,
  mutationArb,
} from './apdu-mutations.js';
import { SCENARIO_NAMES, SCENARIOS, type ScenarioContext, type ScenarioName } from './apdu-scenarios.js';
import { checkRefusalKeptState, isSuccess, parseImage } from './card-invariants.js';
import { buildFixture, type FuzzCard, type FuzzFixture, makeFuzzCard } from './fuzz-cards.js';
import { checkProperty, type FuzzOptions, type FuzzReport, FuzzStats, invariant } from './fuzz-report.js';
import { withSeededRandom } from './seeded-random.js';

type Side = 'a' | 'b';

export type HostileCommand =
  | { kind: 'mutate'; mutations: Mutation[] }
  | { kind: 'replay'; pick: number }
  | { kind: 'graft'; header: number; data: number }
  | { kind: 'made-up'; apdu: MadeUpApdu }
  | { kind: 'raw'; bytes: Uint8Array };

export interface Injection {
  /** The card the session's next APDU goes to, or the other one. */
  target: 'same' | 'other';
  commands: HostileCommand[];
  /** Power-cycles the target card after the commands (ends its selection and sessions). */
  reset: boolean;
  /**
   * Between a 61XX and its GET RESPONSE any command to that card ends the chain, and so the session;
   * there the same card is attacked only when this is set (else the other card is).
   */
  intoChain: boolean;
}

export interface ApduCase {
  scenario: ScenarioName;
  /** Seeds the cards' randoms, keys and nonces for this case. */
  rngSeed: number;
  /** points[i]: what the hostile terminal sends before the session's APDU number i (if anything). */
  points: (Injection | null)[];
  /** What it sends after the session ended (or broke off). */
  after: Injection | null;
}

const commandArb: fc.Arbitrary<HostileCommand> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('mutate' as const),
      mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('graft' as const), header: fc.nat(), data: fc.nat() }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('made-up' as const), apdu: madeUpApduArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 12 }) }),
  },
);

const injectionArb: fc.Arbitrary<Injection> = fc.record({
  target: fc.constantFrom('same' as const, 'same' as const, 'same' as const, 'other' as const),
  commands: fc.array(commandArb, { minLength: 1, maxLength: 3 }),
  reset: fc.nat({ max: 19 }).map((n) => n === 0),
  intoChain: fc.nat({ max: 9 }).map((n) => n === 0),
});

export const apduCaseArb: fc.Arbitrary<ApduCase> = fc.record({
  scenario: fc.constantFrom(...SCENARIO_NAMES),
  rngSeed: fc.nat(),
  points: fc.array(fc.option(injectionArb, { freq: 2, nil: null }), { minLength: 48, maxLength: 48 }),
  after: fc.option(injectionArb, { nil: null }),
});

const SELECT = encodeCommandApdu({
  cla: CLA_ISO,
  ins: INS.SELECT,
  p1: 0x04,
  p2: 0,
  data: SETTLEMENT_AID,
  ne: 256,
});

export async function runApduFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const fixture = await withSeededRandom(`apdu-fixture:${opts.seed}`, async () => {
    const fixture = buildFixture();
    await runScenariosClean(fixture);
    return fixture;
  });
  const stats = new FuzzStats();
  const property = fc.asyncProperty(apduCaseArb, (c) =>
    withSeededRandom(`apdu:${opts.seed}:${c.rngSeed}`, () => runApduCase(fixture, c, stats)),
  );
  return checkProperty('apdu', property, opts, stats);
}

/** Every scenario runs to its end when nothing interferes (else the fuzzer would attack nothing). */
async function runScenariosClean(fixture: FuzzFixture): Promise<void> {
  for (const name of SCENARIO_NAMES) {
    await SCENARIOS[name].run(new CaseRun(fixture, name, [], new FuzzStats()).context());
  }
}

export async function runApduCase(fixture: FuzzFixture, c: ApduCase, stats = new FuzzStats()): Promise<void> {
  stats.add(`scenario ${c.scenario}`);
  const run = new CaseRun(fixture, c.scenario, c.points, stats);
  try {
    await SCENARIOS[c.scenario].run(run.context());
  } catch (e) {
    // A hostile command may well break the session (a refusal, a lost GET RESPONSE, a reset): the
    // session ends there. Anything but a typed terminal error is a bug in the codec or the scenario.
    if (!isTerminalError(e)) throw e;
  }
  run.finish(c.after);
  for (const side of ['a', 'b'] as const) stillServes(run.cards[side]);
}

class CaseRun {
  readonly cards: Record<Side, FuzzCard>;
  readonly sent: { side: Side; apdu: Uint8Array }[] = [];

  constructor(
    private readonly fixture: FuzzFixture,
    scenario: ScenarioName,
    private readonly points: readonly (Injection | null)[],
    private readonly stats: FuzzStats,
  ) {
    const { a, b } = SCENARIOS[scenario];
    this.cards = {
      a: makeFuzzCard(`card A (${a})`, fixture.templates[a]),
      b: makeFuzzCard(`card B (${b})`, fixture.templates[b]),
    };
    this.cards.a.sim.os.powerUp();
    this.cards.b.sim.os.powerUp();
  }

  context(): ScenarioContext {
    return {
      fx: this.fixture,
      cards: this.cards,
      a: new SettlementClient(this.channel('a')),
      b: new SettlementClient(this.channel('b')),
    };
  }

  /** The session's channel to one card: hostile commands go out first where the plan says so. */
  private channel(side: Side): CardChannel {
    const card = this.cards[side];
    return {
      atr: card.sim.os.atr,
      close: async () => undefined,
      transmit: async (apdu) => {
        this.fire(this.sent.length, side, apdu);
        this.sent.push({ side, apdu: apdu.slice() });
        const response = card.sim.os.transmit(apdu.slice());
        if (response.length === 0) throw new TerminalError('E_TRANSPORT', 'the card is mute');
        return response;
      },
    };
  }

  /** The hostile commands planned after the session's last APDU (or where it broke off). */
  finish(after: Injection | null): void {
    const last = this.sent.at(-1);
    if (after) {
      const side = last?.side ?? 'a';
      this.inject(after, after.target === 'same' ? side : side === 'a' ? 'b' : 'a', last?.apdu);
    }
  }

  private fire(index: number, side: Side, real: Uint8Array): void {
    const injection = this.points[index];
    if (!injection) return;
    const getResponse = real[0] === CLA_ISO && real[1] === INS.GET_RESPONSE;
    const toOther = injection.target === 'other' || (getResponse && !injection.intoChain);
    this.inject(injection, toOther ? (side === 'a' ? 'b' : 'a') : side, real);
  }

  private inject(injection: Injection, side: Side, real: Uint8Array | undefined): void {
    const target = this.cards[side];
    for (const command of injection.commands) this.send(target, command, real);
    if (injection.reset) {
      this.stats.add('hostile reset');
      target.sim.os.reset();
      parseImage(target.image(), target.name);
    }
  }

  private send(card: FuzzCard, command: HostileCommand, real: Uint8Array | undefined): void {
    this.stats.add(`hostile ${command.kind}`);
    this.stats.add(`answered ${probeCard(card, this.hostileApdu(command, real))}`);
  }

  private hostileApdu(command: HostileCommand, real: Uint8Array | undefined): Uint8Array {
    const pick = (n: number) => this.sent[n % Math.max(1, this.sent.length)]?.apdu ?? SELECT;
    switch (command.kind) {
      case 'mutate':
        return mutate(real ?? pick(0), command.mutations);
      case 'replay':
        return pick(command.pick);
      case 'graft':
        return Uint8Array.from([...pick(command.header).subarray(0, 4), ...pick(command.data).subarray(4)]);
      case 'made-up':
        return encodeMadeUp(command.apdu);
      case 'raw':
        return command.bytes;
    }
  }
}

/** Sends one hostile APDU to a card and checks every per-command property; returns the SW class. */
export function probeCard(card: FuzzCard, apdu: Uint8Array): string {
  const label = `${card.name} ← ${toHex(apdu).slice(0, 80)}`;
  const before = card.image();
  let response: Uint8Array;
  try {
    response = card.sim.os.transmit(apdu.slice());
  } catch (e) {
    throw new Error(`${label}: the card OS threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  invariant(response.length >= 2, `${label}: no status word (${response.length} bytes)`);
  const { sw, data } = parseResponseApdu(response);
  invariant(sw !== SW.UNKNOWN, `${label}: 6F00, an exception inside the applet`);
  const after = card.image();
  parseImage(after, card.name);
  if (!isSuccess(sw)) {
    invariant(data.length === 0, `${label}: refusal ${swHex(sw)} carries ${data.length} bytes of data`);
    checkRefusalKeptState(card.name, { cla: apdu[0]!, ins: apdu[1]! }, sw, before, after);
    return swHex(sw);
  }
  return before === after ? `${swHex(sw & 0xff00)} unchanged` : `${swHex(sw & 0xff00)} changed state`;
}

/** After the case: the card still resets, selects and answers GET CARD INFO (with its chain). */
function stillServes(card: FuzzCard): void {
  const os = card.sim.os;
  os.reset();
  const select = parseResponseApdu(os.transmit(SELECT));
  invariant(select.sw === SW.OK, `${card.name}: SELECT after the case answered ${swHex(select.sw)}`);
  let r = parseResponseApdu(
    os.transmit(encodeCommandApdu({ cla: 0x80, ins: INS.GET_CARD_INFO, p1: 0, p2: 0, ne: 256 })),
  );
  for (let i = 0; i < 4 && (r.sw & 0xff00) === SW.BYTES_REMAINING; i++) {
    r = parseResponseApdu(
      os.transmit(
        encodeCommandApdu({ cla: CLA_ISO, ins: INS.GET_RESPONSE, p1: 0, p2: 0, ne: r.sw & 0xff || 256 }),
      ),
    );
  }
  invariant(r.sw === SW.OK, `${card.name}: GET CARD INFO after the case answered ${swHex(r.sw)}`);
  parseImage(card.image(), card.name);
}
