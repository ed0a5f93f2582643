// Benchmark: one value transfer end to end over pcscd, against a floor measured in the same run.
//
//   npx tsx bench/transfer-over-pcscd.ts [--transfers 1000] [--card-backend memory|file]
//
// Transfer: SettlementEngine.transfer() of the real terminal services (startTerminalServices with a
// PC/SC slot backend and a SQLite journal, WAL + synchronous=FULL, in a temp folder), between two
// simulated cards in two vpcd readers of a private pcscd. Both cards hold the same transfer and
// update keys, so no key update runs; every transfer must complete without one.
//
// Floor, per transfer, from the same process, pcscd and database:
//   APDU floor     the transfer's APDU count (counted at the cards, GET RESPONSE included), sent as
//                  bare round trips of GET TRANSACTION STATUS "list unsettled" (9000, no data, no
//                  GET RESPONSE, open to every access level) to the same two cards in the transfer's
//                  payer/payee order, over sessions of the benchmark's own PcscClient (shared mode)
//   journal floor  the transfer's journal entries (same steps and payloads, new flow id) appended with
//                  Journal.append, one commit and fsync each, to the terminal's own journal
// Reported: transfer / (APDU floor + journal floor) for the median, p90, p99 and mean.
// Also shown, not in the floor: opening and closing a PC/SC session with each card (SCardConnect,
// SCardDisconnect with card reset), measured only when the engine does so within a transfer; and the
// CPU time of checking both cards' certificate signatures (P-256 ECDSA), which the terminal does once
// per card presence (docs/protocol.md §4.8), not per transfer.
// Also reported: the APDUs of the first transfer of a presence and of every further one, beside the
// protocol minimum, and the transfer's ratio to the floor of the old 29 APDUs and of the minimum.
//
// Transfers and floor blocks are interleaved in rounds so that drift (page cache, WAL growth and
// checkpoints, CPU frequency) reaches all of them alike.
import { randomUUID } from 'node:crypto';
import type { JournalEntry } from '../db/journal.js';
import type { SlotName } from '../electron/services/slots/reader-slots.js';
import { encodeCommandApdu } from '../protocol/apdu.js';
import { fromHex } from '../protocol/bytes.js';
import type { CardChannel } from '../protocol/card-channel.js';
import { parseCertificate, verifyCertificateSignature } from '../protocol/pki/index.js';
import { NO_PIN_LIMITS_OFF } from '../protocol/settlement/cardholder-policy.js';
import { INS, STATUS_QUERY } from '../protocol/settlement/commands.js';
import { SettlementClient } from '../protocol/settlement/settlement-client.js';
import {
  closingLines,
  enterNetwork,
  filesystemOf,
  intOption,
  ms,
  NETWORK_OPTION,
  networkOption,
  publishSection,
  RESULTS_OPTION,
  ratio,
  ratioRow,
  roundShare,
  runBenchmark,
  type Summary,
  startRun,
  summarize,
  timingRow,
  timingTable,
} from './kit.js';
import {
  CARD_BACKEND_OPTION,
  type CardBackendKind,
  cardBackendOption,
  type Rig,
  startRig,
} from './terminal-rig.js';

const OPTIONS = {
  transfers: 'timed value transfers, and floor blocks of each kind (default 1000)',
  warmup: 'untimed transfers and floor blocks before timing (default 50)',
  rounds: 'interleave transfers and floor blocks in this many rounds (default 10)',
  'card-backend': CARD_BACKEND_OPTION,
  amount: 'minor units per transfer (default 1)',
  network: NETWORK_OPTION,
  results: RESULTS_OPTION,
};

const LIST_UNSETTLED = encodeCommandApdu({
  cla: 0x80,
  ins: INS.GET_TRANSACTION_STATUS,
  p1: STATUS_QUERY.LIST_UNSETTLED,
  p2: 0,
  ne: 256,
});
const INS_NAME = new Map<number, string>(
  Object.entries(INS).map(([name, value]) => [value, name.replaceAll('_', ' ')]),
);
const SLOTS: SlotName[] = ['payer', 'payee'];

