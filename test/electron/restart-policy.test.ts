// A crashed renderer is restarted at most three times a minute; more often than that, the shell gives up.
import { describe, expect, it } from 'vitest';
import { createRestartPolicy } from '../../electron/shell/restart-policy.js';

describe('the restart policy', () => {
  it('allows three restarts within a minute, not a fourth', () => {
    let t = 0;
    const policy = createRestartPolicy({ now: () => t });
    expect([policy.allow(), policy.allow(), policy.allow(), policy.allow()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    t += 59_999;
    expect(policy.allow()).toBe(false);
  });

  it('allows again once the earlier restarts are more than the period ago', () => {
    let t = 0;
    const policy = createRestartPolicy({ now: () => t, maxRestarts: 2, periodMs: 1000 });
    expect(policy.allow()).toBe(true);
    t = 500;
    expect(policy.allow()).toBe(true);
    expect(policy.allow()).toBe(false);
    t = 1000;
    expect(policy.allow()).toBe(true);
    expect(policy.allow()).toBe(false);
    t = 1500;
    expect(policy.allow()).toBe(true);
  });
});
