// Benchmark: transfer-key update by the common-key route against the public-key route, over pcscd.
//
//   npx tsx bench/key-update-routes.ts [--updates 200]
//
// The same rig as bench/transfer-over-pcscd.ts: a private pcscd with two vpcd readers, two simulated
// cards, the real terminal services. The payer card holds transfer key 1 and update key 1. Before each
// update both cards get their personalized memory back (the keys are reset, nothing else changes) and
// the payee card is one of two:
//   common-key  transfer key 2, update key 1: same update key, so the key travels wrapped under it
//               (AES-128-GCM) — the route the seed prefers for speed
//   public-key  transfer key 2, update key 2: update keys differ, so transfer key and update key
//               travel ECIES-encrypted to the payer's certificate and signed (P-256), certificates
//               checked on both cards
// Routes alternate, update by update. Timed per update, as SettlementEngine.updateKeys(): the whole
// operation (both cards read and checked, the plan, the update, the receiver read again) and the key-
// update flow alone (journal entry 'planned' to 'completed': the three key-update APDUs, their journal
// entries and the receiver's re-read). Reported: median, p90, p99, mean of each, and public / common.
import { settlementStateCodec } from '../card-sim/applets/settlement/state.js';
import { personalizeCard } from '../card-sim/issuer/issuer.js';
import { DEFAULT_CARD } from '../test/support/card-fixtures.js';
import {
  closingLines,
  enterNetwork,
  filesystemOf,
  intOption,
  NETWORK_OPTION,
  networkOption,
  publishSection,
  RESULTS_OPTION,
  ratioRow,
  runBenchmark,
  startRun,
  summarize,
  timingRow,
  timingTable,
} from './kit.js';
import { CARD_BACKEND_OPTION, cardBackendOption, startRig } from './terminal-rig.js';

const OPTIONS = {
  updates: 'timed key updates per route (default 200)',
  warmup: 'untimed key updates per route before timing (default 10)',
  'card-backend': CARD_BACKEND_OPTION,
  network: NETWORK_OPTION,
  results: RESULTS_OPTION,
};

const ROUTES = ['common-key', 'public-key'] as const;
type Route = (typeof ROUTES)[number];

interface Sample {
  total: number;
  flow: number;
  apdus: number;
  appends: number;
}

