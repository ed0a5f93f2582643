// The campaign world on the real PC/SC stack: a private pcscd (test/support/pcscd-harness.ts) with
// two vpcd readers, the cards served by this process through VpcdConnector (behind a TCP tap that
// can swallow an APDU or its answer), and the terminal's real services talking PC/SC through
// libpcsclite. On top of the memory world's faults: pcscd restarted while an APDU is in flight,
// and the terminal PROCESS SIGKILLed after its w-th journal write: that operation runs in the
// terminal CLI as a child process (STLM_FAULT_KILL_AFTER_APPEND=w), then the services start again
// here on the same log. Presence changes take pcscd a poll (~400 ms), so every fault that powers a
// card off costs about a second: this world is for realism; the memory world for volume.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { VpcdConnector } from '../../card-sim/transport/vpcd-connector.js';
import { loadConfig, type TerminalConfig } from '../../electron/services/config.js';
import { SLOT_NAMES, type SlotName } from '../../electron/services/slots/reader-slots.js';
import { startTerminalServices, type TerminalServices } from '../../electron/services/terminal-services.js';
import { runCli, VpcdTap } from '../support/pcsc-terminal-fixture.js';
import { startPcscd } from '../support/pcscd-harness.js';
import type { ArmedFault, CampaignWorld, OperationRun } from './campaign-world.js';
import { FAULT_KINDS } from './case-plan.js';
import { FaultInjector } from './fault-injector.js';
import { cliArguments, type Operation, runOperation } from './operations.js';
import { SeededRandom } from './seeded-random.js';
import { CardPool, createItem, type FaultableCard, WORLD_CURRENCY, WORLD_PIN } from './world-cards.js';
import { createWorldIssuer } from './world-issuer.js';

const FAULTS = FAULT_KINDS;
const PRESENCE_TIMEOUT_MS = 20_000;

export interface PcscdWorldOptions {
  seed: number;
  cards?: number;
  balance?: number;
  /** The terminal's waiting time per card answer; default 1500 ms (the cards share this process's CPU). */
  waitingTimeMs?: number;
}

