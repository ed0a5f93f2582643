// The set-up of bench/card-latency.ts: two simulated settlement cards, each wrapped in a LatencyCard
// (card-sim/transport/latency-card.ts) that records every APDU and power-up into one ledger, and the
// real terminal services (startTerminalServices: SQLite journal, CRL cache, settlement and content
// engines) driving them. Two ways to reach the cards:
//   in-process  simulated reader slots in this process (electron/services/slots/simulated-slots.ts);
//               the model only accounts (virtual mode), so a flow runs at the simulator's speed
//   pcscd       the terminal-rig of the other benchmarks: a private pcscd, two vpcd readers; the cards
//               hold each answer back by its modelled time (real-time mode), so the terminal feels a
//               real card's pace and the wall time of a flow can be set beside its modelled time
// And the flows the benchmark measures, each from both cards presented to the readers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SettlementState, settlementStateCodec } from '../card-sim/applets/settlement/state.js';
import { createIssuer, type PersonalizeOptions, personalizeCard } from '../card-sim/issuer/issuer.js';
import type { IssuerState } from '../card-sim/issuer/issuer-state.js';
import { MemoryBackend, type PersistenceBackend } from '../card-sim/os/persistence-backend.js';
import { createSettlementCard, type SimulatedCard } from '../card-sim/settlement-card.js';
import { LatencyCard, type LatencyMode } from '../card-sim/transport/latency-card.js';
import {
  type ActivationRecord,
  LatencyLedger,
  type LatencyModel,
} from '../card-sim/transport/latency-model.js';
import type { VpcdConnector } from '../card-sim/transport/vpcd-connector.js';
import type { SlotName } from '../electron/services/slots/reader-slots.js';
import { createSimulatedSlots } from '../electron/services/slots/simulated-slots.js';
import { startTerminalServices, type TerminalServices } from '../electron/services/terminal-services.js';
import { DEFAULT_CARD, TEST_CURRENCY } from '../test/support/card-fixtures.js';
import { createUnderRight, ticket } from '../test/support/content-fixtures.js';
import { benchTerminalConfig, startRig } from './terminal-rig.js';

export type Transport = 'in-process' | 'pcscd';

export interface WorldCard {
  sim: SimulatedCard;
  backend: PersistenceBackend;
  latency: LatencyCard<SettlementState>;
}

export interface LatencyWorld {
  transport: Transport;
  services: TerminalServices;
  issuer: IssuerState;
  ledger: LatencyLedger;
  cards: Record<SlotName, WorldCard>;
  /** Gives the card in `slot` a freshly personalised memory (DEFAULT_CARD with `options`). */
  personalize(slot: SlotName, options?: Partial<PersonalizeOptions>): void;
  /**
   * Both cards leave their readers and are presented again: new presences, sessions dropped. Returns
   * the activations this presentation stands for when they happen here rather than in the flow (over
   * pcscd the reader powers a card up when it arrives; in process the terminal's connect does).
   */
  present(): Promise<ActivationRecord[]>;
  close(): Promise<void>;
}

const SLOTS: SlotName[] = ['payer', 'payee'];

function wrap(
  sim: SimulatedCard,
  ledger: LatencyLedger,
  slot: SlotName,
  model: LatencyModel,
  mode: LatencyMode,
) {
  return new LatencyCard(sim.os, { store: sim.store, model, mode, ledger, label: slot });
}

