// The fleet tier of the soak command, a quick run (npm run soak -- --tier fleet): three terminal
// processes with simulated cards, two host instances, one PostgreSQL, six rounds with a fixed seed, so
// that every fault kind strikes once (fleet-soak.ts draws the first six in a seeded order). With this
// seed the killed terminal's cards go to two other terminals one after the other: the payee's credit
// is released at one, and the release proof reaches the payer card. Value moves by transfers,
// exchanges (tickets bought) and e-money sends.
import { describe, expect, it } from 'vitest';
import { FLEET_FAULTS, formatFleetReport, runFleetSoak } from './fleet-soak.js';

describe('the fleet tier of the soak command, quick run', () => {
  it('holds every invariant through terminal processes killed, instances and PostgreSQL killed, a terminal offline, forged uploads', async () => {
    const report = await runFleetSoak({ seed: 4, rounds: FLEET_FAULTS.length });
    expect(report.violations, formatFleetReport(report)).toEqual([]);
    for (const fault of FLEET_FAULTS) expect(report.faults[fault], fault).toBe(1);
    // Each fault did what it is there for.
    const killed = ['transfer', 'exchange', 'e-money send']
      .map((name) => report.operations[`${name} killed`] ?? 0)
      .reduce((a, b) => a + b, 0);
    expect(killed, formatFleetReport(report)).toBe(1);
    expect(report.faults['replay: answered as duplicates, nothing booked']).toBe(1);
    expect(report.faults['edited: refused, alert raised, nothing booked']).toBe(1);
    expect(report.faults['terminal-offline: caught up']).toBe(1);
    expect(report.faults['terminal-offline: entries uploaded when back']).toBeGreaterThan(0);
    expect(report.recovery['foreign records adopted'], formatFleetReport(report)).toBeGreaterThan(0);
    // The released credit's proof reached its payer card. (With this seed the payer card comes back
    // to the releasing terminal first: the host's copy is then not needed, and the terminal services
    // no longer ask for it, the card holding no unsettled debit; host-release-fetch.test.ts shows the
    // delivery through the host.)
    expect(
      report.recovery['payer records refunded by a release proof'],
      formatFleetReport(report),
    ).toBeGreaterThan(0);
    expect(report.operations['transfer completed']).toBeGreaterThan(10);
    // E-money sent as content transfers, booked at the host: each card's ledger balance is its own.
    expect(report.operations['e-money send completed']).toBeGreaterThan(0);
    expect(report.entries).toBeGreaterThan(50);
  }, 600_000); // ~25 s of CPU in all its processes; the wall time is the machine's load
});