export async function startPcscdWorld(o: PcscdWorldOptions): Promise<CampaignWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'campaign-pcscd-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const r = new SeededRandom(o.seed ^ 0x5eed);
    const harness = await startPcscd({ readers: 2, logLevel: 'error' });
    cleanups.push(() => harness.stop());
    const names = await harness.readerNames();
    const readers: Record<SlotName, string> = { payer: names[0]!, payee: names[1]! };
    const taps: Record<SlotName, VpcdTap> = {
      payer: new VpcdTap(harness.ports[0]!),
      payee: new VpcdTap(harness.ports[1]!),
    };
    for (const tap of Object.values(taps)) {
      await tap.listen();
      cleanups.push(() => tap.close());
    }

    const { issuer, caPath, crlPath } = createWorldIssuer(dir);
    const configPath = join(dir, 'terminal.json');
    const config: Partial<TerminalConfig> = {
      dataDir: join(dir, 'data'),
      currency: WORLD_CURRENCY,
      currencyCode: 'EUR',
      minorUnits: 2,
      caCertificate: caPath,
      builtinCrl: crlPath,
      waitingTimeMs: o.waitingTimeMs ?? 1500,
      slots: { backend: 'pcsc', readers },
    };
    writeFileSync(configPath, JSON.stringify(config, null, 2));

    let restarting: Promise<void> | undefined;
    const injector = new FaultInjector({
      // A muted card is pulled by its VpcdConnector itself.
      restartReaders: () => {
        restarting = harness.restart();
      },
    });
    const pool = new CardPool(issuer, r, injector);
    for (let i = 0; i < (o.cards ?? 3); i++) pool.issue(o.balance ?? 100_000);
    const placed: Record<SlotName, FaultableCard> = { payer: pool.cards[0]!, payee: pool.cards[1]! };

    // --- readers ---
    const connectors: Partial<Record<SlotName, VpcdConnector>> = {};
    let services: TerminalServices | undefined;
    cleanups.push(async () => {
      await services?.close();
      for (const s of SLOT_NAMES) await connectors[s]?.close();
    });
    const waitPresence = async (slot: SlotName, present: boolean, timeoutMs = PRESENCE_TIMEOUT_MS) => {
      const deadline = Date.now() + timeoutMs;
      while (services?.slots.status().find((s) => s.slot === slot)?.cardPresent !== present) {
        if (Date.now() > deadline) return false;
        await sleep(20);
      }
      return true;
    };
    const mustSee = async (slot: SlotName, present: boolean) => {
      if (!(await waitPresence(slot, present)))
        throw new Error(`the ${slot} reader never showed its card ${present ? 'in' : 'out'}`);
    };
    /**
     * Power-cycles both readers with the placed cards: pcscd must see each card go before it comes
     * back. A card pcscd has not reported within a few polls is taken out and put in again (a
     * connection can land while vpcd still holds the previous one).
     */
    const reseat = async () => {
      for (const s of SLOT_NAMES) {
        await connectors[s]?.close();
        connectors[s] = undefined;
      }
      for (const s of SLOT_NAMES) await mustSee(s, false);
      for (const s of SLOT_NAMES) {
        for (let attempt = 1; ; attempt++) {
          const connector = new VpcdConnector({ port: taps[s].port, card: placed[s].sim.os });
          connectors[s] = connector;
          await connector.insert();
          if (await waitPresence(s, true, 4_000)) break;
          if (attempt === 4) await mustSee(s, true);
          await connector.close();
          await waitPresence(s, false, 4_000);
        }
      }
    };
    const startServices = async () => {
      services = await startTerminalServices(loadConfig(configPath));
      const journal = services.journal;
      const append = journal.append.bind(journal);
      journal.append = (entry) => {
        const record = append(entry);
        injector.journalWritten(); // counted only: the kill happens in the CLI's own process
        return record;
      };
      for (const s of SLOT_NAMES) await mustSee(s, connectors[s] !== undefined);
      await services.recovery.run('start-up');
    };
    await startServices();
    await reseat();

    const runInProcess = async (operation: Operation, fault: ArmedFault) => {
      if (fault.kind.startsWith('timeout')) {
        const match = injector.timeoutAt();
        for (const s of SLOT_NAMES) {
          taps[s].armed = {
            ins: -1,
            fault: fault.kind === 'timeout-before' ? 'stall-before' : 'stall-after',
            fired: false,
            match,
          };
        }
      }
      let outcome: unknown;
      let thrown: unknown;
      try {
        outcome = await runOperation(services!, operation, WORLD_PIN);
      } catch (e) {
        thrown = e;
      }
      return { outcome, thrown };
    };

    /** The operation in the terminal CLI, a process of its own, SIGKILLed after journal write `at`. */
    const runKilled = async (operation: Operation, fault: ArmedFault) => {
      const head = () => services!.journal.page({ limit: 1 }).records[0]?.seq ?? 0;
      const before = head();
      await services!.close();
      services = undefined;
      const run = await runCli(
        'terminal',
        [...cliArguments(operation, WORLD_PIN, 2), '--config', configPath],
        {
          env: { PCSCLITE_CSOCK_NAME: harness.socketPath, STLM_FAULT_KILL_AFTER_APPEND: String(fault.at) },
          timeoutMs: 60_000,
        },
      );
      const killed = run.signal === 'SIGKILL';
      await startServices();
      injector.trace.journalWrites = head() - before;
      injector.trace.fired = killed;
      let outcome: unknown;
      try {
        outcome = killed ? undefined : JSON.parse(run.stdout);
      } catch {
        outcome = { status: 'cli-failed', error: { code: `exit-${run.code}` } };
      }
      return { outcome, killed };
    };

    return {
      tier: 'pcscd',
      faults: FAULTS,
      pin: WORLD_PIN,
      cards: () => [...pool.cards],
      active: () => pool.active(),
      placed: () => ({ ...placed }),
      async place(payer, payee) {
        placed.payer = payer as FaultableCard;
        placed.payee = payee as FaultableCard;
        await reseat();
      },
      async reissue(card) {
        return pool.reissue(card as FaultableCard);
      },
      terminal: () => services!,
      async run(operation, fault): Promise<OperationRun> {
        injector.arm(fault);
        let result: { outcome: unknown; thrown?: unknown; killed?: boolean };
        try {
          result =
            fault.kind === 'terminal-kill'
              ? await runKilled(operation, fault)
              : await runInProcess(operation, fault);
        } finally {
          for (const s of SLOT_NAMES) taps[s].armed = undefined;
        }
        const done = injector.disarm();
        if (restarting) {
          await restarting;
          restarting = undefined;
        }
        if (done.fired && fault.kind !== 'terminal-kill') await reseat();
        return {
          outcome: result.outcome,
          thrown: result.thrown,
          killed: result.killed ?? false,
          trace: done,
        };
      },
      transferKey: (id) => issuer.transferKeys[String(id)],
      async issueItem(slot, label) {
        return services!.engine.withCards(async (access) => {
          const s = await access.session(slot);
          return createItem(issuer, s.client, s.info.holderId, access.now(), label);
        });
      },
      close: cleanUp,
    };
  } catch (e) {
    await cleanUp();
    throw e;
  }
}
