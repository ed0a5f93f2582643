// The wrong-PIN count kept in the terminal's database, as an adversary at the counter would test it:
// restart the terminal after four guesses, restart it during a lockout, kill it while a PIN is being
// checked, move the clock back, write a wrong row by hand.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, type TerminalDatabase } from '../../../db/connection.js';
import { PinAttemptStore } from '../../../db/pin-attempt-store.js';
import { terminalConfigSchema } from '../../../electron/services/config.js';
import type { OperatorEntry } from '../../../electron/services/operators/operator-config.js';
import { createOperatorDesk } from '../../../electron/services/operators/operator-desk.js';
import { checkPin, hashPin } from '../../../electron/services/operators/pin-hash.js';
import { createSimulatedSlots } from '../../../electron/services/slots/simulated-slots.js';
import { startTerminalServices } from '../../../electron/services/terminal-services.js';
import { createWorldIssuer } from '../../campaign/world-issuer.js';
import { rawOpen, useTempDir } from '../../db/helpers.js';

const CHEAP = { logN: 10, r: 8, p: 1 };
const OPERATORS: OperatorEntry[] = [
  { id: 'ana', name: 'Ana', role: 'cashier', pinHash: hashPin('1357', 'pin', CHEAP) },
  { id: 'sue', name: 'Sue', role: 'supervisor', pinHash: hashPin('97531', 'pin', CHEAP) },
];

const tmp = useTempDir();

/** One run of the terminal: its database opened afresh, a desk on it. */
function run(clock: { t: number }, check?: (pin: string) => Promise<boolean>) {
  const db = tmp.track(openDatabase(tmp.path()));
  const checked: string[] = [];
  const desk = createOperatorDesk({
    operators: OPERATORS,
    now: () => clock.t,
    check: async (pin, stored) => {
      checked.push(pin);
      return check ? check(pin) : checkPin(pin, stored);
    },
    attemptStore: new PinAttemptStore(db).counter('operator'),
  });
  return { db, desk, checked };
}

async function refusal(p: Promise<unknown>) {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as { code: string; details: Record<string, unknown> },
  );
}

const row = (db: TerminalDatabase) => db.handle.prepare('SELECT * FROM pin_attempts').all();

describe('the wrong-PIN count on disk', () => {
  it('keeps the guesses counted across a restart: the fifth after it locks', async () => {
    const clock = { t: 5_000_000 };
    const first = run(clock);
    for (let i = 0; i < 4; i++) await refusal(first.desk.signIn('ana', '0000'));
    first.db.close();
    const second = run(clock);
    expect(await refusal(second.desk.signIn('sue', '0000'))).toMatchObject({
      code: 'E_PIN_WRONG',
      details: { triesLeft: 0 },
    });
    expect(await refusal(second.desk.signIn('ana', '1357'))).toMatchObject({ code: 'E_PIN_BLOCKED' });
    expect(second.checked).toEqual(['0000']);
  });

  it('keeps a lockout across a restart, for what is left of its minute', async () => {
    const clock = { t: 5_000_000 };
    const first = run(clock);
    for (let i = 0; i < 5; i++) await refusal(first.desk.signIn('ana', '0000'));
    first.db.close();
    clock.t += 20_000;
    const second = run(clock);
    expect(await refusal(second.desk.signIn('ana', '1357'))).toMatchObject({
      code: 'E_PIN_BLOCKED',
      details: { retryAfterSeconds: 40 },
    });
    expect(second.checked).toEqual([]);
    clock.t += 40_000;
    await second.desk.signIn('ana', '1357');
    expect(row(second.db)).toEqual([{ counter: 'operator', wrong: 0, locked_until: 0 }]);
  });

  it('counts a try before its PIN is checked: killing the terminal while checking spends it', async () => {
    const clock = { t: 5_000_000 };
    const hang = () => new Promise<boolean>(() => {});
    // Five runs, each killed while its one guess is being checked (the promise never settles).
    for (let i = 0; i < 5; i++) {
      const killed = run(clock, hang);
      void killed.desk.signIn('ana', `000${i}`);
      await Promise.resolve();
      expect(row(killed.db)).toEqual([{ counter: 'operator', wrong: i + 1, locked_until: 0 }]);
      killed.db.close();
    }
    const next = run(clock);
    expect(await refusal(next.desk.signIn('ana', '1357'))).toMatchObject({
      code: 'E_PIN_BLOCKED',
      details: { retryAfterSeconds: 60 },
    });
    expect(next.checked).toEqual([]);
  });

  it('never locks for longer than a minute from now, whatever the clock did', async () => {
    const clock = { t: 5_000_000 };
    const first = run(clock);
    for (let i = 0; i < 5; i++) await refusal(first.desk.signIn('ana', '0000'));
    clock.t -= 3_600_000; // the clock set back an hour
    expect(await refusal(first.desk.signIn('ana', '1357'))).toMatchObject({
      code: 'E_PIN_BLOCKED',
      details: { retryAfterSeconds: 60 },
    });
    clock.t += 60_000;
    await first.desk.signIn('ana', '1357');
  });

  it('clears the count on a right PIN, on disk too', async () => {
    const clock = { t: 5_000_000 };
    const first = run(clock);
    for (let i = 0; i < 3; i++) await refusal(first.desk.signIn('ana', '0000'));
    await first.desk.signIn('ana', '1357');
    first.db.close();
    const second = run(clock);
    expect(await refusal(second.desk.signIn('ana', '0000'))).toMatchObject({ details: { triesLeft: 4 } });
  });

  it('refuses a row no terminal writes, and leaves the one it has', async () => {
    const clock = { t: 5_000_000 };
    const { db, desk } = run(clock);
    await refusal(desk.signIn('ana', '0000'));
    db.close();
    const raw = rawOpen(tmp.path());
    try {
      for (const sql of [
        "UPDATE pin_attempts SET wrong = -1 WHERE counter = 'operator'",
        "UPDATE pin_attempts SET locked_until = -5 WHERE counter = 'operator'",
        "INSERT INTO pin_attempts (counter, wrong, locked_until) VALUES ('', 0, 0)",
        "INSERT INTO pin_attempts (counter, wrong, locked_until) VALUES ('x', 'many', 0)",
      ])
        expect(() => raw.exec(sql)).toThrow(/constraint|cannot store/i);
      expect(raw.prepare('SELECT * FROM pin_attempts').all()).toEqual([
        { counter: 'operator', wrong: 1, locked_until: 0 },
      ]);
    } finally {
      raw.close();
    }
  });
});

describe('the terminal services', () => {
  it('keep the operator lockout in the terminal database across a restart', async () => {
    const dir = tmp.path('shop');
    mkdirSync(dir);
    const { caPath, crlPath } = createWorldIssuer(dir);
    const config = terminalConfigSchema.parse({
      dataDir: join(dir, 'data'),
      currency: 978,
      caCertificate: caPath,
      builtinCrl: crlPath,
      slots: { backend: 'simulated', cards: { payer: 'unused', payee: 'unused' } },
      operators: OPERATORS,
    });
    const start = () =>
      startTerminalServices(config, { slots: createSimulatedSlots({ waitingTimeMs: 500 }) });
    const first = await start();
    try {
      for (let i = 0; i < 5; i++) await refusal(first.desk!.signIn('ana', '0000'));
    } finally {
      await first.close();
    }
    const second = await start();
    try {
      expect(await refusal(second.desk!.signIn('ana', '1357'))).toMatchObject({ code: 'E_PIN_BLOCKED' });
      expect(second.desk!.state()).toEqual({ state: 'signed-out' });
    } finally {
      await second.close();
    }
  });
});
