// Value conservation under a hostile terminal: two simulated cards (a purse and a shop's issuer
// card) get random command sequences: honest prefixes of value transfers and of value
// transmissions/exchanges, every single step on its own with any value the cards ever answered
// (so in any order, to either card, with another transaction's proofs, with changed terms), replays
// and mutations of earlier commands, resets, and power cuts at a persistent write.
//
// After every command: neither card throws or corrupts its state, and the sum of both balances
// plus the value durably in flight (value-ledger.ts) equals what it was at the start: no command
// sequence creates value, and none loses it beyond recovery.
import fc from 'fast-check';
import type { TearingDecision } from '../../card-sim/os/persistent-store.js';
import { encodeCommandApdu, parseResponseApdu } from '../../protocol/apdu.js';
import { concat, toHex, u16, u32 } from '../../protocol/bytes.js';
import {
  CLA_ISO,
  CLA_PROPRIETARY,
  INS,
  PIN_REFERENCE,
  SETTLEMENT_AID,
} from '../../protocol/settlement/commands.js';
import { SESSION_MODE } from '../../protocol/settlement/session-keys.js';
import {
  decodeContentRecords,
  TRANSACTION_RECORD_LENGTH,
} from '../../protocol/settlement/settlement-client.js';
import { SW, swHex } from '../../protocol/status-words.js';
import { parseTlvList } from '../../protocol/tlv.js';
import { NOW, TEST_CURRENCY } from '../support/card-fixtures.js';
import { type Mutation, mutate, mutationArb } from './apdu-mutations.js';
import { isSuccess, parseImage } from './card-invariants.js';
import { buildFixture, type FuzzCard, type FuzzFixture, makeFuzzCard, PINS } from './fuzz-cards.js';
import { checkProperty, type FuzzOptions, type FuzzReport, FuzzStats, invariant } from './fuzz-report.js';
import { withSeededRandom } from './seeded-random.js';
import { ValueLedger } from './value-ledger.js';

type Side = 'a' | 'b';
const SIDES: readonly Side[] = ['a', 'b'];
const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');

export type Move =
  | { kind: 'transfer'; payer: Side; amount: number; steps: number }
  | { kind: 'content'; initiator: Side; amount: number; exchange: boolean; steps: number }
  | { kind: 'initiate-debit'; side: Side; amount: number; counterpart: 'peer' | 'self' | 'stranger' }
  | { kind: 'initiate-credit'; side: Side; pick: number; amountDelta: number }
  | { kind: 'debit'; side: Side; pick: number; corrupt: boolean }
  | { kind: 'credit'; side: Side; pick: number }
  | { kind: 'acknowledge'; side: Side; pick: number }
  | { kind: 'abort-debit'; side: Side; pick: number }
  | { kind: 'cancel-credit'; side: Side; pick: number }
  | { kind: 'release-credit'; side: Side; pick: number }
  | { kind: 'refund-debit'; side: Side; pick: number }
  | { kind: 'status'; side: Side; pick: number }
  | { kind: 'forge'; side: Side; ins: number; tx: number; first: number; second: number }
  | { kind: 'authenticate' }
  | { kind: 'login'; side: Side; right: boolean }
  | { kind: 'content-send'; side: Side; amount: number; role: 0 | 1 | 2; pick: number }
  | { kind: 'content-receive'; side: Side; pick: number; link: boolean }
  | { kind: 'content-commit'; side: Side; pick: number }
  | { kind: 'content-accept'; side: Side; pick: number }
  | { kind: 'content-abort'; side: Side; pick: number; proof: number | null }
  | { kind: 'content-cancel'; side: Side; pick: number }
  | { kind: 'content-acknowledge'; side: Side; pick: number }
  | { kind: 'content-release'; side: Side; pick: number }
  | { kind: 'content-return'; side: Side; pick: number }
  | { kind: 'content-status'; side: Side }
  | { kind: 'replay'; side: Side; pick: number }
  | { kind: 'mutated-replay'; side: Side; pick: number; mutations: Mutation[] }
  | { kind: 'reset'; side: Side };

