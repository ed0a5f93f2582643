// Benchmark: one APDU round trip through pcscd to the project's card simulator, side by side with
// vsmartcard's own Python emulator (vicc, Debian package python3-virtualsmartcard), in the same run.
//
//   npx tsx bench/apdu-vs-vicc.ts [--round-trips 2000]
//
// One private pcscd with two vpcd readers (test/support/pcscd-harness.ts):
//   "Virtual PCD A 00 00"  the settlement card simulator, in this process behind VpcdConnector
//   "Virtual PCD A 00 01"  `vicc --type iso7816`, a Python process of its own
// One PcscClient of this process holds a session with each card (shared mode) and sends the APDUs.
//
// Which APDUs: vicc's iso7816 card has an empty master file and no application, so no command
// both cards answer with 9000 has the same bytes. Three kinds, each as alike as the two cards allow:
//   unknown AID   SELECT by an AID neither card holds, the same bytes to both: both answer 6A82
//   select        each card's own SELECT, 9000 without data: the settlement applet by AID
//                 (00 A4 04 00 06 F0535...) / vicc's master file by file id (00 A4 00 0C 02 3F00)
//   short data    a simple command answered with data and 9000: GET BALANCE after the owner's
//                 VERIFY (18 bytes) / GET CHALLENGE (8 random bytes)
// Floor: the same APDUs to a card in the same reader that only replays the settlement card's
// recorded answers (a table lookup): pcscd, vpcd, TCP and the PC/SC client without any card work.
//
// Blocks of each kind and card alternate in rounds, so drift reaches all of them alike.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIssuer, personalizeCard } from '../card-sim/issuer/issuer.js';
import { MemoryBackend } from '../card-sim/os/persistence-backend.js';
import { createSettlementCard } from '../card-sim/settlement-card.js';
import { VpcdConnector } from '../card-sim/transport/vpcd-connector.js';
import { type PcscChannel, PcscClient } from '../electron/services/pcsc/pcsc-client.js';
import { encodeCommandApdu } from '../protocol/apdu.js';
import { fromHex, toHex } from '../protocol/bytes.js';
import { INS, SETTLEMENT_AID } from '../protocol/settlement/commands.js';
import { SettlementClient } from '../protocol/settlement/settlement-client.js';
import type { VirtualCard } from '../protocol/virtual-card.js';
import { DEFAULT_CARD, TEST_CURRENCY, TEST_PIN } from '../test/support/card-fixtures.js';
import { type PcscdHarness, startPcscd } from '../test/support/pcscd-harness.js';
import {
  closingLines,
  enterNetwork,
  intOption,
  ms,
  NETWORK_OPTION,
  networkOption,
  publishSection,
  RESULTS_OPTION,
  ratioRow,
  roundShare,
  runBenchmark,
  type Summary,
  startRun,
  summarize,
  timingRow,
  timingTable,
} from './kit.js';

const OPTIONS = {
  'round-trips': 'timed round trips per card and APDU kind (default 2000)',
  warmup: 'untimed round trips per card and APDU kind before timing (default 100)',
  rounds: 'interleave the blocks in this many rounds (default 10)',
  network: NETWORK_OPTION,
  results: RESULTS_OPTION,
};

const OURS_READER = 'Virtual PCD A 00 00';
const VICC_READER = 'Virtual PCD A 00 01';

type CardId = 'ours' | 'floor' | 'vicc';
const CARDS: CardId[] = ['ours', 'floor', 'vicc'];

interface Kind {
  id: string;
  title: string;
  apdu: Record<'ours' | 'vicc', Uint8Array>;
  /** What each card must answer (hex): exact bytes, or status word and data length when random. */
  expect: Record<'ours' | 'vicc', { sw: string; dataLength: number }>;
  /** Untimed commands before a block to our card (e.g. the owner's VERIFY that a SELECT cleared). */
  prepareOurs?: (channel: PcscChannel) => Promise<void>;
}

