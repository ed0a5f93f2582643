// The demo's issuer host records the demo cards' issuance (demo/demo-host.ts), so its ledger matches
// the demo cards: each card's ledger balance is the card's own, the issuer account is minus their sum,
// the ledger sums to zero; a second start finds them recorded and writes nothing.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadCardState } from '../../card-sim/card-files.js';
import { ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { seedDemoHost } from '../../demo/demo-host.js';
import { ISSUED_CARDS_FILE } from '../../demo/demo-host-files.js';
import { balances } from '../../issuer-host/db/ledger-records.js';
import { useHostDatabases } from './host-db-fixtures.js';
import { hostSnapshot } from './host-fixtures.js';

const dbs = useHostDatabases({ postgres: false });
const root = mkdtempSync(join(tmpdir(), 'demo-issuance-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('books every demo card’s issuance once, and the ledger then holds the cards’ own balances', async () => {
  const dir = join(root, 'demo');
  ensureDemoEnvironment(dir, { say: () => {} });
  const db = await dbs.fresh('embedded');
  await seedDemoHost(db, dir);

  const cards = readdirSync(dir)
    .filter((f) => /^(payer-card|payee-card|tray-[a-z]+)\.json$/.test(f))
    .map((f) => loadCardState(join(dir, f)));
  expect(cards).toHaveLength(6);
  const ledger = await balances(db);
  for (const card of cards) {
    expect(ledger.find((b) => b.kind === 'card' && b.ref === card.holderId)?.balance, card.holderId).toBe(
      BigInt(card.balance),
    );
  }
  const total = cards.reduce((s, c) => s + BigInt(c.balance), 0n);
  expect(ledger.find((b) => b.kind === 'issuer')).toMatchObject({
    ref: 'e-money',
    currency: 978,
    balance: -total,
  });
  expect(ledger.reduce((s, b) => s + b.balance, 0n)).toBe(0n);

  const before = await hostSnapshot(db, { withNonces: false });
  await seedDemoHost(db, dir); // the next start
  expect(await hostSnapshot(db, { withNonces: false })).toEqual(before);
  expect(readdirSync(dir)).toContain(ISSUED_CARDS_FILE);
}, 60_000);
