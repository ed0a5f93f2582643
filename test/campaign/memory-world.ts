// The campaign world in this process: the terminal's real services (SQLite journal, CRL cache,
// settlement and content engines) over simulated reader slots, cards in memory. Fast enough for
// long soaks. Faults: tearing at any card write, a card pulled before/after any APDU, the waiting
// time running out before/after the card acted, and the terminal "killed" after any journal write:
// from that write on, nothing more of that terminal reaches the log or a card (what SIGKILL does),
// then a new terminal starts on the same database. (The pcscd world kills a real process.)
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIssuer, publishCrl } from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import type { TearingDecision } from '../../card-sim/os/persistent-store.js';
import { type TerminalConfig, terminalConfigSchema } from '../../electron/services/config.js';
import { SLOT_NAMES, type SlotName } from '../../electron/services/slots/reader-slots.js';
import { createSimulatedSlots, type SimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import { startTerminalServices, type TerminalServices } from '../../electron/services/terminal-services.js';
import { fromHex } from '../../protocol/bytes.js';
import type { ArmedFault, CampaignWorld, OperationRun, OperationTrace } from './campaign-world.js';
import type { FaultKind } from './case-plan.js';
import { type Operation, runOperation } from './operations.js';
import { SeededRandom } from './seeded-random.js';
import {
  type CardHooks,
  cardSetup,
  createItem,
  FaultableCard,
  personalize,
  WORLD_CURRENCY,
  WORLD_PIN,
} from './world-cards.js';

const FAULTS: readonly FaultKind[] = [
  'none',
  'tear-before-write',
  'tear-after-write',
  'pull-before',
  'pull-after',
  'timeout-before',
  'timeout-after',
  'terminal-kill',
];

class TerminalKilled extends Error {
  constructor() {
    super('the terminal was killed (fault injection)');
  }
}

export interface MemoryWorldOptions {
  seed: number;
  /** Active cards (≥ 2); default 3. */
  cards?: number;
  balance?: number;
}

export async function startMemoryWorld(o: MemoryWorldOptions): Promise<CampaignWorld> {
  // The log on tmpfs where there is one: the campaign checks what is written and in which order,
  // not the disk's fsync (test/db/journal-crash.test.ts does); volume is what this world is for.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'campaign-memory-'));
  const r = new SeededRandom(o.seed ^ 0x5eed);
  const issuer: IssuerState = createIssuer({
    name: 'Campaign Issuer',
    currency: WORLD_CURRENCY,
    updateKeys: 3,
    transferKeys: 6,
  });
  writeFileSync(join(dir, 'ca.der'), fromHex(issuer.caCertificate));
  writeFileSync(
    join(dir, 'builtin.crl'),
    publishCrl(issuer, { now: new Date(Date.now() - 60_000), validityDays: 30 }),
  );
  const config: TerminalConfig = terminalConfigSchema.parse({
    dataDir: join(dir, 'data'),
    currency: WORLD_CURRENCY,
    caCertificate: join(dir, 'ca.der'),
    builtinCrl: join(dir, 'builtin.crl'),
    waitingTimeMs: 50,
    slots: { backend: 'pcsc', readers: { payer: 'simulated payer', payee: 'simulated payee' } },
  });

  // --- the fault injector ---
  let armed: ArmedFault = { kind: 'none', at: 0 };
  let trace: OperationTrace = { apdus: 0, cardWrites: 0, journalWrites: 0, fired: false };
  let dead = false;
  let slots: SimulatedSlots;
  const slotOf = (card: FaultableCard) => SLOT_NAMES.find((s) => placed[s] === card);
  const pull = (card: FaultableCard) => {
    const slot = slotOf(card);
    if (slot) queueMicrotask(() => slots.remove(slot));
  };
  const hooks: CardHooks = {
    onApdu(card) {
      if (dead) throw new TerminalKilled(); // a dead terminal sends nothing
      if (armed.kind.startsWith('timeout')) return 'pass'; // counted in the slot's fault predicate
      trace.apdus++;
      if (trace.apdus !== armed.at || !armed.kind.startsWith('pull')) return 'pass';
      trace.fired = true;
      pull(card);
      return armed.kind === 'pull-before' ? 'mute-before' : 'mute-after';
    },
    onWrite(): TearingDecision {
      trace.cardWrites++;
      if (trace.cardWrites !== armed.at || !armed.kind.startsWith('tear')) return 'proceed';
      trace.fired = true;
      return armed.kind === 'tear-before-write' ? 'cut-before-write' : 'cut-after-write';
    },
  };

  const cards: FaultableCard[] = [];
  let counter = 0;
  const issue = (balance: number) => {
    const label = `card-${++counter}`;
    const card = new FaultableCard(
      label,
      new MemoryBackend(),
      personalize(issuer, cardSetup(r, balance), label),
      hooks,
    );
    cards.push(card);
    return card;
  };
  for (let i = 0; i < (o.cards ?? 3); i++) issue(o.balance ?? 100_000);
  const placed: Record<SlotName, FaultableCard> = { payer: cards[0]!, payee: cards[1]! };

  let terminal: TerminalServices;
  const startTerminal = async () => {
    slots = createSimulatedSlots({ waitingTimeMs: config.waitingTimeMs });
    for (const s of SLOT_NAMES) slots.insert(s, placed[s].sim.os);
    terminal = await startTerminalServices(config, { slots });
    const journal = terminal.journal;
    const append = journal.append.bind(journal);
    journal.append = (entry) => {
      if (dead) throw new TerminalKilled();
      const record = append(entry);
      trace.journalWrites++;
      if (armed.kind === 'terminal-kill' && trace.journalWrites === armed.at) {
        trace.fired = true;
        dead = true;
        throw new TerminalKilled();
      }
      return record;
    };
    await terminal.engine.recover();
    await terminal.contents.recover();
  };
  await startTerminal();

  /** Power-cycles every card in a reader (after a tear or pull) and clears faults. */
  const heal = async () => {
    for (const s of SLOT_NAMES) {
      slots.clearFaults(s);
      slots.remove(s);
      slots.insert(s, placed[s].sim.os);
    }
  };

  return {
    tier: 'memory',
    faults: FAULTS,
    pin: WORLD_PIN,
    cards: () => [...cards],
    active: () => cards.filter((c) => !c.retired),
    placed: () => ({ ...placed }),
    async place(payer, payee) {
      for (const s of SLOT_NAMES) slots.remove(s);
      placed.payer = payer as FaultableCard;
      placed.payee = payee as FaultableCard;
      for (const s of SLOT_NAMES) slots.insert(s, placed[s].sim.os);
    },
    async reissue(card) {
      (card as FaultableCard).retired = true;
      return issue(0);
    },
    terminal: () => terminal,
    async run(operation: Operation, fault: ArmedFault): Promise<OperationRun> {
      armed = fault;
      trace = { apdus: 0, cardWrites: 0, journalWrites: 0, fired: false };
      if (fault.kind.startsWith('timeout')) {
        const when = () => {
          trace.apdus++;
          if (trace.apdus !== fault.at) return false;
          trace.fired = true;
          return true;
        };
        for (const s of SLOT_NAMES) {
          if (fault.kind === 'timeout-before') slots.stall(s, { when });
          else slots.stallAfterCard(s, { when });
        }
      }
      let outcome: unknown;
      let thrown: unknown;
      try {
        outcome = await runOperation(terminal, operation, WORLD_PIN);
      } catch (e) {
        thrown = e;
      }
      const killed = dead;
      armed = { kind: 'none', at: 0 };
      const done = trace;
      if (killed) {
        await terminal.close().catch(() => undefined); // nothing reaches log or card: still dead
        dead = false;
        await startTerminal();
      } else {
        await heal();
      }
      return { outcome, ...(killed ? {} : thrown !== undefined ? { thrown } : {}), killed, trace: done };
    },
    async issueItem(slot, label) {
      return terminal.engine.withCards(async (access) => {
        const s = await access.session(slot);
        return createItem(issuer, s.client, s.info.holderId, access.now(), label);
      });
    },
    async close() {
      await terminal.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
