// Quick runs of the IPC schema fuzzer in `npm test` (fake and real services); the soak command runs
// the same cores long.
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../../electron/ipc/contract.js';
import { createHandlers, dispatch } from '../../electron/ipc/handlers.js';
import { mutateRequest, runIpcFuzz, runIpcTerminalFuzz } from './ipc-fuzz.js';
import { spyServices } from './ipc-spy-services.js';

describe('every IPC channel under arbitrary and mutated requests', () => {
  it('answers a typed response or E_INPUT_INVALID, and runs no service on a refusal (fake services)', async () => {
    const report = await runIpcFuzz({ seed: 6_004, runs: 1_000 });
    expect(report.failures).toEqual([]);
    expect(report.cases).toBe(1_000);
    expect(report.stats.refused).toBeGreaterThan(100);
    // Every channel was also reached with a request it accepts.
    for (const channel of CHANNELS) {
      expect(
        Object.keys(report.stats).some((k) => k.startsWith(`${channel} `)),
        channel,
      ).toBe(true);
    }
  });

  it('leaves cards, journal and CRL untouched on a refusal and conserves value (real services)', async () => {
    const report = await runIpcTerminalFuzz({ seed: 6_005, runs: 100 });
    expect(report.failures).toEqual([]);
    expect(report.cases).toBe(100);
    expect(report.stats.refused).toBeGreaterThan(10);
  });

  it('refuses prototype keys as own properties, and never pollutes Object.prototype', async () => {
    const { services, calls } = spyServices();
    const handlers = createHandlers(services);
    const polluted = JSON.parse('{"amount": 100, "__proto__": {"polluted": true}}');
    expect(await dispatch(handlers, 'transfer:run', polluted)).toMatchObject({
      ok: false,
      error: { code: 'E_INPUT_INVALID' },
    });
    const withConstructor = mutateRequest(
      { slot: 'payer' },
      { op: 'add', key: 'constructor', value: { prototype: { x: 1 } } },
    );
    expect(await dispatch(handlers, 'cards:read', withConstructor)).toMatchObject({ ok: false });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(calls).toEqual([]);
  });
});
