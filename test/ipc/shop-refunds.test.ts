// Refunds over the contract, against the real services of the demo shop: the shop's card (payee slot)
// pays back part or all of a sale to the customer's card (payer slot), with the shop card's PIN and a
// supervisor's confirmation given for that refund. Every refusal is tried as a hostile screen would
// send it — a cashier alone, a wrong supervisor PIN, a cashier's PIN as the supervisor's, more than
// the sale, twice, another customer's card, a refund of a refund, two at once — and each leaves the
// cards and the journal's money as they were.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PIN, type ShopTerminal, startShopTerminal } from '../support/shop-terminal.js';

let t: ShopTerminal;
const A = 'screen-a';

/** A sale of `amount` from Alice to the shop, as the cashier makes it; returns its flow ID. */
async function sale(amount: number): Promise<string> {
  const r = await t.ok(A, 'transfer:run', { amount });
  if (r.status !== 'completed') throw new Error(`sale ${r.status}`);
  return r.flowId;
}

const refund = (
  saleFlowId: string,
  amount: number,
  supervisor: { operatorId: string; pin: string } = { operatorId: 'sam', pin: PIN.sam },
) => t.call(A, 'refund:run', { saleFlowId, amount, shopPin: PIN.shop, supervisor });

function refundsOf(saleFlowId: string) {
  return t.services.flows
    .all()
    .map((f) => t.services.journal.entriesForFlow(f.flowId))
    .filter((e) => e[0]?.payload.refundOf === saleFlowId);
}

beforeEach(async () => {
  t = await startShopTerminal();
  await t.signIn('casey');
});
afterEach(async () => {
  await t.close();
});