const UNKNOWN_AID = fromHex('A0 00 00 05 27 FF 01'); // a made-up AID under a RID no test uses

const select = (p1: number, p2: number, data: Uint8Array) =>
  encodeCommandApdu({ cla: 0x00, ins: 0xa4, p1, p2, data });

const KINDS: Kind[] = [
  {
    id: 'unknown-aid',
    title: 'SELECT by an AID neither card holds (same bytes; 6A82 from both)',
    apdu: { ours: select(0x04, 0x00, UNKNOWN_AID), vicc: select(0x04, 0x00, UNKNOWN_AID) },
    expect: { ours: { sw: '6A82', dataLength: 0 }, vicc: { sw: '6A82', dataLength: 0 } },
  },
  {
    id: 'select',
    title: 'SELECT, 9000 without data (settlement applet by AID / vicc master file by id)',
    apdu: { ours: select(0x04, 0x00, SETTLEMENT_AID), vicc: select(0x00, 0x0c, fromHex('3F00')) },
    expect: { ours: { sw: '9000', dataLength: 0 }, vicc: { sw: '9000', dataLength: 0 } },
  },
  {
    id: 'short-data',
    title: 'short data and 9000 (GET BALANCE after VERIFY, 18 bytes / GET CHALLENGE, 8 bytes)',
    apdu: {
      ours: encodeCommandApdu({ cla: 0x80, ins: INS.GET_BALANCE, p1: 0, p2: 0, ne: 256 }),
      vicc: encodeCommandApdu({ cla: 0x00, ins: 0x84, p1: 0, p2: 0, ne: 8 }),
    },
    expect: { ours: { sw: '9000', dataLength: 18 }, vicc: { sw: '9000', dataLength: 8 } },
    // SELECT (the previous kind) clears the owner's login, so the owner logs in again first.
    prepareOurs: async (channel) => new SettlementClient(channel).verifyPin(TEST_PIN),
  },
];

/** A card whose behaviour can be switched between blocks, behind one vpcd connection. */
class SwitchableCard implements VirtualCard {
  apdus = 0;
  constructor(public target: VirtualCard) {}
  get atr(): Uint8Array {
    return this.target.atr;
  }
  powerUp(): void {
    this.target.powerUp();
  }
  powerDown(): void {
    this.target.powerDown();
  }
  reset(): void {
    this.target.reset();
  }
  transmit(apdu: Uint8Array): Uint8Array {
    this.apdus++;
    return this.target.transmit(apdu);
  }
}

/** The floor card: answers each APDU with the settlement card's recorded answer, nothing else. */
class ReplayCard implements VirtualCard {
  readonly answers = new Map<string, Uint8Array>();
  constructor(readonly atr: Uint8Array) {}
  powerUp(): void {}
  powerDown(): void {}
  reset(): void {}
  transmit(apdu: Uint8Array): Uint8Array {
    return this.answers.get(Buffer.from(apdu).toString('hex')) ?? Uint8Array.of(0x6f, 0x00);
  }
}

