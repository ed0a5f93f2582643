// Flows that recovery opens, a record adopted from a card (origin found-on-card) and a release proof
// delivered from elsewhere (origin delivered), are indexed with their facts like the flows the
// engines run: amount, currency and both cards. Without them the log's search by card never found
// them and the index's day summary (Flows.summary) counted them with no amount: the fleet soak saw a
// transfer recovered at a second terminal missing from that terminal's indexed total.
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.js';
import { hostileReader, makeCard, TEST_CURRENCY, TEST_PIN } from '../support/card-fixtures.js';
import { shopTerminal, termsWith } from '../support/terminal-fixtures.js';

const AMOUNT = 3000;

/** Mallory's card pays the shop card in a hostile terminal that stops after DEBIT. */
async function strandedPayment() {
  const customer = await makeCard({ balance: 10_000 });
  const shop = await makeCard({ balance: 0 });
  const mallory = await makeCard({ balance: 10_000 });
  const m = await hostileReader(mallory);
  await m.verifyPin(TEST_PIN);
  const s = await hostileReader(shop);
  const debit = await m.initiateDebit(termsWith(shop, AMOUNT));
  const credit = await s.initiateCredit(termsWith(mallory, AMOUNT), debit);
  await m.debit(debit.txRandom, credit.rxRandom, credit.challenge);
  return { customer, shop, mallory };
}

const day = { from: new Date('2000-01-01T00:00:00Z'), to: new Date('2100-01-01T00:00:00Z') };

describe('flows opened by recovery carry their facts in the log’s index', () => {
  it('a pending credit adopted from a card: amount, currency and both cards, found by either card', async () => {
    const { customer, shop, mallory } = await strandedPayment();
    const a = await shopTerminal({ payer: customer, payee: shop });
    await a.recovery.run(); // the shop card's pending credit is foreign: adopted, then released
    const adopted = a.t.flows.all().find((f) => f.flowKind === 'value-transfer')!;
    expect(a.t.journal.entriesForFlow(adopted.flowId)[0]!.payload).toMatchObject({ origin: 'found-on-card' });
    expect(a.t.flows.flow(adopted.flowId)).toMatchObject({
      amount: AMOUNT,
      currency: TEST_CURRENCY,
      cards: [{ holderId: toHex(mallory.holderId) }, { holderId: toHex(shop.holderId) }],
    });
    for (const card of [mallory, shop]) {
      const found = a.t.flows.search({ holderId: toHex(card.holderId) }, { limit: 10 }).flows;
      expect(found.map((f) => f.flowId)).toContain(adopted.flowId);
    }
  });

  it('a release proof delivered at another terminal: its flow is indexed with the amount it gives back', async () => {
    const { customer, shop, mallory } = await strandedPayment();
    const a = await shopTerminal({ payer: customer, payee: shop });
    await a.recovery.run();
    const [delivery] = a.recovery.pendingDeliveries();
    const b = await shopTerminal({ payer: mallory, payee: await makeCard({ balance: 0 }) });
    const delivered = await b.recovery.deliver(delivery);
    expect(delivered.outcome).toBe('rolled-back');
    expect(b.t.flows.flow(delivered.flowId)).toMatchObject({
      amount: AMOUNT,
      currency: TEST_CURRENCY,
      cards: [{ holderId: toHex(mallory.holderId) }, { holderId: toHex(shop.holderId) }],
      lastStep: 'refunded',
    });
    const refunded = b.t.flows.summary(day).lines.filter((l) => l.kind === 'value-transfer');
    expect(refunded).toEqual([expect.objectContaining({ outcome: 'refunded', count: 1, amount: AMOUNT })]);
  });
});