interface Shape {
  /** Which card each APDU of one transfer goes to, in order. */
  apduSlots: SlotName[];
  /** "payer: SELECT, GET CARD INFO ×2, ..." */
  apduList: string;
  /** The journal entries one transfer writes. */
  entries: JournalEntry[];
  /** Card resets (end of a PC/SC session with SCARD_RESET_CARD) per transfer, both cards together. */
  resets: number;
}

async function main(options: Map<string, string>): Promise<void> {
  const transfers = intOption(options, 'transfers', 1000);
  const warmup = intOption(options, 'warmup', 50, 0);
  const rounds = Math.min(intOption(options, 'rounds', 10), transfers);
  const amount = intOption(options, 'amount', 1);
  const cardBackend = cardBackendOption(options);
  const network = await enterNetwork(networkOption(options));

  const run = startRun();
  const total = transfers + warmup + rounds + 10; // timed, warm-up, one after each floor phase, spare
  const rig = await startRig({
    cardBackend,
    // A purse without a no-PIN limit: a thousand payments in a row, none asking for the PIN (§4.6).
    payer: {
      balance: total * amount,
      maxBalance: Math.max(total * amount, 100_000),
      noPinLimits: NO_PIN_LIMITS_OFF,
    },
    payee: { balance: 0, maxBalance: Math.max(total * amount, 100_000) },
  });
  try {
    const initial = balances(rig);
    // The first transfer opens the PC/SC sessions that the engine then keeps (SELECT and GET CARD INFO
    // once per card presence); the second shows what every further transfer sends.
    const first = await tracedTransfer(rig, amount);
    const shape = await tracedTransfer(rig, amount);
    const perTransfer = { apdus: shape.apduSlots.length, appends: shape.entries.length };
    console.error(
      `one transfer = ${perTransfer.apdus} APDUs (${shape.apduList}) and ${perTransfer.appends} journal appends`,
    );

    const samples = {
      transfer: [] as number[],
      apdu: [] as number[],
      journal: [] as number[],
      session: [] as number[],
      certificates: [] as number[],
    };
    let settling = 0;
    const deviations = new Map<string, number>();
    const runRound = async (count: number, keep: boolean) => {
      // One untimed transfer after the floor phases, so that whatever they changed at the cards
      // (applet selection, a reset) is not paid by a timed transfer.
      await transferOnce(rig, amount);
      settling++;
      const t = await timeTransfers(rig, count, amount, perTransfer, keep ? deviations : new Map());
      const a = await timeApduFloor(rig, count, shape.apduSlots);
      const j = timeJournalFloor(rig, count, shape.entries);
      const s = shape.resets > 0 ? await timeSessions(rig, count) : [];
      const c = timeCertificateChecks(rig, count);
      if (keep) {
        samples.transfer.push(...t);
        samples.apdu.push(...a);
        samples.journal.push(...j);
        samples.session.push(...s);
        samples.certificates.push(...c);
      }
    };
    if (warmup > 0) await runRound(warmup, false);
    for (let r = 0; r < rounds; r++) {
      await runRound(roundShare(transfers, rounds, r), true);
      console.error(`round ${r + 1}/${rounds}: ${samples.transfer.length} transfers timed`);
    }

    // Sanity: every transfer moved its amount, nothing is open, the journal chain verifies.
    const after = balances(rig);
    const untimed = 2 + warmup + settling; // the two traced transfers
    const moved = (untimed + transfers) * amount;
    if (after.payer !== initial.payer - moved || after.payee !== initial.payee + moved) {
      throw new Error(
        `balances ${JSON.stringify(after)} do not match ${moved} moved from ${JSON.stringify(initial)}`,
      );
    }
    if (rig.services.engine.openTransfers().length > 0) throw new Error('transfers left open');
    const journalEntries = rig.services.journal.verifyOrThrow();

    const s = {
      transfer: summarize(samples.transfer),
      apdu: summarize(samples.apdu),
      journal: summarize(samples.journal),
      session: samples.session.length > 0 ? summarize(samples.session) : undefined,
      certificates: summarize(samples.certificates),
      // The floor's own distribution, pairing the i-th APDU block with the i-th journal block.
      paired: summarize(samples.apdu.map((a, i) => a + samples.journal[i]!)),
    };
    const body = report({
      cardBackend,
      network: network.mode,
      storage: filesystemOf(rig.dir),
      transfers,
      untimed,
      rounds,
      perTransfer,
      first,
      shape,
      deviations,
      s,
      closing: closingLines(run, network),
      sanity: `${moved} minor units moved in ${untimed + transfers} transfers, balances match, no open flow, journal chain of ${journalEntries} entries verifies`,
    });
    publishSection(options, `transfer-over-pcscd:${cardBackend}:${network.mode}`, body);
  } finally {
    await rig.close();
  }
}

