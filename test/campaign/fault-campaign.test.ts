// The quick fault campaign of `npm test` (the long one is `npm run soak`): hundreds of seeded cases
// in the memory world, then a campaign on the real PC/SC stack (pcscd + vpcd) in a network
// namespace of its own, through the soak command itself. Every case must keep the invariants of
// case-invariants.ts; the checker itself is shown to catch each kind of broken world.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignWorld } from './campaign-world.js';
import { checkInvariants } from './case-invariants.js';
import { FAULT_KINDS } from './case-plan.js';
import { type CampaignReport, runCampaign } from './fault-campaign.js';
import { startMemoryWorld } from './memory-world.js';
import { snapshotWorld, type WorldSnapshot } from './world-snapshot.js';

const SOAK = join(import.meta.dirname, 'soak.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, SOAK, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), 170_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('quick fault campaign, memory world', () => {
  let world: CampaignWorld;
  let report: CampaignReport;
  beforeAll(async () => {
    world = await startMemoryWorld({ seed: 20261121 });
    // Faults only: the hostile terminal's share of the mix has its own quick run (adversary-campaign.test.ts).
    report = await runCampaign(world, { seed: 20261121, cases: 300, verifyEvery: 10, adversary: 0 });
  }, 240_000);
  afterAll(async () => {
    await world?.close();
  });

  it('runs 300 cases with no violation', () => {
    expect(report.violations).toEqual([]);
    expect(report.cases).toBe(300);
  });

  it('injected every fault kind of the memory world, and they fired', () => {
    for (const kind of world.faults.filter((f) => f !== 'none')) {
      expect(report.faults[kind]?.fired ?? 0, kind).toBeGreaterThan(2);
    }
  });

  it('ran every operation to completion, to refusal and to interruption', () => {
    expect(Object.keys(report.operations).sort()).toEqual(
      ['content-exchange', 'content-send', 'key-update', 'transfer'].sort(),
    );
    const outcomes = Object.keys(report.outcomes);
    expect(outcomes).toContain('completed');
    expect(outcomes).toContain('killed');
    expect(outcomes.some((o) => o.startsWith('interrupted:'))).toBe(true);
    expect(outcomes.some((o) => o.startsWith('refused:'))).toBe(true);
    expect(report.outcomes.completed).toBeGreaterThan(50);
  });

  it('the invariant checker catches created value, a half-done transfer, a duplicated item and an open flow', async () => {
    const before = snapshotWorld(world.cards());
    const placed = world.placed();
    const input = (after: WorldSnapshot) => ({
      before,
      after,
      placed: { payer: placed.payer.holderId, payee: placed.payee.holderId },
      operation: { kind: 'transfer' as const, amount: 10 },
      expectedTotal: report.totalValue,
      items: new Set(before.cards.flatMap((c) => c.items)),
      reported: 'completed' as const,
      faultFired: false,
      terminal: world.terminal(),
      verifyChain: 'full' as const,
    });
    const edit = (f: (s: WorldSnapshot) => void) => {
      const s = structuredClone(before);
      f(s);
      return s;
    };
    const card = (s: WorldSnapshot, id: string) => s.cards.find((c) => c.holderId === id)!;
    // Nothing happened although the transfer reported completed.
    expect(checkInvariants(input(before)).join()).toMatch(/reported completed but the cards show before/);
    // Value created: the payee got 10, the payer paid nothing.
    const created = edit((s) => {
      card(s, placed.payee.holderId).balance += 10;
    });
    expect(checkInvariants(input(created)).join()).toMatch(/value: balances/);
    // Applied twice.
    const twice = edit((s) => {
      card(s, placed.payer.holderId).balance -= 20;
      card(s, placed.payee.holderId).balance += 20;
    });
    expect(checkInvariants(input(twice)).join()).toMatch(/neither entirely done nor undone/);
    // An item on two cards.
    const anyItem = before.cards.flatMap((c) => c.items)[0]!;
    const duplicated = edit((s) => {
      for (const c of s.cards) if (!c.items.includes(anyItem)) c.items.push(anyItem);
    });
    expect(checkInvariants(input(duplicated)).join()).toMatch(/is on \d+ cards/);
    // A card left with an open record; key IDs going back.
    const open = edit((s) => {
      s.cards[0]!.unsettled = 1;
      s.cards[0]!.transferKeyId -= 1;
    });
    expect(checkInvariants(input(open)).join()).toMatch(/unsettled records[\s\S]*key IDs went back/);
  });
});

describe('quick fault campaign on pcscd + vpcd (the soak command, pcscd tier)', () => {
  it('keeps every invariant under tearing, pulls, timeouts, pcscd restarts and SIGKILLed terminals', async () => {
    const run = await soak(['--tier', 'pcscd', '--cases', '36', '--seed', '7', '--json', '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as CampaignReport;
    expect(report.violations).toEqual([]);
    expect(report.cases).toBe(36);
    for (const kind of FAULT_KINDS.filter((f) => f !== 'none')) {
      expect(report.faults[kind]?.fired ?? 0, kind).toBeGreaterThan(0);
    }
    expect(report.outcomes.completed).toBeGreaterThan(0);
  }, 180_000);
});

describe('soak command input', () => {
  it('refuses bad arguments with a clear message and exit code 2', async () => {
    for (const args of [
      ['--cases', 'abc', '--seed', '1'],
      ['--seed', '1'],
      ['--cases', '5', '--seed', '1', '--tier', 'moon'],
    ]) {
      const run = await soak(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--(cases|tier) /);
      expect(run.stderr).toMatch(/usage: npm run soak/);
    }
  }, 60_000);

  it('runs the fuzzer cores it is asked for, and refuses unknown ones', async () => {
    const run = await soak(['--fuzz', 'ipc,der', '--fuzz-runs', '25', '--seed', '5', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { fuzz: { fuzzer: string; cases: number; failures: unknown[] }[] };
    expect(out.fuzz.map((f) => [f.fuzzer, f.cases, f.failures.length])).toEqual([
      ['ipc', 25, 0],
      ['der', 25, 0],
    ]);
    for (const args of [
      ['--fuzz', 'bogus', '--seed', '1'],
      ['--fuzz', 'ipc,der', '--fuzz-path', '1:0', '--seed', '1'],
    ]) {
      const bad = await soak(args);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--fuzz/);
    }
  }, 120_000);

  it('runs a deliberately broken card in the hostile terminal’s visits and fails, naming the replay', async () => {
    const run = await soak([
      ...['--cases', '40', '--seed', '4', '--adversary', '1'],
      ...['--broken', 'releases-credited'],
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/violations: 1/);
    expect(run.stdout).toMatch(/the payee issued ACK and RP/);
    expect(run.stdout).toMatch(
      /replay: npm run soak -- --tier memory --seed 4 --cases \d+ --adversary 1 --broken releases-credited$/m,
    );
    const bad = await soak(['--cases', '5', '--seed', '1', '--broken', 'bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--broken names one of/);
    const share = await soak(['--cases', '5', '--seed', '1', '--adversary', '2']);
    expect(share.code).toBe(2);
    expect(share.stderr).toMatch(/--adversary is a share/);
  }, 120_000);
});