async function main(options: Map<string, string>): Promise<void> {
  const roundTrips = intOption(options, 'round-trips', 2000);
  const warmup = intOption(options, 'warmup', 100, 0);
  const rounds = Math.min(intOption(options, 'rounds', 10), roundTrips);
  const network = await enterNetwork(networkOption(options));
  const run = startRun();

  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const harness = await startPcscd({ readers: 2, logLevel: 'error' });
    cleanups.push(() => harness.stop());
    const names = await harness.readerNames();
    if (names.join() !== [OURS_READER, VICC_READER].join()) {
      throw new Error(`unexpected reader names ${names.join(', ')}`);
    }

    // Our card: the settlement card simulator, as the terminal benchmarks use it.
    const issuer = createIssuer({ name: 'Bench Issuer', currency: TEST_CURRENCY, now: new Date() });
    const sim = createSettlementCard({
      backend: new MemoryBackend(),
      initial: personalizeCard(issuer, { ...DEFAULT_CARD, now: new Date() }),
    });
    const replay = new ReplayCard(sim.os.atr);
    const card = new SwitchableCard(sim.os);
    const connector = new VpcdConnector({ port: harness.ports[0]!, card });
    await connector.connect();
    cleanups.push(() => connector.close());

    const shimDir = mkdtempSync(join(tmpdir(), 'bench-vicc-'));
    cleanups.push(() => rmSync(shimDir, { recursive: true, force: true }));
    const vicc = startVicc(harness, shimDir);
    cleanups.push(() => vicc.stop());

    const client = new PcscClient({ socketPath: harness.socketPath });
    cleanups.push(() => client.close());
    const viccAtr = await client.waitForCard(VICC_READER, { timeoutMs: 20_000 }).catch((e: unknown) => {
      throw new Error(`vicc did not show up in pcscd: ${(e as Error).message}\n${vicc.stderr()}`);
    });
    await client.waitForCard(OURS_READER, { timeoutMs: 10_000 });
    const channels = {
      ours: await client.connect(OURS_READER, { disposition: 'leave' }),
      vicc: await client.connect(VICC_READER, { disposition: 'leave' }),
    };
    cleanups.push(async () => {
      await channels.ours.close();
      await channels.vicc.close();
    });
    const channelOf = (id: CardId) => (id === 'vicc' ? channels.vicc : channels.ours);

    // Record the settlement card's answers for the floor card (once, in kind order, as in a round).
    await new SettlementClient(channels.ours).select();
    for (const kind of KINDS) {
      await kind.prepareOurs?.(channels.ours);
      const answer = await channels.ours.transmit(kind.apdu.ours);
      check(kind, 'ours', answer);
      replay.answers.set(Buffer.from(kind.apdu.ours).toString('hex'), answer);
    }

    const samples = new Map<string, number[]>();
    const key = (kind: Kind, id: CardId) => `${kind.id}:${id}`;
    const runBlock = async (kind: Kind, id: CardId, count: number, keep: boolean) => {
      card.target = id === 'floor' ? replay : sim.os;
      if (id === 'ours') await kind.prepareOurs?.(channels.ours);
      const channel = channelOf(id);
      const apdu = kind.apdu[id === 'vicc' ? 'vicc' : 'ours'];
      const out = samples.get(key(kind, id)) ?? [];
      const apdus0 = card.apdus;
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        const answer = await channel.transmit(apdu);
        const elapsed = performance.now() - t0;
        check(kind, id === 'vicc' ? 'vicc' : 'ours', answer);
        if (keep) out.push(elapsed);
      }
      // Our card must see exactly one APDU per round trip (no GET RESPONSE, nothing extra).
      if (id !== 'vicc' && card.apdus - apdus0 !== count) {
        throw new Error(`${card.apdus - apdus0} APDUs reached the card for ${count} round trips`);
      }
      samples.set(key(kind, id), out);
    };

    if (warmup > 0) {
      for (const kind of KINDS) for (const id of CARDS) await runBlock(kind, id, warmup, false);
    }
    for (let r = 0; r < rounds; r++) {
      const count = roundShare(roundTrips, rounds, r);
      // Rotate which card goes first, so no card always follows the same one.
      const order = CARDS.map((_, i) => CARDS[(i + r) % CARDS.length]!);
      for (const kind of KINDS) for (const id of order) await runBlock(kind, id, count, true);
      console.error(`round ${r + 1}/${rounds} done`);
    }
    card.target = sim.os;

    const body = report({
      network: network.mode,
      roundTrips,
      warmup,
      rounds,
      s: new Map([...samples].map(([k, v]) => [k, summarize(v)])),
      protocols: { ours: channels.ours.protocol, vicc: channels.vicc.protocol },
      atrs: { ours: toHex(sim.os.atr), vicc: toHex(viccAtr) },
      versions: `${versions()}; vicc environment: ${vicc.setup}; vicc logged ${vicc.stderrLines()} lines to stderr in the whole run`,
      closing: closingLines(run, network),
    });
    publishSection(options, `apdu-vs-vicc:${network.mode}`, body);
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