async function main(options: Map<string, string>): Promise<void> {
  const updates = intOption(options, 'updates', 200);
  const warmup = intOption(options, 'warmup', 10, 0);
  const cardBackend = cardBackendOption(options);
  const network = await enterNetwork(networkOption(options));

  const run = startRun();
  const rig = await startRig({
    cardBackend,
    payer: { transferKeyId: 1, updateKeyId: 1 },
    payee: { transferKeyId: 2, updateKeyId: 1 },
  });
  try {
    const payerImage = rig.cards.payer.backend.load()!;
    const payeeImages: Record<Route, string> = {
      'common-key': rig.cards.payee.backend.load()!,
      'public-key': settlementStateCodec.encode(
        personalizeCard(rig.issuer, { ...DEFAULT_CARD, now: new Date(), transferKeyId: 2, updateKeyId: 2 }),
      ),
    };

    // The key-update flow's span, from the engine's journal step events.
    let planned = 0;
    let completed = 0;
    rig.services.engine.on((e) => {
      if (e.type !== 'step' || e.event.flowKind !== 'key-update') return;
      if (e.event.step === 'planned') planned = performance.now();
      if (e.event.step === 'completed') completed = performance.now();
    });

    const once = async (route: Route): Promise<Sample> => {
      rig.loadImage('payer', payerImage);
      rig.loadImage('payee', payeeImages[route]);
      const apdus0 = rig.apdus;
      const appends0 = rig.appends;
      const t0 = performance.now();
      const summaries = await rig.services.engine.updateKeys();
      const total = performance.now() - t0;
      const got = summaries.map((s) => `${s.receiver}:${s.route}`).join(', ');
      if (got !== `payer:${route}`)
        throw new Error(`expected one ${route} update of the payer card, got [${got}]`);
      const keys = rig.cards.payer.sim.store.read();
      const wantUpdateKey = route === 'public-key' ? 2 : 1;
      if (keys.transferKeyId !== 2 || keys.updateKeyId !== wantUpdateKey) {
        throw new Error(
          `the payer card holds keys ${keys.transferKeyId}/${keys.updateKeyId} after the ${route} update`,
        );
      }
      return {
        total,
        flow: completed - planned,
        apdus: rig.apdus - apdus0,
        appends: rig.appends - appends0,
      };
    };

    for (let i = 0; i < warmup; i++) for (const route of ROUTES) await once(route);
    const samples: Record<Route, Sample[]> = { 'common-key': [], 'public-key': [] };
    for (let i = 0; i < updates; i++) {
      // Alternate which route goes first, so neither always follows the other.
      const order = i % 2 === 0 ? ROUTES : ([...ROUTES].reverse() as Route[]);
      for (const route of order) samples[route].push(await once(route));
      if ((i + 1) % 50 === 0) console.error(`${i + 1}/${updates} updates per route timed`);
    }
    const journalEntries = rig.services.journal.verifyOrThrow();

    const summary = (route: Route, key: 'total' | 'flow') => summarize(samples[route].map((s) => s[key]));
    const shape = (route: Route) => {
      const a = new Set(samples[route].map((s) => s.apdus));
      const j = new Set(samples[route].map((s) => s.appends));
      if (a.size !== 1 || j.size !== 1)
        throw new Error(`${route}: APDU or journal counts vary between updates`);
      return { apdus: [...a][0]!, appends: [...j][0]! };
    };
    const s = {
      common: {
        total: summary('common-key', 'total'),
        flow: summary('common-key', 'flow'),
        ...shape('common-key'),
      },
      public: {
        total: summary('public-key', 'total'),
        flow: summary('public-key', 'flow'),
        ...shape('public-key'),
      },
    };
    const table = timingTable('per key update (ms)', [
      timingRow('common-key route, whole `engine.updateKeys()`', s.common.total),
      timingRow('public-key route, whole `engine.updateKeys()`', s.public.total),
      ratioRow('**ratio public / common**, whole operation', s.public.total, s.common.total, ['median']),
      timingRow("common-key route, key-update flow only ('planned' → 'completed')", s.common.flow),
      timingRow("public-key route, key-update flow only ('planned' → 'completed')", s.public.flow),
      ratioRow('**ratio public / common**, key-update flow only', s.public.flow, s.common.flow, ['median']),
    ]);
    const body = [
      `## Key update routes over pcscd — card backend \`${cardBackend}\`, ${network.mode} network`,
      '',
      table,
      '',
      `- per update, both cards together: common-key ${s.common.apdus} APDUs and ${s.common.appends} journal entries; public-key ${s.public.apdus} APDUs and ${s.public.appends} journal entries (the whole operation, card reads included)`,
      `- ${updates} timed updates per route after ${warmup} untimed, routes alternating; before each update both cards get their personalized memory back; percentiles are nearest-rank`,
      '- common-key: payee (sender) holds transfer key 2 and update key 1, like the payer; public-key: payee holds transfer key 2 and update key 2, so the payer takes both by public key',
      `- cards: ${cardBackend === 'file' ? "each card's memory in a file, written and fsynced at every card commit" : 'memory in RAM (no card-side I/O)'}; both cards run in the benchmark process behind vpcd; terminal database${cardBackend === 'file' ? ' and card files' : ''} on ${filesystemOf(rig.dir)}`,
      `- check: every update took the planned route and left the payer with the sender's keys; journal chain of ${journalEntries} entries verifies`,
      closingLines(run, network),
    ].join('\n');
    publishSection(options, `key-update-routes:${cardBackend}:${network.mode}`, body);
  } finally {
    await rig.close();
  }
}

runBenchmark('bench/key-update-routes.ts', OPTIONS, main);
