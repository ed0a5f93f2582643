// The configuration's operators section: well-formed entries load; a malformed hash, a repeated ID, a
// name with control or text-direction characters, an unknown role are refused with the field named.
// The demo shop's operators check against the PINs the README gives.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../electron/services/config.js';
import { DEMO_OPERATOR_PINS, demoOperators } from '../../../electron/services/operators/demo-operators.js';
import { createOperatorDesk } from '../../../electron/services/operators/operator-desk.js';
import { hashPin } from '../../../electron/services/operators/pin-hash.js';
import { isTerminalError } from '../../../protocol/errors.js';

const CHEAP = { logN: 10, r: 8, p: 1 };
const dir = mkdtempSync(join(tmpdir(), 'operator-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = {
  dataDir: 'data',
  currency: 978,
  caCertificate: 'ca.pem',
  slots: { backend: 'simulated', cards: { payer: 'a.json', payee: 'b.json' } },
};
const ana = { id: 'ana', name: 'Ana', role: 'cashier', pinHash: hashPin('1357', 'pin', CHEAP) };

function load(extra: Record<string, unknown>) {
  const path = join(dir, `t-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ ...base, ...extra }));
  return loadConfig(path);
}

function refusalOf(extra: Record<string, unknown>): string {
  try {
    load(extra);
  } catch (e) {
    expect(isTerminalError(e, 'E_INPUT_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('the operators section of the terminal configuration', () => {
  it('is optional, and loads operators and the idle lock minutes when given', () => {
    const none = load({});
    expect(none.operators).toBeUndefined();
    const c = load({ operators: [ana], idleLockMinutes: 10 });
    expect(c.operators).toEqual([ana]);
    expect(c.idleLockMinutes).toBe(10);
  });

  it('refuses malformed entries, naming the field', () => {
    expect(refusalOf({ operators: [{ ...ana, pinHash: '1357' }] })).toMatch(/operators\.0\.pinHash .*scrypt/);
    expect(refusalOf({ operators: [ana, { ...ana, name: 'Ana 2' }] })).toMatch(/operators\.1\.id .*twice/);
    expect(refusalOf({ operators: [{ ...ana, role: 'owner' }] })).toMatch(/operators\.0\.role/);
    expect(refusalOf({ operators: [{ ...ana, id: 'a b' }] })).toMatch(/operators\.0\.id/);
    expect(refusalOf({ operators: [{ ...ana, name: 'Ana\u202eesrever' }] })).toMatch(/operators\.0\.name/);
    expect(refusalOf({ operators: [{ ...ana, name: '\u001b[2J' }] })).toMatch(/operators\.0\.name/);
    expect(refusalOf({ operators: [{ ...ana, name: '   ' }] })).toMatch(/operators\.0\.name/);
    expect(refusalOf({ operators: [ana], idleLockMinutes: 0 })).toMatch(/idleLockMinutes/);
  });
});

describe("the demo shop's operators", () => {
  it('are a cashier and a supervisor whose PINs are the documented ones', async () => {
    const operators = demoOperators(CHEAP);
    expect(operators.map((o) => [o.id, o.role])).toEqual([
      ['casey', 'cashier'],
      ['sam', 'supervisor'],
    ]);
    const desk = createOperatorDesk({ operators });
    expect((await desk.signIn('casey', DEMO_OPERATOR_PINS.cashier)).role).toBe('cashier');
    expect((await desk.signIn('sam', DEMO_OPERATOR_PINS.supervisor)).role).toBe('supervisor');
    await expect(desk.signIn('sam', DEMO_OPERATOR_PINS.cashier)).rejects.toMatchObject({
      code: 'E_PIN_WRONG',
    });
    expect(load({ operators }).operators).toEqual(operators);
  });
});