/** Throws unless `answer` is what `kind` expects from that card. */
function check(kind: Kind, who: 'ours' | 'vicc', answer: Uint8Array): void {
  const { sw, dataLength } = kind.expect[who];
  const got = toHex(answer.subarray(-2));
  if (got !== sw || answer.length - 2 !== dataLength) {
    throw new Error(
      `${kind.id}: ${who} answered ${toHex(answer)}, expected ${dataLength} data bytes and ${sw}`,
    );
  }
}

interface Vicc {
  stop(): Promise<void>;
  stderr(): string;
  /** Lines vicc logged so far (its default level logs warnings, e.g. the default SAM PIN). */
  stderrLines(): number;
}

/**
 * vicc (iso7816 card) connecting to the vpcd slot of the second reader. Debian 12's package needs two
 * things it does not bring: its modules sit in /usr/lib/python3/site-packages/virtualsmartcard, which
 * is not on Debian's sys.path, and CryptoUtils imports PyCrypto's `Crypto` (not in Debian 12), else
 * falls back to Python 2's `sha`. So vicc gets a PYTHONPATH with that folder and, where `Crypto` is
 * missing, a folder holding `Crypto` as a link to python3-pycryptodome's `Cryptodome` (same API).
 * None of that is on the measured path: GET CHALLENGE uses os.urandom.
 */