export type Step = Move | { kind: 'torn'; side: Side; decision: TearingDecision; move: Move };

export interface ValueCase {
  rngSeed: number;
  steps: Step[];
}

const side = fc.constantFrom<Side>('a', 'b');
const pick = fc.nat({ max: 40 });
const amount = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 400 }) },
  { weight: 1, arbitrary: fc.integer({ min: 401, max: 12_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 10_000, 100_000, 0xffffffff) },
);
const r = fc.record;
const k = <T extends string>(kind: T) => fc.constant(kind);

const moveArb: fc.Arbitrary<Move> = fc.oneof(
  {
    weight: 6,
    arbitrary: r({ kind: k('transfer'), payer: side, amount, steps: fc.integer({ min: 1, max: 5 }) }),
  },
  {
    weight: 4,
    arbitrary: r({
      kind: k('content'),
      initiator: side,
      amount,
      exchange: fc.boolean(),
      steps: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: r({
      kind: k('initiate-debit'),
      side,
      amount,
      counterpart: fc.constantFrom('peer' as const, 'peer' as const, 'self' as const, 'stranger' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: r({
      kind: k('initiate-credit'),
      side,
      pick,
      amountDelta: fc.oneof(
        { weight: 4, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -5, max: 5 }) },
      ),
    }),
  },
  { weight: 2, arbitrary: r({ kind: k('debit'), side, pick, corrupt: fc.boolean() }) },
  { weight: 2, arbitrary: r({ kind: k('credit'), side, pick }) },
  { weight: 1, arbitrary: r({ kind: k('acknowledge'), side, pick }) },
  { weight: 2, arbitrary: r({ kind: k('abort-debit'), side, pick }) },
  { weight: 2, arbitrary: r({ kind: k('cancel-credit'), side, pick }) },
  { weight: 2, arbitrary: r({ kind: k('release-credit'), side, pick }) },
  { weight: 2, arbitrary: r({ kind: k('refund-debit'), side, pick }) },
  { weight: 1, arbitrary: r({ kind: k('status'), side, pick }) },
  {
    weight: 3,
    arbitrary: r({
      kind: k('forge'),
      side,
      ins: fc.constantFrom(
        INS.DEBIT,
        INS.CREDIT,
        INS.ACKNOWLEDGE_DEBIT,
        INS.CANCEL_CREDIT,
        INS.ABORT_DEBIT,
        INS.RELEASE_CREDIT,
        INS.REFUND_DEBIT,
        INS.INITIATE_CREDIT,
      ),
      tx: pick,
      first: fc.nat(),
      second: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: r({ kind: k('authenticate') }) },
  { weight: 1, arbitrary: r({ kind: k('login'), side, right: fc.constantFrom(true, true, true, false) }) },
  {
    weight: 1,
    arbitrary: r({
      kind: k('content-send'),
      side,
      amount,
      role: fc.constantFrom(0 as const, 1 as const, 2 as const),
      pick,
    }),
  },
  { weight: 1, arbitrary: r({ kind: k('content-receive'), side, pick, link: fc.boolean() }) },
  { weight: 1, arbitrary: r({ kind: k('content-commit'), side, pick }) },
  { weight: 1, arbitrary: r({ kind: k('content-accept'), side, pick }) },
  {
    weight: 1,
    arbitrary: r({ kind: k('content-abort'), side, pick, proof: fc.option(pick, { nil: null }) }),
  },
  { weight: 1, arbitrary: r({ kind: k('content-cancel'), side, pick }) },
  { weight: 1, arbitrary: r({ kind: k('content-acknowledge'), side, pick }) },
  { weight: 1, arbitrary: r({ kind: k('content-release'), side, pick }) },
  { weight: 1, arbitrary: r({ kind: k('content-return'), side, pick }) },
  { weight: 1, arbitrary: r({ kind: k('content-status'), side }) },
  { weight: 2, arbitrary: r({ kind: k('replay'), side, pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: r({
      kind: k('mutated-replay'),
      side,
      pick: fc.nat(),
      mutations: fc.array(mutationArb, { minLength: 1, maxLength: 2 }),
    }),
  },
  { weight: 1, arbitrary: r({ kind: k('reset'), side }) },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 9, arbitrary: moveArb },
  {
    weight: 1,
    arbitrary: r({
      kind: k('torn'),
      side,
      decision: fc.constantFrom<TearingDecision>('cut-before-write', 'cut-after-write'),
      move: moveArb,
    }),
  },
);

export const valueCaseArb: fc.Arbitrary<ValueCase> = r({
  rngSeed: fc.nat(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 40, size: 'medium' }),
});

export async function runValueFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const fixture = await withSeededRandom(`value-fixture:${opts.seed}`, buildFixture);
  const stats = new FuzzStats();
  const property = fc.asyncProperty(valueCaseArb, (c) =>
    withSeededRandom(`value:${opts.seed}:${c.rngSeed}`, () => runValueCase(fixture, c, stats)),
  );
  return checkProperty('value', property, opts, stats);
}

export function runValueCase(fixture: FuzzFixture, c: ValueCase, stats = new FuzzStats()): void {
  const run = new ValueRun(fixture, stats);
  for (const step of c.steps) run.step(step);
  stats.add('value transfers and halves completed', run.ledger.completed);
}

interface Answer {
  sw: number;
  data: Uint8Array;
}

/** What a hostile terminal has learnt from the cards' answers, newest last. */
interface Knowledge {
  debits: { tx: Uint8Array; proof: Uint8Array; payer: Side; amount: number }[];
  credits: { tx: Uint8Array; rx: Uint8Array; challenge: Uint8Array }[];
  receptions: { tx: Uint8Array; proof: Uint8Array }[];
  acks: { tx: Uint8Array; proof: Uint8Array }[];
  aborts: { tx: Uint8Array; proof: Uint8Array }[];
  /** Release proofs with the reception random they bind (from RELEASE CREDIT or a released record). */
  releases: { tx: Uint8Array; rx: Uint8Array; proof: Uint8Array }[];
  sessions: Record<Side, Uint8Array> | undefined;
  sends: { txId: Uint8Array; sealed: Uint8Array; from: Side; link: Uint8Array | undefined }[];
  /** Signed proofs by transfer: commit instructions, deletion proofs, acceptances, abort proofs. */
  signed: { txId: Uint8Array; proof: Uint8Array }[];
  sent: { side: Side; apdu: Uint8Array }[];
  /** Every 16-byte value any card answered (randoms, challenges, MACs): material for forgeries. */
  tokens: Uint8Array[];
}

/** The newest entry for small `n`, older ones as it grows. */
function latest<T>(list: readonly T[], n: number): T | undefined {
  return list.length === 0 ? undefined : list[list.length - 1 - (n % list.length)];
}

class ValueRun {
  readonly ledger = new ValueLedger();
  private readonly cards: Record<Side, FuzzCard>;
  private readonly initial: number;
  private readonly k: Knowledge = {
    debits: [],
    credits: [],
    receptions: [],
    acks: [],
    aborts: [],
    releases: [],
    sessions: undefined,
    sends: [],
    signed: [],
    sent: [],
    tokens: [],
  };

  constructor(
    fixture: FuzzFixture,
    private readonly stats: FuzzStats,
  ) {
    this.cards = {
      a: makeFuzzCard('purse (A)', fixture.templates.payer),
      b: makeFuzzCard('shop (B)', fixture.templates.shop),
    };
    this.initial = this.ledger.total(SIDES.map((s) => this.cards[s].state()));
    for (const s of SIDES) {
      this.cards[s].sim.os.powerUp();
      this.select(s);
    }
  }

  step(step: Step): void {
    this.stats.add(`move ${step.kind}`);
    if (step.kind !== 'torn') {
      this.move(step);
      return;
    }
    const card = this.cards[step.side];
    const at = card.sim.store.commitCount;
    card.sim.store.tearing = (i) => (i === at ? step.decision : 'proceed');
    try {
      this.move(step.move);
    } finally {
      card.sim.store.tearing = undefined;
    }
  }

  private holder(s: Side): Uint8Array {
    return this.cards[s].holderId;
  }

  private terms(counterpart: Uint8Array, amount: number): Uint8Array {
    return concat(counterpart, u16(TEST_CURRENCY), u32(amount >>> 0), u32(NOW));
  }

  private move(m: Move): void {
    const k = this.k;
    switch (m.kind) {
      case 'transfer':
        this.honestTransfer(m.payer, m.amount, m.steps);
        return;
      case 'content':
        this.honestContent(m.initiator, m.amount, m.exchange, m.steps);
        return;
      case 'initiate-debit': {
        const counterpart =
          m.counterpart === 'peer'
            ? this.holder(other(m.side))
            : m.counterpart === 'self'
              ? this.holder(m.side)
              : new Uint8Array(16).fill(7);
        this.initiateDebit(m.side, counterpart, m.amount);
        return;
      }
      case 'initiate-credit': {
        const d = latest(k.debits, m.pick);
        if (d) this.initiateCredit(m.side, d, Math.max(0, d.amount + m.amountDelta));
        return;
      }
      case 'debit': {
        const c = latest(k.credits, m.pick);
        if (!c) return;
        const challenge = c.challenge.slice();
        if (m.corrupt) challenge[0]! ^= 1;
        this.debit(m.side, c.tx, c.rx, challenge);
        return;
      }
      case 'credit': {
        const rc = latest(k.receptions, m.pick);
        if (rc) this.credit(m.side, rc.tx, rc.proof);
        return;
      }
      case 'acknowledge': {
        const ack = latest(k.acks, m.pick);
        if (ack)
          this.command(m.side, CLA_PROPRIETARY, INS.ACKNOWLEDGE_DEBIT, 0, 0, concat(ack.tx, ack.proof));
        return;
      }
      case 'abort-debit': {
        const d = latest(k.debits, m.pick);
        if (d) this.abortDebit(m.side, d.tx);
        return;
      }
      case 'cancel-credit': {
        const a = latest(k.aborts, m.pick);
        if (a) this.command(m.side, CLA_PROPRIETARY, INS.CANCEL_CREDIT, 0, 0, concat(a.tx, a.proof));
        return;
      }
      case 'release-credit': {
        const c = latest(k.credits, m.pick) ?? latest(k.debits, m.pick);
        if (!c) return;
        const a = this.command(m.side, CLA_PROPRIETARY, INS.RELEASE_CREDIT, 0, 0, c.tx);
        if (a?.sw === SW.OK && 'rx' in c) this.k.releases.push({ tx: c.tx, rx: c.rx, proof: a.data });
        return;
      }
      case 'refund-debit': {
        const x = latest(k.releases, m.pick);
        if (x) this.command(m.side, CLA_PROPRIETARY, INS.REFUND_DEBIT, 0, 0, concat(x.tx, x.rx, x.proof));
        return;
      }
      case 'status': {
        const d = latest(k.debits, m.pick);
        if (d)
          this.learnRecords(this.command(m.side, CLA_PROPRIETARY, INS.GET_TRANSACTION_STATUS, 0, 0, d.tx));
        this.learnRecords(this.command(m.side, CLA_PROPRIETARY, INS.GET_TRANSACTION_STATUS, 1, 0));
        return;
      }
      case 'forge': {
        // A MAC made for one step offered at another, or another transaction's, or a random.
        const d = latest(k.debits, m.tx);
        if (!d) return;
        const token = (n: number) => latest(k.tokens, n) ?? new Uint8Array(16).fill(n & 0xff);
        const data =
          m.ins === INS.DEBIT || m.ins === INS.REFUND_DEBIT
            ? concat(d.tx, token(m.first), token(m.second))
            : m.ins === INS.ABORT_DEBIT || m.ins === INS.RELEASE_CREDIT
              ? d.tx
              : m.ins === INS.INITIATE_CREDIT
                ? concat(this.terms(this.holder(d.payer), d.amount), d.tx, token(m.first)) // a forged debit proof
                : concat(d.tx, token(m.first));
        this.command(m.side, CLA_PROPRIETARY, m.ins, 0, 0, data);
        return;
      }
      case 'authenticate':
        this.authenticate();
        return;
      case 'login':
        this.command(
          m.side,
          CLA_ISO,
          INS.VERIFY,
          0,
          PIN_REFERENCE,
          new TextEncoder().encode(m.right ? this.pin(m.side) : '9999'),
        );
        return;
      case 'content-send': {
        const link =
          m.role === 2
            ? latest(
                k.sends.filter((x) => x.from !== m.side),
                m.pick,
              )?.txId
            : undefined;
        this.contentSend(m.side, m.amount, m.role, link);
        return;
      }
      case 'content-receive': {
        const s = latest(k.sends, m.pick);
        if (s) this.contentReceive(m.side, s, m.link ? s.link : undefined);
        return;
      }
      case 'content-release': {
        const s = latest(k.sends, m.pick);
        if (s)
          this.learnSigned(s.txId, this.command(m.side, CLA_PROPRIETARY, INS.CONTENT_RELEASE, 0, 0, s.txId));
        return;
      }
      case 'content-commit':
      case 'content-accept':
      case 'content-cancel':
      case 'content-acknowledge':
      case 'content-return': {
        const p = latest(k.signed, m.pick);
        const ins = {
          'content-commit': INS.CONTENT_COMMIT,
          'content-accept': INS.CONTENT_ACCEPT,
          'content-cancel': INS.CONTENT_CANCEL,
          'content-acknowledge': INS.CONTENT_ACKNOWLEDGE,
          'content-return': INS.CONTENT_RETURN,
        }[m.kind];
        if (p)
          this.learnSigned(p.txId, this.command(m.side, CLA_PROPRIETARY, ins, 0, 0, concat(p.txId, p.proof)));
        return;
      }
      case 'content-abort': {
        const s = latest(k.sends, m.pick);
        const proof = m.proof === null ? undefined : latest(k.signed, m.proof)?.proof;
        if (s)
          this.learnSigned(
            s.txId,
            this.command(
              m.side,
              CLA_PROPRIETARY,
              INS.CONTENT_ABORT,
              0,
              0,
              concat(s.txId, proof ?? new Uint8Array(0)),
            ),
          );
        return;
      }
      case 'content-status':
        this.learnContentRecords(this.command(m.side, CLA_PROPRIETARY, INS.CONTENT_STATUS, 1, 0));
        return;
      case 'replay': {
        const x = latest(k.sent, m.pick);
        if (x) this.transmit(m.side, x.apdu);
        return;
      }
      case 'mutated-replay': {
        const x = latest(k.sent, m.pick);
        if (x) this.transmit(m.side, mutate(x.apdu, m.mutations));
        return;
      }
      case 'reset':
        this.cards[m.side].sim.os.reset();
        this.select(m.side);
        return;
    }
  }

  private pin(s: Side): string {
    return s === 'a' ? PINS.payer : PINS.shop;
  }

  // ---- Honest prefixes: the terminal's own order, stopping at the first refusal ----

  private honestTransfer(payer: Side, amount: number, steps: number): void {
    const payee = other(payer);
    const debit = this.initiateDebit(payer, this.holder(payee), amount);
    if (!debit || steps < 2) return;
    const tx = debit.tx;
    const credit = this.initiateCredit(payee, debit, amount);
    if (!credit || steps < 3) return;
    const rc = this.debit(payer, tx, credit.rx, credit.challenge);
    if (!rc || steps < 4) return;
    const ack = this.credit(payee, tx, rc);
    if (!ack || steps < 5) return;
    this.command(payer, CLA_PROPRIETARY, INS.ACKNOWLEDGE_DEBIT, 0, 0, concat(tx, ack));
  }

  private honestContent(initiator: Side, amount: number, exchange: boolean, steps: number): void {
    const responder = other(initiator);
    if (!this.k.sessions) this.authenticate();
    this.command(
      initiator,
      CLA_ISO,
      INS.VERIFY,
      0,
      PIN_REFERENCE,
      new TextEncoder().encode(this.pin(initiator)),
    );
    if (exchange)
      this.command(
        responder,
        CLA_ISO,
        INS.VERIFY,
        0,
        PIN_REFERENCE,
        new TextEncoder().encode(this.pin(responder)),
      );
    const x = this.contentSend(initiator, amount, exchange ? 1 : 0, undefined);
    if (!x || steps < 2) return;
    const commitX = this.contentReceive(responder, x, undefined);
    if (!commitX || steps < 3) return;
    if (!exchange) {
      const deletion = this.signedCommand(initiator, INS.CONTENT_COMMIT, x.txId, commitX);
      if (!deletion || steps < 4) return;
      const acceptance = this.signedCommand(responder, INS.CONTENT_ACCEPT, x.txId, deletion);
      if (!acceptance || steps < 5) return;
      this.signedCommand(initiator, INS.CONTENT_ACKNOWLEDGE, x.txId, acceptance);
      return;
    }
    const y = this.contentSend(responder, Math.floor(amount / 2) + 1, 2, x.txId);
    if (!y || steps < 4) return;
    const commitY = this.contentReceive(initiator, y, x.txId);
    if (!commitY || steps < 5) return;
    const deletionX = this.signedCommand(initiator, INS.CONTENT_COMMIT, x.txId, commitX);
    if (!deletionX || steps < 6) return;
    const deletionY = this.signedCommand(responder, INS.CONTENT_ACCEPT, x.txId, deletionX);
    if (!deletionY || steps < 7) return;
    const acceptanceY = this.signedCommand(initiator, INS.CONTENT_ACCEPT, y.txId, deletionY);
    if (!acceptanceY || steps < 8) return;
    this.signedCommand(responder, INS.CONTENT_ACKNOWLEDGE, y.txId, acceptanceY);
  }

  // ---- Single commands, remembering what the cards answer ----

  private initiateDebit(
    s: Side,
    counterpart: Uint8Array,
    amount: number,
  ): Knowledge['debits'][number] | undefined {
    const a = this.command(s, CLA_PROPRIETARY, INS.INITIATE_DEBIT, 0, 0, this.terms(counterpart, amount));
    if (a?.sw !== SW.OK || a.data.length !== 32) return undefined;
    const debit = { tx: a.data.slice(0, 16), proof: a.data.slice(16), payer: s, amount };
    this.k.debits.push(debit);
    return debit;
  }

  private initiateCredit(s: Side, debit: { tx: Uint8Array; proof: Uint8Array }, amount: number) {
    const tx = debit.tx;
    const a = this.command(
      s,
      CLA_PROPRIETARY,
      INS.INITIATE_CREDIT,
      0,
      0,
      concat(this.terms(this.holder(other(s)), amount), tx, debit.proof),
    );
    if (a?.sw !== SW.OK || a.data.length !== 32) return undefined;
    const credit = { tx, rx: a.data.slice(0, 16), challenge: a.data.slice(16) };
    this.k.credits.push(credit);
    return credit;
  }

  private debit(s: Side, tx: Uint8Array, rx: Uint8Array, challenge: Uint8Array): Uint8Array | undefined {
    const a = this.command(s, CLA_PROPRIETARY, INS.DEBIT, 0, 0, concat(tx, rx, challenge));
    if (a?.sw !== SW.OK) return undefined;
    this.k.receptions.push({ tx, proof: a.data });
    return a.data;
  }

  private credit(s: Side, tx: Uint8Array, rc: Uint8Array): Uint8Array | undefined {
    const a = this.command(s, CLA_PROPRIETARY, INS.CREDIT, 0, 0, concat(tx, rc));
    if (a?.sw !== SW.OK) return undefined;
    this.k.acks.push({ tx, proof: a.data });
    return a.data;
  }

  private abortDebit(s: Side, tx: Uint8Array): void {
    const a = this.command(s, CLA_PROPRIETARY, INS.ABORT_DEBIT, 0, 0, tx);
    if (a?.sw === SW.OK) this.k.aborts.push({ tx, proof: a.data });
  }

  private authenticate(): void {
    const begin = (s: Side) =>
      this.command(s, CLA_PROPRIETARY, INS.AUTH_BEGIN, SESSION_MODE.BASIC, 0, u32(NOW));
    const a = begin('a');
    const b = begin('b');
    if (a?.sw !== SW.OK || b?.sw !== SW.OK) return;
    const certificate = (s: Side) => Uint8Array.from(Buffer.from(this.cards[s].state().certificate, 'hex'));
    const peer = (s: Side, start: Answer) =>
      this.command(
        s,
        CLA_PROPRIETARY,
        INS.AUTH_PEER,
        0,
        0,
        concat(Uint8Array.of(SESSION_MODE.BASIC), start.data, certificate(other(s))),
      );
    const noticeA = peer('a', b);
    const noticeB = peer('b', a);
    if (noticeA?.sw !== SW.OK || noticeB?.sw !== SW.OK) return;
    const confirmA = this.command('a', CLA_PROPRIETARY, INS.AUTH_CONFIRM, 0, 0, noticeB.data);
    const confirmB = this.command('b', CLA_PROPRIETARY, INS.AUTH_CONFIRM, 0, 0, noticeA.data);
    if (confirmA?.sw !== SW.OK || confirmB?.sw !== SW.OK) return;
    const id = (x: Answer) => parseTlvList(x.data).find((t) => t.tag === 0xd5)!.value;
    this.k.sessions = { a: id(confirmA), b: id(confirmB) };
  }

  private contentSend(s: Side, amount: number, role: 0 | 1 | 2, link: Uint8Array | undefined) {
    const session = this.k.sessions?.[s] ?? new Uint8Array(16);
    const a = this.command(
      s,
      CLA_PROPRIETARY,
      INS.CONTENT_SEND,
      1,
      role,
      concat(session, u32(amount >>> 0), link ?? new Uint8Array(0)),
    );
    if (a?.sw !== SW.OK || a.data.length < 16) return undefined;
    const send = { txId: a.data.slice(0, 16), sealed: a.data.slice(16), from: s, link };
    this.k.sends.push(send);
    return send;
  }

  private contentReceive(
    s: Side,
    send: Knowledge['sends'][number],
    link: Uint8Array | undefined,
  ): Uint8Array | undefined {
    const session = this.k.sessions?.[s] ?? new Uint8Array(16);
    const a = this.command(
      s,
      CLA_PROPRIETARY,
      INS.CONTENT_RECEIVE,
      0,
      0,
      concat(session, send.txId, link ?? new Uint8Array(16), send.sealed),
    );
    return this.learnSigned(send.txId, a);
  }

  private signedCommand(s: Side, ins: number, txId: Uint8Array, proof: Uint8Array): Uint8Array | undefined {
    return this.learnSigned(txId, this.command(s, CLA_PROPRIETARY, ins, 0, 0, concat(txId, proof)));
  }

  /** A content command answered; returns its data (a proof), or an empty array for "done, nothing to say". */
  private learnSigned(txId: Uint8Array, a: Answer | undefined): Uint8Array | undefined {
    if (a?.sw !== SW.OK) return undefined;
    if (a.data.length > 0) this.k.signed.push({ txId, proof: a.data });
    return a.data;
  }

  private learnRecords(a: Answer | undefined): void {
    if (a?.sw !== SW.OK) return;
    // role 1 ‖ status 1 ‖ counterpart 16 ‖ currency 2 ‖ amount 4 ‖ date 4 ‖ key ID 4 ‖ tx 16 ‖ rx 16 ‖ proof 16
    for (let o = 0; o + TRANSACTION_RECORD_LENGTH <= a.data.length; o += TRANSACTION_RECORD_LENGTH) {
      const rec = a.data.subarray(o, o + TRANSACTION_RECORD_LENGTH);
      const tx = rec.slice(32, 48);
      const rx = rec.slice(48, 64);
      const proof = rec.slice(64, 80);
      const status = rec[1];
      if (status === 0x02) this.k.receptions.push({ tx, proof });
      if (status === 0x04) this.k.aborts.push({ tx, proof });
      if (status === 0x12) this.k.acks.push({ tx, proof });
      if (status === 0x14) this.k.releases.push({ tx, rx, proof });
    }
  }

  private learnContentRecords(a: Answer | undefined): void {
    if (a?.sw !== SW.OK) return;
    for (const rec of decodeContentRecords(a.data))
      if (rec.proof) this.k.signed.push({ txId: rec.txId, proof: rec.proof });
  }

  // ---- The wire, with the checks after every command ----

  private select(s: Side): void {
    this.command(s, CLA_ISO, INS.SELECT, 0x04, 0, SETTLEMENT_AID);
  }

  private command(
    s: Side,
    cla: number,
    ins: number,
    p1: number,
    p2: number,
    data?: Uint8Array,
  ): Answer | undefined {
    const extended = (data?.length ?? 0) > 255;
    return this.transmit(s, encodeCommandApdu({ cla, ins, p1, p2, data, ne: extended ? 65536 : 256 }));
  }

  /** One command and its GET RESPONSE chain; undefined when the card lost power (then re-inserted). */
  private transmit(s: Side, apdu: Uint8Array): Answer | undefined {
    this.k.sent.push({ side: s, apdu });
    let answer = this.once(s, apdu);
    const chunks: Uint8Array[] = [];
    for (let i = 0; answer && (answer.sw & 0xff00) === SW.BYTES_REMAINING && i < 8; i++) {
      chunks.push(answer.data);
      answer = this.once(
        s,
        encodeCommandApdu({ cla: CLA_ISO, ins: INS.GET_RESPONSE, p1: 0, p2: 0, ne: answer.sw & 0xff || 256 }),
      );
    }
    if (!answer) return undefined;
    const data = concat(...chunks, answer.data);
    if (
      answer.sw === SW.OK &&
      apdu[0] === CLA_PROPRIETARY &&
      apdu[1]! >= INS.INITIATE_DEBIT &&
      apdu[1]! <= INS.REFUND_DEBIT
    ) {
      for (let o = 0; o + 16 <= data.length; o += 16) this.k.tokens.push(data.slice(o, o + 16));
    }
    return { sw: answer.sw, data };
  }

  private once(s: Side, apdu: Uint8Array): Answer | undefined {
    const card = this.cards[s];
    const label = `${card.name} ← ${toHex(apdu).slice(0, 60)}`;
    let raw: Uint8Array;
    try {
      raw = card.sim.os.transmit(apdu.slice());
    } catch (e) {
      throw new Error(`${label}: the card OS threw ${(e as Error)?.message}`);
    }
    let answer: Answer | undefined;
    if (raw.length === 0) {
      invariant(card.sim.os.wasTorn, `${label}: a powered card answered nothing`);
      this.stats.add('power cut at a write');
      card.sim.os.powerUp(); // the card is presented again; transient state is gone
    } else {
      invariant(raw.length >= 2, `${label}: no status word`);
      answer = parseResponseApdu(raw);
      invariant(answer.sw !== SW.UNKNOWN, `${label}: 6F00, an exception inside the applet`);
      this.stats.add(isSuccess(answer.sw) ? 'answered OK' : `answered ${swHex(answer.sw)}`);
    }
    this.checkConservation(label);
    if (raw.length === 0) this.select(s);
    return answer;
  }

  private checkConservation(label: string): void {
    const states = SIDES.map((s) => parseImage(this.cards[s].image(), this.cards[s].name));
    const total = this.ledger.total(states);
    invariant(total <= this.initial, `${label}: value created (${this.initial} → ${total})`);
    invariant(total >= this.initial, `${label}: value lost beyond recovery (${this.initial} → ${total})`);
  }
}