/** What a transfer sent before docs/protocol.md §4.8 (commit c2c8720): issue 14's floor. */
const OLD_APDUS = 29;
/** docs/protocol.md §4.8: the first transfer of a presence, and each further one. */
const MINIMUM = { first: 9, further: 7 };

function balances(rig: Rig): Record<SlotName, number> {
  return { payer: rig.cards.payer.sim.store.read().balance, payee: rig.cards.payee.sim.store.read().balance };
}

/** One untimed transfer, traced: which APDUs and journal entries a transfer takes. */
async function tracedTransfer(rig: Rig, amount: number): Promise<Shape> {
  rig.takeAppended();
  const trace: string[] = [];
  rig.trace = trace;
  const resets = () => rig.cards.payer.resets + rig.cards.payee.resets;
  const resets0 = resets();
  try {
    await transferOnce(rig, amount);
  } finally {
    rig.trace = undefined;
  }
  const entries = rig
    .takeAppended()
    .map(({ flowId, flowKind, step, payload }) => ({ flowId, flowKind, step, payload }));
  const apduSlots = trace.map((t) => t.split(':')[0] as SlotName);
  const apduList = SLOTS.map((slot) => {
    const counts = new Map<string, number>();
    for (const t of trace) {
      const [s, ins] = t.split(':');
      if (s !== slot) continue;
      const name = INS_NAME.get(Number.parseInt(ins!, 16)) ?? `INS ${ins}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const list = [...counts].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name)).join(', ');
    return `${slot}: ${list}`;
  }).join('; ');
  return { apduSlots, apduList, entries, resets: resets() - resets0 };
}

async function transferOnce(rig: Rig, amount: number): Promise<void> {
  const outcome = await rig.services.engine.transfer({ amount });
  if (outcome.status !== 'completed') {
    throw new Error(`transfer ${outcome.status}: ${outcome.error.code} ${outcome.error.message}`);
  }
  if (outcome.keyUpdates.length > 0) throw new Error('a key update ran inside the timed transfer');
}

/** Times `count` transfers; counts in `deviations` those whose APDUs or journal entries differ from `expected`. */
async function timeTransfers(
  rig: Rig,
  count: number,
  amount: number,
  expected: { apdus: number; appends: number },
  deviations: Map<string, number>,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const a0 = rig.apdus;
    const j0 = rig.appends;
    const t0 = performance.now();
    await transferOnce(rig, amount);
    out.push(performance.now() - t0);
    if (rig.apdus - a0 !== expected.apdus || rig.appends - j0 !== expected.appends) {
      const key = `${rig.apdus - a0} APDUs and ${rig.appends - j0} journal entries`;
      deviations.set(key, (deviations.get(key) ?? 0) + 1);
    }
  }
  rig.takeAppended();
  return out;
}

/** `count` blocks of bare round trips, one per APDU of a transfer, in the transfer's payer/payee order. */
async function timeApduFloor(rig: Rig, count: number, apduSlots: SlotName[]): Promise<number[]> {
  const channels = {} as Record<SlotName, CardChannel>;
  try {
    for (const slot of SLOTS) {
      const channel = await rig.openFloorChannel(slot, 'leave');
      channels[slot] = channel;
      // SELECT only when the applet is not selected (the engine may hold a session it set up).
      if (!isOk(await channel.transmit(LIST_UNSETTLED))) await new SettlementClient(channel).select();
      if (!isOk(await channel.transmit(LIST_UNSETTLED)))
        throw new Error('the floor command did not answer 9000');
    }
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      for (const slot of apduSlots) {
        if (!isOk(await channels[slot].transmit(LIST_UNSETTLED)))
          throw new Error('the floor command did not answer 9000');
      }
      out.push(performance.now() - t0);
    }
    return out;
  } finally {
    for (const slot of SLOTS) await channels[slot]?.close();
  }
}

/** 9000 without data: the floor command's answer when no transfer is unsettled. */
function isOk(r: Uint8Array): boolean {
  return r.length === 2 && r[0] === 0x90 && r[1] === 0x00;
}

/** `count` blocks of Journal.append, one per entry of a transfer (same steps and payloads, fresh flow id). */
function timeJournalFloor(rig: Rig, count: number, entries: JournalEntry[]): number[] {
  const journal = rig.services.journal;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const flowId = randomUUID();
    const t0 = performance.now();
    for (const e of entries) journal.append({ ...e, flowId });
    out.push(performance.now() - t0);
  }
  return out;
}

/** Not part of the floor: both cards' certificate signatures checked against the CA key (CPU only). */
function timeCertificateChecks(rig: Rig, count: number): number[] {
  const caKey = parseCertificate(fromHex(rig.issuer.caCertificate)).publicKey;
  const certificates = SLOTS.map((slot) =>
    parseCertificate(fromHex(rig.cards[slot].sim.store.read().certificate)),
  );
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    for (const cert of certificates) {
      if (!verifyCertificateSignature(cert, caKey)) throw new Error('certificate does not verify');
    }
    out.push(performance.now() - t0);
  }
  return out;
}

/** Not part of the floor: SCardConnect + SCardDisconnect (card reset), once with each floor card. */
async function timeSessions(rig: Rig, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    for (const slot of SLOTS) await (await rig.openFloorChannel(slot, 'reset')).close();
    out.push(performance.now() - t0);
  }
  return out;
}

function report(r: {
  cardBackend: CardBackendKind;
  network: string;
  storage: string;
  transfers: number;
  untimed: number;
  rounds: number;
  perTransfer: { apdus: number; appends: number };
  /** The first transfer of the cards' presence, which opens the sessions. */
  first: Shape;
  shape: Shape;
  deviations: Map<string, number>;
  s: Record<'transfer' | 'apdu' | 'journal' | 'certificates' | 'paired', Summary> & {
    session: Summary | undefined;
  };
  /** closingLines(): machine, date, command. */
  closing: string;
  sanity: string;
}): string {
  const { s, perTransfer } = r;
  const floor = {
    median: s.apdu.median + s.journal.median,
    p90: s.apdu.p90 + s.journal.p90,
    p99: s.apdu.p99 + s.journal.p99,
    mean: s.apdu.mean + s.journal.mean,
  };
  // The same bare round trip, as many times as the old terminal and the protocol minimum send.
  const scaled = (apdus: number) => {
    const per = (k: keyof typeof floor) => (s.apdu[k] / perTransfer.apdus) * apdus + s.journal[k];
    return { median: per('median'), p90: per('p90'), p99: per('p99'), mean: per('mean') };
  };
  const oldFloor = scaled(OLD_APDUS);
  const minimumFloor = scaled(MINIMUM.further);
  const table = timingTable('per transfer (ms)', [
    timingRow('**value transfer end to end** (`engine.transfer`)', s.transfer),
    timingRow(
      `APDU floor: ${perTransfer.apdus} × bare APDU round trip (GET TRANSACTION STATUS, 9000)`,
      s.apdu,
    ),
    timingRow(`journal floor: ${perTransfer.appends} × \`Journal.append\` (commit + fsync)`, s.journal),
    timingRow('floor = APDU floor + journal floor', floor),
    ratioRow('**ratio transfer / floor**', s.transfer, floor, ['median', 'p99']),
    timingRow(
      `old floor: ${OLD_APDUS} APDUs (commit c2c8720, before docs/protocol.md §4.8) + journal floor`,
      oldFloor,
    ),
    ratioRow(`ratio transfer / old ${OLD_APDUS}-APDU floor`, s.transfer, oldFloor, ['median', 'p99']),
    timingRow(`protocol-minimum floor: ${MINIMUM.further} APDUs (§4.8) + journal floor`, minimumFloor),
    ratioRow('ratio transfer / protocol-minimum floor', s.transfer, minimumFloor, ['median', 'p99']),
    ...(s.session
      ? [
          timingRow(
            'not in the floor: 2 × PC/SC session open + close (SCardConnect, SCardDisconnect + reset)',
            s.session,
          ),
        ]
      : []),
    timingRow(
      'not in the floor: 2 × certificate signature check (P-256 ECDSA verify, CPU), once per card presence',
      s.certificates,
    ),
  ]);
  return [
    `## Value transfer over pcscd — card backend \`${r.cardBackend}\`, ${r.network} network`,
    '',
    table,
    '',
    `- the p90/p99 ratios divide by the sum of the two floors' p90/p99, which is at least the floor's own p90/p99; pairing the i-th APDU block with the i-th journal block gives a floor of ${ms(s.paired.median)} / ${ms(s.paired.p90)} / ${ms(s.paired.p99)} ms (median / p90 / p99), i.e. ratios ${ratio(s.transfer.median / s.paired.median)} / ${ratio(s.transfer.p90 / s.paired.p90)} / ${ratio(s.transfer.p99 / s.paired.p99)}`,
    `- one APDU round trip (floor median / ${perTransfer.apdus}): ${ms(s.apdu.median / perTransfer.apdus)} ms; one journal append (floor median / ${perTransfer.appends}): ${ms(s.journal.median / perTransfer.appends)} ms`,
    `- APDUs per transfer, beside the protocol minimum (docs/protocol.md §4.8): the first of a card presence ${r.first.apduSlots.length} (minimum ${MINIMUM.first}: ${r.first.apduList}); every further one ${perTransfer.apdus} (minimum ${MINIMUM.further}: the five value commands and GET CARD INFO of each card the last transfer changed); ${OLD_APDUS} before §4.8`,
    `- one transfer sends ${perTransfer.apdus} APDUs — ${r.shape.apduList} — and writes ${perTransfer.appends} journal entries (${r.shape.entries.map((e) => e.step).join(', ')})`,
    `- ${
      r.deviations.size === 0
        ? `every timed transfer sent exactly ${perTransfer.apdus} APDUs and wrote ${perTransfer.appends} journal entries`
        : `timed transfers that differed from ${perTransfer.apdus} APDUs and ${perTransfer.appends} journal entries: ${[...r.deviations].map(([k, n]) => `${n} × ${k}`).join('; ')}`
    }`,
    `- card resets (PC/SC sessions ended with SCARD_RESET_CARD) per transfer: ${r.shape.resets}${r.shape.resets === 0 ? ' (the engine keeps its sessions open: no session row)' : ''}`,
    `- ${r.transfers} timed transfers (${r.untimed} more untimed: warm-up and one after each floor phase), interleaved with the floor blocks in ${r.rounds} rounds; percentiles are nearest-rank`,
    `- cards: ${r.cardBackend === 'file' ? "each card's memory in a file, written and fsynced (file and folder) at every card commit" : 'memory in RAM (no card-side I/O)'}; both cards run in the benchmark process behind vpcd; terminal database${r.cardBackend === 'file' ? ' and card files' : ''} on ${r.storage}`,
    `- check: ${r.sanity}`,
    r.closing,
  ].join('\n');
}

runBenchmark('bench/transfer-over-pcscd.ts', OPTIONS, main);
