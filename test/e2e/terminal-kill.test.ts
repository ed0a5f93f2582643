// The terminal PROCESS killed between any two journal writes of a sale (a key update, then the value
// transfer) while it talks to two cards over a real pcscd. The cards are served by this test
// process through vpcd; the terminal is the CLI in a child process:
//   node --import tsx electron/cli/main.ts transfer --minor 100 --config terminal.json --json
// with STLM_FAULT_KILL_AFTER_APPEND=N, which SIGKILLs it right after its N-th journal write. Then the
// terminal starts again here and recovers: first with only the payer card present (value in flight
// is exactly what is in doubt), then with both (everything settled, each value moved at most once).
// Last, a sale killed after its debit is finished by the CLI's own `recover` command.
// One pcscd and one pair of cards serve every kill point: the card files are reset between cases.
// No timing assertions; every wait is bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import {
  type CliResult,
  type PcscTerminal,
  runCli,
  startPcscTerminal,
  unsettledRecords,
} from '../support/pcsc-terminal-fixture.js';

const AMOUNT = 100;
const BALANCES = { payer: 10_000, payee: 5_000 };
const SUM = BALANCES.payer + BALANCES.payee;

/**
 * The journal writes of this sale (docs/journal.md): the payer card holds transfer key 1, the payee
 * key 2, both update key 1, so the payer is first brought to key 2 by the common-key route.
 */
const WRITES = [
  'key-update planned',
  'key-update completed',
  'value-transfer started',
  'value-transfer credit-initiated',
  'value-transfer debited',
  'value-transfer credited',
  'value-transfer completed',
] as const;
const KEY_UPDATE_DONE = WRITES.indexOf('key-update completed') + 1;
/** From this write on the payer has debited (DEBIT's answer is what 'debited' journals). */
const DEBITED = WRITES.indexOf('value-transfer debited') + 1;
/** From this write on the payee's credit is journaled. */
const CREDITED = WRITES.indexOf('value-transfer credited') + 1;

let t: PcscTerminal;
let initial: Record<SlotName, SettlementState>;
let killCase = 0;

beforeAll(async () => {
  t = await startPcscTerminal({
    payer: { balance: BALANCES.payer, transferKeyId: 1, updateKeyId: 1 },
    payee: { balance: BALANCES.payee, transferKeyId: 2, updateKeyId: 1 },
  });
  initial = { payer: t.state('payer'), payee: t.state('payee') };
});

afterAll(async () => {
  await t?.stop();
});

/** The terminal CLI in a child process on the fixture's terminal.json and pcscd. */
function terminal(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli('terminal', [...args, '--config', t.configPath], {
    env: { PCSCLITE_CSOCK_NAME: t.harness.socketPath, STLM_FAULT_KILL_AFTER_APPEND: '', ...env },
  });
}

/** A fresh transaction log, and both cards back to their personalized state (same cards, same IDs). */
function freshCase(name: string) {
  t.writeConfig({ dataDir: name });
  t.restoreCards(initial);
}

