// The kiosk lock: the right PIN leaves (once), wrong PINs count down to a one-minute lockout that
// refuses even the right PIN, and checks run one at a time.
import { describe, expect, it, vi } from 'vitest';
import type { PinCount, PinCountStore } from '../../db/pin-attempt-store.js';
import { hashExitPin, parseExitPinHash } from '../../electron/shell/kiosk-exit-pin.js';
import { createKioskLock } from '../../electron/shell/kiosk-lock.js';

const exitPin = parseExitPinHash(hashExitPin('482913', { logN: 10, r: 8, p: 1 }));

function lock() {
  let t = 1_000_000;
  const onExit = vi.fn();
  const control = createKioskLock({ exitPin, onExit, now: () => t });
  return { control, onExit, advance: (ms: number) => (t += ms) };
}

async function refusal(p: Promise<unknown>) {
  return p.then(
    () => undefined,
    (e: unknown) => e as { code: string; details: Record<string, unknown> },
  );
}

describe('the kiosk lock', () => {
  it('leaves with the right PIN, once, and is then no longer active', async () => {
    const { control, onExit } = lock();
    expect(control.active()).toBe(true);
    await control.exit('482913');
    expect(onExit).toHaveBeenCalledTimes(1);
    expect(control.active()).toBe(false);
    await control.exit('482913');
    expect(onExit).toHaveBeenCalledTimes(1);
  });

  it('refuses a wrong PIN with the tries left, and stays locked', async () => {
    const { control, onExit } = lock();
    expect(await refusal(control.exit('000000'))).toMatchObject({
      code: 'E_PIN_WRONG',
      details: { triesLeft: 4 },
    });
    expect(await refusal(control.exit('48291'))).toMatchObject({
      code: 'E_PIN_WRONG',
      details: { triesLeft: 3 },
    });
    expect(onExit).not.toHaveBeenCalled();
    expect(control.active()).toBe(true);
  });

  it('after five wrong PINs refuses every PIN for a minute, then counts again', async () => {
    const { control, onExit, advance } = lock();
    for (let i = 0; i < 5; i++) await refusal(control.exit('111111'));
    expect(await refusal(control.exit('482913'))).toMatchObject({
      code: 'E_PIN_BLOCKED',
      details: { retryAfterSeconds: 60 },
    });
    advance(59_000);
    expect(await refusal(control.exit('482913'))).toMatchObject({
      code: 'E_PIN_BLOCKED',
      details: { retryAfterSeconds: 1 },
    });
    expect(onExit).not.toHaveBeenCalled();
    advance(1_000);
    expect(await refusal(control.exit('222222'))).toMatchObject({
      code: 'E_PIN_WRONG',
      details: { triesLeft: 4 },
    });
    await control.exit('482913');
    expect(onExit).toHaveBeenCalledTimes(1);
  });

  it('checks one PIN at a time: a second one while the first is checked is refused as busy', async () => {
    let release: (right: boolean) => void = () => undefined;
    const onExit = vi.fn();
    const control = createKioskLock({
      exitPin,
      onExit,
      check: () => new Promise<boolean>((resolve) => (release = resolve)),
    });
    const first = refusal(control.exit('111111'));
    expect(await refusal(control.exit('222222'))).toMatchObject({ code: 'E_BUSY' });
    release(false);
    expect(await first).toMatchObject({ code: 'E_PIN_WRONG', details: { triesLeft: 4 } });
    expect(onExit).not.toHaveBeenCalled();
  });

  it('keeps its count in the store it is given: a restarted kiosk is still locked out', async () => {
    const saved: PinCount[] = [];
    const store: PinCountStore = {
      load: () => saved.at(-1) ?? { wrong: 0, lockedUntil: 0 },
      save: (c) => void saved.push(c),
    };
    const t = 1_000_000;
    const before = createKioskLock({ exitPin, onExit: vi.fn(), now: () => t, store });
    for (let i = 0; i < 5; i++) await refusal(before.exit('000000'));
    const onExit = vi.fn();
    const after = createKioskLock({ exitPin, onExit, now: () => t + 1_000, store });
    expect(await refusal(after.exit('482913'))).toMatchObject({
      code: 'E_PIN_BLOCKED',
      details: { retryAfterSeconds: 59 },
    });
    expect(onExit).not.toHaveBeenCalled();
    expect(after.active()).toBe(true);
  });
});
