// Power is cut at every persistent write of a value transfer, of a key update, and of a release and
// its refund or return (value and contents), before and after the write. After power returns, each
// card is in one of the protocol's valid states, and card-level recovery (the same steps the
// terminal's recovery uses) settles the transfer with the total kept.
import { describe, expect, it } from 'vitest';
import type { TearingDecision } from '../../card-sim/os/persistent-store.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { KEY_ROUTE, RECORD_STATUS } from '../../protocol/settlement/commands.js';
import { makePair, NOW, type TestCard, transfer, transferUpToDebit } from '../support/card-fixtures.js';
import { shopAndCustomer } from '../support/content-fixtures.js';

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

describe('tearing during a release and its refund (protocol §4.5, §9.1)', () => {
  const decisions = ['cut-before-write', 'cut-after-write'] as const;

  /** The payer has debited 100; the payee holds it pending. */
  async function inFlight() {
    const { a, b } = await makePair({ balance: 1000 }, { balance: 500 });
    return { a, b, ...(await transferUpToDebit(a, b, 100)) };
  }

  it.each(decisions)(
    'RELEASE CREDIT (%s): pending or released, and the retry gives the one proof',
    async (decision) => {
      const { a, b, txRandom, rxRandom } = await inFlight();
      cutAt(b, 0, decision);
      await expect(b.client.releaseCredit(txRandom)).rejects.toThrow();
      b.sim.store.tearing = undefined;
      await b.reinsert();
      const record = await b.client.transactionStatus(txRandom);
      expect(record.status).toBe(
        decision === 'cut-before-write' ? RECORD_STATUS.CREDIT_PENDING : RECORD_STATUS.CREDIT_RELEASED,
      );
      const proof = await b.client.releaseCredit(txRandom);
      if (decision === 'cut-after-write') expect(proof).toEqual(record.proof);
      await a.client.refundDebit(txRandom, rxRandom, proof);
      expect([a.state().balance, b.state().balance]).toEqual([1000, 500]);
    },
  );

  it.each(decisions)('REFUND DEBIT (%s): debited or refunded, never paid back twice', async (decision) => {
    const { a, b, txRandom, rxRandom } = await inFlight();
    const proof = await b.client.releaseCredit(txRandom);
    cutAt(a, 0, decision);
    await expect(a.client.refundDebit(txRandom, rxRandom, proof)).rejects.toThrow();
    a.sim.store.tearing = undefined;
    await a.reinsert();
    expect(a.state().balance).toBe(decision === 'cut-before-write' ? 900 : 1000);
    await a.client.refundDebit(txRandom, rxRandom, proof);
    await a.client.refundDebit(txRandom, rxRandom, proof);
    expect((await a.client.transactionStatus(txRandom)).status).toBe(RECORD_STATUS.DEBIT_REFUNDED);
    expect([a.state().balance, b.state().balance]).toEqual([1000, 500]);
  });

  it.each(decisions)(
    'CONTENT RELEASE and RETURN in an exchange (%s): the first half and the responder’s own half together',
    async (decision) => {
      const { customer, shop, item, ids } = await shopAndCustomer();
      const x = await customer.client.contentSend(1, 1, ids.a, 1500);
      const commitX = await shop.client.contentReceive(ids.b, x.txId, undefined, x.sealed);
      const y = await shop.client.contentSend(0, 2, ids.b, fromHex(item.id), x.txId);
      await customer.client.contentReceive(ids.a, y.txId, x.txId, y.sealed);
      await customer.client.contentCommit(x.txId, commitX);
      const statuses = (card: TestCard) => card.state().contentLog.map((r) => r.status);

      cutAt(shop, 0, decision);
      await expect(shop.client.contentRelease(x.txId)).rejects.toThrow();
      shop.sim.store.tearing = undefined;
      await shop.reinsert();
      // Both halves changed in one write, or neither.
      expect(statuses(shop)).toEqual(
        decision === 'cut-before-write' ? ['pending', 'open'] : ['released', 'aborted'],
      );
      const proof = await shop.client.contentRelease(x.txId);

      cutAt(customer, 0, decision);
      await expect(customer.client.contentReturn(x.txId, proof)).rejects.toThrow();
      customer.sim.store.tearing = undefined;
      await customer.reinsert();
      expect(statuses(customer)).toEqual(
        decision === 'cut-before-write' ? ['deleted', 'pending'] : ['returned', 'discarded'],
      );
      await customer.client.contentReturn(x.txId, proof);
      await customer.client.contentReturn(x.txId, proof);
      expect([customer.state().balance, shop.state().balance]).toEqual([5000, 0]);
      expect(shop.state().contents.map((i) => [i.id, i.lockedBy])).toEqual([[item.id, undefined]]);
    },
  );
});