describe('terminal process killed between journal writes', () => {
  it('counts the journal writes of the sale with a run that is not killed (log --json)', async () => {
    freshCase('count');
    const sale = await terminal(['transfer', '--minor', String(AMOUNT), '--json']);
    expect(sale.code, sale.stderr).toBe(0);
    expect(JSON.parse(sale.stdout)).toMatchObject({
      status: 'completed',
      amount: AMOUNT,
      keyUpdates: [{ receiver: 'payer', route: 'common-key' }],
    });
    const log = await terminal(['log', '--json', '--limit', '1000']);
    expect(log.code, log.stderr).toBe(0);
    const records = (JSON.parse(log.stdout) as { records: { flowKind: string; step: string }[] }).records;
    expect(records.map((r) => `${r.flowKind} ${r.step}`).reverse()).toEqual(WRITES);
    expect(t.balances()).toEqual({ payer: BALANCES.payer - AMOUNT, payee: BALANCES.payee + AMOUNT });
  });

  it.each(WRITES.map((w, i) => [i + 1, w] as const))(
    'killed right after write %i (%s): recovery moves the value at most once',
    async (n) => {
      freshCase(`kill-${++killCase}`);
      expect(t.balances()).toEqual(BALANCES);

      const run = await terminal(['transfer', '--minor', String(AMOUNT), '--json'], {
        STLM_FAULT_KILL_AFTER_APPEND: String(n),
      });
      expect(run.signal, `exit ${run.code}: ${run.stderr}`).toBe('SIGKILL');
      expect(run.stdout).toBe('');

      // The terminal comes back with only the payer card in its reader.
      await t.remove('payee');
      const services = await t.startServices();
      const { engine, journal } = services;
      expect(journal.verify()).toMatchObject({ ok: true, count: n });
      const inDoubt = () => engine.inDoubt().reduce((sum, i) => sum + i.amount, 0);
      const killed = t.balances();
      expect(killed.payer + killed.payee).toBeLessThanOrEqual(SUM);
      expect(killed.payer + killed.payee + inDoubt()).toBeGreaterThanOrEqual(SUM);
      // A key update moves no value; the receiver holds the old keys or the new ones.
      expect(t.state('payer').transferKeyId).toBe(n >= KEY_UPDATE_DONE ? 2 : 1);

      await engine.recover();
      // With the payer's record read, what may be in flight is exactly what is in doubt.
      const half = t.balances();
      expect(half.payer + half.payee + inDoubt()).toBe(SUM);
      expect(half).toEqual({
        payer: BALANCES.payer - (n >= DEBITED ? AMOUNT : 0),
        payee: BALANCES.payee + (n >= CREDITED ? AMOUNT : 0),
      });
      const inFlight = n >= DEBITED && n < CREDITED;
      expect(inDoubt()).toBe(inFlight ? AMOUNT : 0);
      // The payer's debit stays unsettled only while its credit is in doubt.
      expect(unsettledRecords(t.state('payer'))).toBe(inFlight ? 1 : 0);

      // The payee card is presented again: everything settles.
      await t.insert('payee');
      await engine.recover();
      const after = t.balances();
      expect(after.payer + after.payee).toBe(SUM);
      expect(after).toEqual(
        n >= DEBITED ? { payer: BALANCES.payer - AMOUNT, payee: BALANCES.payee + AMOUNT } : BALANCES,
      );
      expect(engine.openTransfers()).toEqual([]);
      expect(engine.inDoubt()).toEqual([]);
      for (const slot of ['payer', 'payee'] as const) expect(unsettledRecords(t.state(slot))).toBe(0);
      expect(journal.verify()).toMatchObject({ ok: true });
      await t.stopServices();
    },
  );

  it('the CLI `recover` finishes a sale killed after its debit; then the terminal sells again', async () => {
    freshCase('cli-recover');
    const killed = await terminal(['transfer', '--minor', String(AMOUNT), '--json'], {
      STLM_FAULT_KILL_AFTER_APPEND: String(DEBITED),
    });
    expect(killed.signal, `exit ${killed.code}: ${killed.stderr}`).toBe('SIGKILL');
    expect(t.balances()).toEqual({ payer: BALANCES.payer - AMOUNT, payee: BALANCES.payee });
    expect(JSON.parse((await terminal(['in-doubt', '--json'])).stdout)).toMatchObject({
      transfers: [{ amount: AMOUNT }],
      deliveries: [],
      contents: [],
    });

    const recovered = await terminal(['recover', '--json']);
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(JSON.parse(recovered.stdout)).toMatchObject({
      transfers: [{ outcome: 'completed', amount: AMOUNT }],
      open: { transfers: [], deliveries: [], contents: [] },
    });
    expect(t.balances()).toEqual({ payer: BALANCES.payer - AMOUNT, payee: BALANCES.payee + AMOUNT });
    expect(JSON.parse((await terminal(['in-doubt', '--json'])).stdout)).toEqual({
      transfers: [],
      deliveries: [],
      contents: [],
    });
    expect((await terminal(['verify-log', '--json'])).code).toBe(0);

    const sale = await terminal(['transfer', '--minor', String(AMOUNT), '--json']);
    expect(sale.code, sale.stderr).toBe(0);
    expect(JSON.parse(sale.stdout)).toMatchObject({ status: 'completed', keyUpdates: [] });
    expect(t.balances()).toEqual({ payer: BALANCES.payer - 2 * AMOUNT, payee: BALANCES.payee + 2 * AMOUNT });
    for (const slot of ['payer', 'payee'] as const) expect(unsettledRecords(t.state(slot))).toBe(0);
  }, 90_000);
});
