// Power is cut at every persistent write of a value transfer and of a key update, before and after
// the write. After power returns, each card is in one of the protocol's valid states, and card-level
// recovery (the same steps the terminal's recovery uses) settles the transfer with the total kept.
import { describe, expect, it } from 'vitest';
import type { TearingDecision } from '../../card-sim/os/persistent-store.js';
import { toHex } from '../../protocol/bytes.js';
import { KEY_ROUTE, RECORD_STATUS } from '../../protocol/settlement/commands.js';
import { makePair, NOW, type TestCard, transfer } from '../support/card-fixtures.js';

function cutAt(card: TestCard, index: number, decision: TearingDecision): void {
  const base = card.sim.store.commitCount;
  card.sim.store.tearing = (i) => (i === base + index ? decision : 'proceed');
}

/** Settles every unsettled record of the payer with the payee, as the terminal's recovery does. */
async function recover(a: TestCard, b: TestCard): Promise<void> {
  for (const card of [a, b]) {
    card.sim.store.tearing = undefined;
    await card.reinsert();
  }
  for (const record of await a.client.unsettledTransactions()) {
    if (record.role !== 'debit') continue;
    const pendingAtB = (await b.client.unsettledTransactions()).some(
      (r) => toHex(r.txRandom) === toHex(record.txRandom),
    );
    if (record.status === RECORD_STATUS.DEBIT_OPEN) {
      const proof = await a.client.abortDebit(record.txRandom);
      if (pendingAtB) await b.client.cancelCredit(record.txRandom, proof);
    } else if (record.status === RECORD_STATUS.DEBIT_DEBITED) {
      if (pendingAtB) await b.client.credit(record.txRandom, record.proof);
      const credited = await b.client.transactionStatus(record.txRandom);
      await a.client.acknowledgeDebit(record.txRandom, credited.proof);
    }
  }
  // Pending credits whose payer record says aborted (the abort was committed, its answer lost).
  for (const record of await b.client.unsettledTransactions()) {
    const payer = await a.client.transactionStatus(record.txRandom);
    if (payer.status === RECORD_STATUS.DEBIT_ABORTED)
      await b.client.cancelCredit(record.txRandom, payer.proof);
  }
}

describe('tearing during a value transfer', () => {
  // Commits: payer INITIATE DEBIT, DEBIT, ACKNOWLEDGE (3); payee INITIATE CREDIT, CREDIT (2).
  const points = (['a', 'b'] as const).flatMap((who) =>
    Array.from({ length: who === 'a' ? 3 : 2 }, (_, i) =>
      (['cut-before-write', 'cut-after-write'] as const).map((d) => [who, i, d] as const),
    ).flat(),
  );

  it.each(points)('power cut on card %s at write #%i (%s)', async (who, index, decision) => {
    const { a, b } = await makePair({ balance: 1000 }, { balance: 500 });
    cutAt(who === 'a' ? a : b, index, decision);
    const outcome = await transfer(a, b, 100).then(
      () => 'completed',
      () => 'interrupted',
    );
    expect(outcome).toBe('interrupted');
    // Valid states right after the cut: the store decodes (schema-checked) and no value is created.
    const [sa, sb] = [a.state(), b.state()];
    expect(sa.balance + sb.balance).toBeLessThanOrEqual(1500);
    expect([1000, 900]).toContain(sa.balance);
    expect([500, 600]).toContain(sb.balance);
    await recover(a, b);
    const [ra, rb] = [a.state(), b.state()];
    expect(ra.balance + rb.balance).toBe(1500);
    expect([ra.balance, rb.balance]).toEqual(ra.balance === 1000 ? [1000, 500] : [900, 600]);
    expect(await a.client.unsettledTransactions()).toEqual([]);
    expect(await b.client.unsettledTransactions()).toEqual([]);
    await transfer(a, b, 1); // both cards remain usable
  });
});

describe('tearing during a key update', () => {
  it.each([
    [KEY_ROUTE.COMMON_KEY, 'cut-before-write'],
    [KEY_ROUTE.COMMON_KEY, 'cut-after-write'],
    [KEY_ROUTE.PUBLIC_KEY, 'cut-before-write'],
    [KEY_ROUTE.PUBLIC_KEY, 'cut-after-write'],
    [KEY_ROUTE.PRESTORED_SWITCH, 'cut-before-write'],
    [KEY_ROUTE.PRESTORED_SWITCH, 'cut-after-write'],
  ] as const)('route %i, %s: the keys are all old or all new', async (route, decision) => {
    const { a, b } = await makePair(
      { transferKeyId: 1, updateKeyId: 1, prestoredTransferKeyIds: [3] },
      { transferKeyId: 3, updateKeyId: route === KEY_ROUTE.PUBLIC_KEY ? 2 : 1 },
    );
    const keysOf = (c: TestCard) => {
      const s = c.state();
      return JSON.stringify([
        s.transferKeyId,
        s.transferKeys[String(s.transferKeyId)],
        s.updateKeyId,
        s.updateKey,
      ]);
    };
    const old = keysOf(a);
    const random = await a.client.beginKeyUpdate(
      route,
      NOW,
      route === KEY_ROUTE.PUBLIC_KEY ? (await b.client.getCardInfo()).certificate : undefined,
    );
    const exported = await b.client.exportTransferKey(
      route,
      NOW,
      random,
      route === KEY_ROUTE.PUBLIC_KEY ? (await a.client.getCardInfo()).certificate : a.holderId,
    );
    cutAt(a, 0, decision);
    await expect(a.client.applyKeyUpdate(route, exported)).rejects.toThrow();
    a.sim.store.tearing = undefined;
    await a.reinsert();
    const s = a.state();
    const expectedNew = JSON.stringify([
      3,
      b.state().transferKeys['3'],
      b.state().updateKeyId,
      b.state().updateKey,
    ]);
    expect(keysOf(a)).toBe(decision === 'cut-before-write' ? old : expectedNew);
    expect(s.transferKeys[String(s.transferKeyId)]).toBeDefined();
  });
});