function startVicc(harness: PcscdHarness, shimDir: string): Vicc & { setup: string } {
  const { env, setup } = viccEnvironment(shimDir);
  const args = ['--type', 'iso7816', '--hostname', '127.0.0.1', '--port', String(harness.ports[1])];
  // setpriv --pdeathsig: vicc ends with this process even if stop() is never reached.
  const child: ChildProcess = spawn('setpriv', ['--pdeathsig', 'TERM', '--', 'vicc', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  let log = '';
  let lines = 0;
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    lines += text.split('\n').length - 1;
    log = (log + text).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (e) => {
      log += `\n${e.message} (is python3-virtualsmartcard installed?)`;
      resolve();
    });
  });
  return {
    setup,
    stderr: () => log,
    stderrLines: () => lines,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const VICC_PYTHON = '/usr/bin/python3'; // vicc's interpreter (its #! line), not whatever python3 is first on PATH
const DEBIAN_VICC_MODULES = '/usr/lib/python3/site-packages/virtualsmartcard';
const DEBIAN_CRYPTODOME = '/usr/lib/python3/dist-packages/Cryptodome';

function viccEnvironment(shimDir: string): { env: NodeJS.ProcessEnv; setup: string } {
  const imports = (module: string, path: string[]) =>
    spawnSync(VICC_PYTHON, ['-c', `import ${module}`], {
      env: { ...process.env, PYTHONPATH: path.join(':') },
      stdio: 'ignore',
      timeout: 10_000,
    }).status === 0;
  const path: string[] = [];
  const notes: string[] = [];
  if (!imports('virtualsmartcard.VirtualSmartcard', path) && existsSync(DEBIAN_VICC_MODULES)) {
    path.push(DEBIAN_VICC_MODULES);
    notes.push(`PYTHONPATH=${DEBIAN_VICC_MODULES}`);
  }
  if (!imports('Crypto.Hash.SHA', path) && existsSync(DEBIAN_CRYPTODOME)) {
    symlinkSync(DEBIAN_CRYPTODOME, join(shimDir, 'Crypto'));
    path.push(shimDir);
    notes.push('`Crypto` → `Cryptodome` (python3-pycryptodome) on PYTHONPATH');
  }
  const env = { ...process.env };
  if (path.length > 0) env.PYTHONPATH = [...path, ...(env.PYTHONPATH ? [env.PYTHONPATH] : [])].join(':');
  return { env, setup: notes.length > 0 ? notes.join(', ') : 'as installed' };
}

function versions(): string {
  const pkg = (name: string) => {
    try {
      return execFileSync('dpkg-query', ['-W', name], { encoding: 'utf8', timeout: 5_000 })
        .trim()
        .split('\t')
        .join(' ');
    } catch {
      return `${name} (version unknown)`;
    }
  };
  let python = 'python3 (version unknown)';
  try {
    python = execFileSync(VICC_PYTHON, ['--version'], { encoding: 'utf8', timeout: 5_000 }).trim();
  } catch {
    // reported as unknown
  }
  return `${pkg('python3-virtualsmartcard')} (vicc), ${python}`;
}

function report(r: {
  network: string;
  roundTrips: number;
  warmup: number;
  rounds: number;
  s: Map<string, Summary>;
  protocols: Record<'ours' | 'vicc', string>;
  atrs: Record<'ours' | 'vicc', string>;
  versions: string;
  /** closingLines(): machine, date, command. */
  closing: string;
}): string {
  const get = (kind: Kind, id: CardId) => r.s.get(`${kind.id}:${id}`)!;
  const who: Record<CardId, string> = {
    ours: 'card simulator (node, this process)',
    floor: 'floor: replayed answers, no card work',
    vicc: 'vicc (python3, own process)',
  };
  const rows: string[][] = [];
  for (const kind of KINDS) {
    rows.push([`**${kind.title}**`, '', '', '', '', '']);
    for (const id of CARDS) rows.push(timingRow(who[id], get(kind, id)));
    rows.push(
      ratioRow('**ratio vicc / card simulator**', get(kind, 'vicc'), get(kind, 'ours'), ['median', 'p99']),
    );
  }
  const table = timingTable('per round trip (ms)', rows);
  const aboveFloor = KINDS.map((kind) => {
    const floor = get(kind, 'floor').median;
    const ours = get(kind, 'ours').median - floor;
    const vicc = get(kind, 'vicc').median - floor;
    return `${kind.id}: card simulator ${ms(ours)} ms, vicc ${ms(vicc)} ms`;
  }).join('; ');
  return [
    `## APDU round trip: card simulator vs vicc — ${r.network} network`,
    '',
    table,
    '',
    `- above the floor (median − floor median), i.e. what the card itself and its process add: ${aboveFloor}`,
    `- APDUs, card simulator / vicc: ${KINDS.map((k) => `${k.id} \`${toHex(k.apdu.ours)}\` / \`${toHex(k.apdu.vicc)}\``).join('; ')}; before each short-data block the owner PIN is verified (\`0020\`, untimed). vicc's iso7816 card has an empty master file and no application, so only the unknown-AID SELECT can be the same bytes with the same answer`,
    "- floor: the card simulator swapped (between blocks, same vpcd connection) for a card that answers each APDU with the simulator's recorded answer; so it is pcscd + vpcd + TCP + the PC/SC client alone",
    `- ${r.roundTrips} timed round trips per card and kind (after ${r.warmup} untimed), in ${r.rounds} rounds, card order rotating; each round trip timed alone (PcscChannel.transmit, one SCardTransmit); every answer checked; percentiles are nearest-rank`,
    `- one pcscd, two vpcd readers: card simulator in "${OURS_READER}" (VpcdConnector in the benchmark process, which is also the PC/SC client), vicc in "${VICC_READER}" (\`vicc --type iso7816 --hostname 127.0.0.1 --port <slot port>\`, a separate process); both sessions shared mode, kept open for the whole run`,
    `- protocol chosen by pcscd: card simulator ${r.protocols.ours}, vicc ${r.protocols.vicc}; ATRs ${r.atrs.ours} / ${r.atrs.vicc}`,
    `- ${r.versions}`,
    r.closing,
  ].join('\n');
}

runBenchmark('bench/apdu-vs-vicc.ts', OPTIONS, main);