describe('a refund', () => {
  it('pays the sale back from the shop card to the customer card, journaled as its refund with who did it', async () => {
    const id = await sale(15_00);
    const before = t.balances();
    const r = await refund(id, 15_00);
    expect(r).toMatchObject({ ok: true, value: { status: 'completed' } });
    expect(t.balances()).toEqual({ alice: before.alice + 15_00, shop: before.shop - 15_00 });
    const [entries] = refundsOf(id);
    expect(entries?.[0]?.payload).toMatchObject({
      refundOf: id,
      operator: 'casey',
      confirmedBy: 'sam',
      amount: 15_00,
      payerSlot: 'payee',
      payeeSlot: 'payer',
      payerLabel: 'Corner Shop',
      payeeLabel: 'Alice',
    });
    expect(entries?.at(-1)?.step).toBe('completed');
    expect(await t.ok(A, 'refund:check', { saleFlowId: id })).toMatchObject({ refunded: 15_00, left: 0 });
    const receipt = r.ok && r.value.status === 'completed' ? r.value.receipt : undefined;
    expect(receipt).toMatchObject({ kind: 'refund', title: 'Refund', result: { code: 'completed' } });
    expect(receipt?.body).toContainEqual({ label: 'Refund of', value: id });
  });

  it('may be partial, and the parts never add up to more than the sale', async () => {
    const id = await sale(10_00);
    expect(await refund(id, 4_00)).toMatchObject({ ok: true, value: { status: 'completed' } });
    expect(await t.ok(A, 'refund:check', { saleFlowId: id })).toMatchObject({ refunded: 4_00, left: 6_00 });
    const before = t.balances();
    expect(await refund(id, 6_01)).toMatchObject({
      ok: false,
      error: { code: 'E_REFUND_LIMIT', details: { left: 6_00 } },
    });
    expect(t.balances()).toEqual(before);
    expect(await refund(id, 6_00)).toMatchObject({ ok: true, value: { status: 'completed' } });
  });

  it('is refused for more than the sale, and twice, with nothing moved or journaled', async () => {
    const id = await sale(5_00);
    const flows = t.services.flows.all().length;
    const before = t.balances();
    expect(await refund(id, 5_01)).toMatchObject({ ok: false, error: { code: 'E_REFUND_LIMIT' } });
    expect(t.balances()).toEqual(before);
    expect(t.services.flows.all()).toHaveLength(flows);
    expect(await refund(id, 5_00)).toMatchObject({ ok: true });
    const after = t.balances();
    expect(await refund(id, 1)).toMatchObject({
      ok: false,
      error: { code: 'E_REFUND_LIMIT', message: 'this sale has been refunded in full' },
    });
    expect(t.balances()).toEqual(after);
    expect(refundsOf(id)).toHaveLength(1);
  });

  it('is refused to a cashier alone, with a wrong supervisor PIN, and with a cashier as the supervisor', async () => {
    const id = await sale(5_00);
    const before = t.balances();
    const journal = t.services.journal.verify();
    // No supervisor at all: the request does not validate (the contract requires one).
    expect(
      await t.call(A, 'refund:run', { saleFlowId: id, amount: 100, shopPin: PIN.shop } as never),
    ).toMatchObject({ ok: false, error: { code: 'E_INPUT_INVALID' } });
    expect(await refund(id, 100, { operatorId: 'sam', pin: '1112' })).toMatchObject({
      ok: false,
      error: { code: 'E_PIN_WRONG' },
    });
    expect(await refund(id, 100, { operatorId: 'casey', pin: PIN.casey })).toMatchObject({
      ok: false,
      error: { code: 'E_ACCESS_DENIED', details: { reason: 'not-a-supervisor' } },
    });
    expect(await refund(id, 100, { operatorId: 'nobody', pin: PIN.sam })).toMatchObject({
      ok: false,
      error: { code: 'E_PIN_WRONG' },
    });
    expect(t.balances()).toEqual(before);
    expect(t.services.journal.verify()).toEqual(journal);
    // The shop card's PIN was never tried: its tries are all left.
    expect(t.cards.shop!.store.read().owner?.tries).toBe(3);
  });

  it('needs the supervisor’s PIN even from a signed-in supervisor', async () => {
    await t.signIn('sam');
    const id = await sale(5_00);
    expect(
      await t.call(A, 'refund:run', { saleFlowId: id, amount: 100, shopPin: PIN.shop } as never),
    ).toMatchObject({
      ok: false,
    });
    expect(await refund(id, 100)).toMatchObject({ ok: true, value: { status: 'completed' } });
  });

  it('is refused with a wrong shop card PIN: the card counts the try, nothing moves', async () => {
    const id = await sale(5_00);
    const before = t.balances();
    const r = await t.call(A, 'refund:run', {
      saleFlowId: id,
      amount: 100,
      shopPin: '9999',
      supervisor: { operatorId: 'sam', pin: PIN.sam },
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'E_PIN_WRONG', details: { slot: 'payee' } } });
    expect(t.balances()).toEqual(before);
    expect(refundsOf(id)).toEqual([]);
  });

  it('is refused when the customer card in the payer slot is not the sale’s', async () => {
    const id = await sale(5_00);
    await t.ok(A, 'tray:move', { card: 'alice', to: 'tray' });
    await t.ok(A, 'tray:move', { card: 'bob', to: 'payer' });
    const bob = t.cards.bob!.store.read().balance;
    const shop = t.cards.shop!.store.read().balance;
    // Refused inside the engine's lock, once both cards are read: an outcome, not a transport error.
    expect(await refund(id, 100)).toMatchObject({
      ok: true,
      value: {
        status: 'refused',
        error: { code: 'E_INPUT_INVALID', message: expect.stringContaining('not the cards of that sale') },
      },
    });
    expect(t.cards.bob!.store.read().balance).toBe(bob);
    expect(t.cards.shop!.store.read().balance).toBe(shop);
    expect(refundsOf(id)).toEqual([]);
  });

  it('is refused for what is no sale: a refund, an unknown flow, a flow of another kind', async () => {
    const id = await sale(5_00);
    const r = await refund(id, 100);
    const refundId = r.ok && r.value.status === 'completed' ? r.value.flowId : '';
    for (const saleFlowId of [refundId, 'no-such-flow', keyUpdateFlow()]) {
      expect(await refund(saleFlowId, 1), saleFlowId).toMatchObject({
        ok: false,
        error: { code: 'E_INPUT_INVALID' },
      });
    }
    function keyUpdateFlow(): string {
      return t.services.flows.all().find((f) => f.flowKind === 'key-update')?.flowId ?? 'none';
    }
  });

  it('two refunds of the same sale at once from two screens never pay back more than the sale', async () => {
    const id = await sale(8_00);
    const before = t.balances();
    const both = await Promise.all([
      t.call('screen-a', 'refund:run', {
        saleFlowId: id,
        amount: 8_00,
        shopPin: PIN.shop,
        supervisor: { operatorId: 'sam', pin: PIN.sam },
      }),
      t.call('screen-b', 'refund:run', {
        saleFlowId: id,
        amount: 8_00,
        shopPin: PIN.shop,
        supervisor: { operatorId: 'sam', pin: PIN.sam },
      }),
    ]);
    const completed = both.filter((r) => r.ok && r.value.status === 'completed');
    expect(completed).toHaveLength(1);
    expect(both.filter((r) => !r.ok).map((r) => !r.ok && r.error.code)).toEqual([
      expect.stringMatching(/^E_(BUSY|REFUND_LIMIT)$/),
    ]);
    expect(t.balances()).toEqual({ alice: before.alice + 8_00, shop: before.shop - 8_00 });
  });
});
