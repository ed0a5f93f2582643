// The campaign world in this process: the terminal's real services (SQLite journal, CRL cache,
// settlement and content engines) over simulated reader slots, cards in memory. Fast enough for
// long soaks. Faults: tearing at any card write, a card pulled before/after any APDU, the waiting
// time running out before/after the card acted, and the terminal "killed" after any journal write:
// from that write on, nothing more of that terminal reaches the log or a card (what SIGKILL does),
// then a new terminal starts on the same database. (The pcscd world kills a real process.)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TerminalConfig, terminalConfigSchema } from '../../electron/services/config.js';
import { SLOT_NAMES, type SlotName } from '../../electron/services/slots/reader-slots.js';
import { createSimulatedSlots, type SimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import { startTerminalServices, type TerminalServices } from '../../electron/services/terminal-services.js';
import type { ArmedFault, CampaignWorld, OperationRun } from './campaign-world.js';
import { FAULT_KINDS, type FaultKind } from './case-plan.js';
import { FaultInjector } from './fault-injector.js';
import { type Operation, runOperation } from './operations.js';
import { SeededRandom } from './seeded-random.js';
import { CardPool, createItem, type FaultableCard, WORLD_CURRENCY, WORLD_PIN } from './world-cards.js';
import { createWorldIssuer } from './world-issuer.js';

/** Every fault but a pcscd restart (there is no pcscd here). */
const FAULTS: readonly FaultKind[] = FAULT_KINDS.filter((f) => f !== 'pcscd-restart');

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
  const { issuer, caPath, crlPath } = createWorldIssuer(dir);
  const config: TerminalConfig = terminalConfigSchema.parse({
    dataDir: join(dir, 'data'),
    currency: WORLD_CURRENCY,
    caCertificate: caPath,
    builtinCrl: crlPath,
    waitingTimeMs: 50,
    slots: { backend: 'pcsc', readers: { payer: 'simulated payer', payee: 'simulated payee' } },
  });

  let dead = false;
  let slots: SimulatedSlots;
  const injector = new FaultInjector({
    pull(card) {
      const slot = SLOT_NAMES.find((s) => placed[s] === card);
      if (slot) queueMicrotask(() => slots.remove(slot));
    },
    terminalDead: () => dead, // a dead terminal sends nothing
  });
  const pool = new CardPool(issuer, r, injector);
  for (let i = 0; i < (o.cards ?? 3); i++) pool.issue(o.balance ?? 100_000);
  const placed: Record<SlotName, FaultableCard> = { payer: pool.cards[0]!, payee: pool.cards[1]! };

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
      if (injector.journalWritten()) {
        dead = true;
        throw new TerminalKilled();
      }
      return record;
    };
    await terminal.recovery.run('start-up');
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
    cards: () => [...pool.cards],
    active: () => pool.active(),
    placed: () => ({ ...placed }),
    async place(payer, payee) {
      for (const s of SLOT_NAMES) slots.remove(s);
      placed.payer = payer as FaultableCard;
      placed.payee = payee as FaultableCard;
      for (const s of SLOT_NAMES) slots.insert(s, placed[s].sim.os);
    },
    async reissue(card) {
      return pool.reissue(card as FaultableCard);
    },
    terminal: () => terminal,
    async run(operation: Operation, fault: ArmedFault): Promise<OperationRun> {
      injector.arm(fault);
      if (fault.kind.startsWith('timeout')) {
        const when = injector.timeoutAt();
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
      const done = injector.disarm();
      if (killed) {
        await terminal.close().catch(() => undefined); // nothing reaches log or card: still dead
        dead = false;
        await startTerminal();
      } else {
        await heal();
      }
      return { outcome, ...(killed ? {} : thrown !== undefined ? { thrown } : {}), killed, trace: done };
    },
    transferKey: (id) => issuer.transferKeys[String(id)],
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