function personalizer(issuer: IssuerState, cards: Record<SlotName, WorldCard>) {
  return (slot: SlotName, options: Partial<PersonalizeOptions> = {}) => {
    const state = personalizeCard(issuer, { ...DEFAULT_CARD, now: new Date(), ...options });
    cards[slot].backend.store(settlementStateCodec.encode(state));
    cards[slot].sim.store.reload();
  };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Simulated slots in this process; the cards' model in virtual mode. */
export async function startInProcessWorld(model: LatencyModel): Promise<LatencyWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-latency-'));
  const now = new Date();
  const issuer = createIssuer({
    name: 'Latency Bench',
    currency: TEST_CURRENCY,
    updateKeys: 3,
    transferKeys: 6,
    now,
  });
  const ledger = new LatencyLedger();
  const make = (slot: SlotName): WorldCard => {
    const backend = new MemoryBackend();
    const sim = createSettlementCard({ backend, initial: personalizeCard(issuer, { ...DEFAULT_CARD, now }) });
    return { sim, backend, latency: wrap(sim, ledger, slot, model, 'virtual') };
  };
  const cards = { payer: make('payer'), payee: make('payee') };
  const slots = createSimulatedSlots({ waitingTimeMs: 5_000 });
  for (const slot of SLOTS) slots.insert(slot, cards[slot].latency);
  // The readers are named only because the configuration needs them: the slots are given.
  const config = benchTerminalConfig(dir, issuer, now, {
    payer: 'in-process payer',
    payee: 'in-process payee',
  });
  const services = await startTerminalServices(config, { slots });
  return {
    transport: 'in-process',
    services,
    issuer,
    ledger,
    cards,
    personalize: personalizer(issuer, cards),
    async present() {
      for (const slot of SLOTS) slots.remove(slot);
      for (const slot of SLOTS) slots.insert(slot, cards[slot].latency);
      await sleep(0); // the engine drops its sessions on the slot events
      return [];
    },
    async close() {
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** pcscd and vpcd readers (bench/terminal-rig.ts); the cards' model in real-time mode. */
export async function startPcscdWorld(model: LatencyModel): Promise<LatencyWorld> {
  const ledger = new LatencyLedger();
  const latency: Partial<Record<SlotName, LatencyCard<SettlementState>>> = {};
  const rig = await startRig({
    cardBackend: 'memory',
    wrapCard: (slot, sim) => {
      latency[slot] = wrap(sim, ledger, slot, model, 'real-time');
      return latency[slot];
    },
  });
  const cards = {
    payer: { sim: rig.cards.payer.sim, backend: rig.cards.payer.backend, latency: latency.payer! },
    payee: { sim: rig.cards.payee.sim, backend: rig.cards.payee.backend, latency: latency.payee! },
  };
  const cardSeen = (slot: SlotName) =>
    rig.services.slots.status().find((s) => s.slot === slot)?.cardPresent === true;
  return {
    transport: 'pcscd',
    services: rig.services,
    issuer: rig.issuer,
    ledger,
    cards,
    personalize: personalizer(rig.issuer, cards),
    async present() {
      for (const slot of SLOTS) await representCard(rig.cards[slot].connector, () => cardSeen(slot));
      // One power-up per card, however many times vpcd needed the card put in.
      return SLOTS.map((slot) => ({ kind: 'activation', card: slot, atr: cards[slot].latency.atr.slice() }));
    },
    close: () => rig.close(),
  };
}

/**
 * Pulls a card from its vpcd reader and presents it again, once pcscd (as the terminal sees it) has
 * noticed each step. Now and then vpcd leaves a pull or a reconnecting card unseen for a while (its
 * new connection waits behind the old one); then the step is done again, as the pcscd test fixture does.
 */
async function representCard(connector: VpcdConnector, seen: () => boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await connector.remove();
    try {
      await waitFor(() => !seen(), 'pcscd to see the card pulled', 4_000);
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      await connector.insert();
    }
  }
  for (let attempt = 1; ; attempt++) {
    await connector.insert();
    try {
      await waitFor(seen, 'pcscd to see the card presented again', 4_000);
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
    await connector.remove();
    await waitFor(() => !seen(), 'pcscd to see the card pulled', 10_000);
  }
}

// --- flows ---

export interface LatencyFlow {
  name: string;
  /** The fewest APDUs the flow can send from cards just presented (docs/protocol.md §4.8), and which. */
  minimum: { apdus: number; which: string };
  /** What the terminal sent before §4.8 (commit c2c8720), for the comparison. */
  before: number;
  /** Personalises the cards (and puts on them what the flow needs); the cards are presented afterwards. */
  prepare(world: LatencyWorld): Promise<void>;
  /** The flow itself, through the terminal services; throws unless it ends as it should. */
  run(world: LatencyWorld): Promise<void>;
}

const PRICE = 1500;

function keyUpdate(
  name: string,
  route: string,
  payer: Partial<PersonalizeOptions>,
  payee: Partial<PersonalizeOptions>,
): LatencyFlow {
  return {
    name,
    minimum: {
      apdus: 8,
      which: 'SELECT, GET CARD INFO per card; BEGIN, EXPORT, APPLY; the receiver’s keys read back',
    },
    before: 25,
    async prepare(world) {
      world.personalize('payer', payer);
      world.personalize('payee', payee);
    },
    async run(world) {
      const summaries = await world.services.engine.updateKeys();
      const got = summaries.map((s) => `${s.receiver}:${s.route}`).join(', ');
      if (got !== `payer:${route}`)
        throw new Error(`${name}: expected one ${route} update of the payer card, got [${got}]`);
    },
  };
}

let ticketId = '';

export const FLOWS: LatencyFlow[] = [
  {
    name: 'value transfer (same keys)',
    minimum: { apdus: 9, which: 'SELECT, GET CARD INFO per card; the five value commands' },
    before: 39,
    async prepare(world) {
      world.personalize('payer');
      world.personalize('payee');
    },
    async run(world) {
      const outcome = await world.services.engine.transfer({ amount: 100 });
      if (outcome.status !== 'completed' || outcome.keyUpdates.length > 0) {
        throw new Error(
          `value transfer: ${outcome.status}${'error' in outcome ? `: ${outcome.error.message}` : ''}`,
        );
      }
    },
  },
  keyUpdate(
    'key update, common-key route',
    'common-key',
    { transferKeyId: 1, updateKeyId: 1 },
    { transferKeyId: 2, updateKeyId: 1 },
  ),
  keyUpdate(
    'key update, public-key route',
    'public-key',
    { transferKeyId: 1, updateKeyId: 1 },
    { transferKeyId: 2, updateKeyId: 2 },
  ),
  keyUpdate(
    'key update, pre-stored switch',
    'pre-stored switch',
    { transferKeyId: 1, updateKeyId: 1, prestoredTransferKeyIds: [2] },
    { transferKeyId: 2, updateKeyId: 1 },
  ),
  {
    name: 'mutual authentication',
    minimum: { apdus: 10, which: 'SELECT, GET CARD INFO per card; AUTH BEGIN, PEER, CONFIRM per card' },
    before: 16,
    async prepare(world) {
      world.personalize('payer');
      world.personalize('payee');
    },
    async run(world) {
      const r = await world.services.contents.authenticate();
      if (r.payer.sessionId !== r.payee.sessionId)
        throw new Error('mutual authentication: session IDs differ');
    },
  },
  {
    // The customer (payer) buys the shop's ticket: PIN, card-to-card authentication, exchange.
    name: 'ticket purchase (PIN, authentication, exchange)',
    minimum: {
      apdus: 24,
      which:
        'SELECT, GET CARD INFO per card; login: VERIFY, the card info and balance shown; authentication 6; LIST CONTENTS; the exchange 8 and the ticket half’s digest (CONTENT STATUS, for the issuer host); the buyer’s balance shown',
    },
    before: 32,
    async prepare(world) {
      world.personalize('payer', { balance: 5_000 });
      world.personalize('payee', { balance: 0, issuerCard: true, pin: '0000' });
      await world.present();
      const item = ticket(world.issuer);
      ticketId = item.id;
      await world.services.engine.withCards(async (cards) => {
        const s = await cards.session('payee');
        await createUnderRight(world.issuer, s.client, s.info.holderId, cards.now(), item);
      });
    },
    async run(world) {
      await world.services.engine.login('payer', DEFAULT_CARD.pin!);
      await world.services.contents.authenticate();
      const outcome = await world.services.contents.exchange({
        initiator: 'payer',
        give: { amount: PRICE },
        take: { itemId: ticketId },
      });
      if (outcome.status !== 'completed') throw new Error(`ticket purchase: ${outcome.status}`);
    },
  },
];
